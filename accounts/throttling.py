"""Limiting password guesses, per account and per client address.

Every password check (the API's sign-in, the admin's sign-in, a password change) is an
attempt. An attempt is counted before the password is checked, and decided on the count
that the increment returns (``config.counters``): of many attempts sent at once, only as
many as the limit reach the password check. A correct password takes its attempt back.

Two counts, so that one cannot lock out the other:

* per account (the email as typed, normalised): ``LOGIN_FAILURE_LIMIT`` guesses per
  ``LOGIN_FAILURE_WINDOW_SECONDS``; a correct sign-in clears it;
* per client address (``accounts.net.client_ip``): ``LOGIN_ADDRESS_FAILURE_LIMIT``, well
  above the account limit, so that one person's typos behind an office's shared address do
  not lock out their colleagues, while one address still cannot guess across accounts.

Over either limit the attempt is refused with ``config.errors.Throttled`` (429 with
``Retry-After`` in the API, a form error in the admin) until the window ends, whatever the
password.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings

from config import counters
from config.errors import Throttled


def throttled_message(retry_after: int) -> str:
    """What a throttled user reads, in the API and in the admin."""
    return f"Too many failed sign-in attempts. Try again in {retry_after} seconds."


def _account_key(email: str) -> str:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return f"login-failures:account:{digest}"


def _address_key(ip: str) -> str:
    return f"login-failures:address:{ip}"


@dataclass(frozen=True)
class LoginAttempt:
    """One counted password check; ``succeeded`` when the password was right."""

    account_key: str
    address_key: str | None

    def succeeded(self) -> None:
        """A correct password forgives its account's failures and does not count against
        the address."""
        counters.forget(self.account_key)
        if self.address_key is not None:
            counters.refund(self.address_key)

    def failed(self) -> None:
        """A wrong password: the attempt stays counted."""


def begin_login_attempt(email: str, ip: str | None) -> LoginAttempt:
    """Count an attempt to sign in as ``email`` from ``ip``, before checking the password.

    Raises ``Throttled`` when the account or the address is over its limit. The refused
    attempt is taken back from the count that was not over, so that a locked address
    does not also use up the guesses of the accounts tried from it.
    """
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    limits: list[tuple[str, int]] = [(_account_key(email), settings.LOGIN_FAILURE_LIMIT)]
    if ip:
        limits.append((_address_key(ip), settings.LOGIN_ADDRESS_FAILURE_LIMIT))
    counts = [(key, limit, counters.hit(key, window)) for key, limit in limits]
    over = [count.retry_after for _key, limit, count in counts if count.count > limit]
    if over:
        for key, limit, count in counts:
            if count.count <= limit:
                counters.refund(key)
        wait = max(over)
        raise Throttled(throttled_message(wait), retry_after=wait)
    return LoginAttempt(account_key=limits[0][0], address_key=limits[1][0] if ip else None)
