"""Counting failed logins, per email and per client IP.

After ``LOGIN_FAILURE_LIMIT`` failures in a window of ``LOGIN_FAILURE_WINDOW_SECONDS``,
further attempts for that email or from that IP are refused with 429 and ``Retry-After``
until the window ends, whatever the password. Counters live in the cache, which is Redis
in production, so every web process sees the same counts.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.exceptions import Throttled


def _keys(kind: str, value: str) -> tuple[str, str]:
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    base = f"login-failures:{kind}:{digest}"
    return base, f"{base}:start"


def _subjects(email: str, ip: str | None) -> list[tuple[str, str]]:
    subjects = [("email", email.strip().lower())]
    if ip:
        subjects.append(("ip", ip))
    return subjects


def check_login_allowed(email: str, ip: str | None) -> None:
    """Raise ``Throttled`` if the email or the IP has used up its failures."""
    limit = settings.LOGIN_FAILURE_LIMIT
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    wait = 0.0
    for kind, value in _subjects(email, ip):
        count_key, start_key = _keys(kind, value)
        values = cache.get_many([count_key, start_key])
        if values.get(count_key, 0) >= limit:
            started = values.get(start_key, time.time())
            wait = max(wait, window - (time.time() - started))
    if wait > 0:
        raise Throttled(
            wait=math.ceil(wait),
            detail="Too many failed sign-in attempts. Try again later.",
        )


def record_login_failure(email: str, ip: str | None) -> None:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    for kind, value in _subjects(email, ip):
        count_key, start_key = _keys(kind, value)
        if cache.add(count_key, 0, timeout=window):
            cache.set(start_key, time.time(), timeout=window)
        try:
            cache.incr(count_key)
        except ValueError:  # expired between add and incr
            cache.set(count_key, 1, timeout=window)
            cache.set(start_key, time.time(), timeout=window)


def clear_login_failures(email: str) -> None:
    """A successful sign-in forgives that email's failures (not the IP's)."""
    cache.delete_many(_keys("email", email.strip().lower()))
