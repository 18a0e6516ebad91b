"""Request rates per user, for the whole API and for the costly endpoints.

DRF's own throttles keep a list of timestamps that they read and then write back (two
requests at once both pass), trust the first ``X-Forwarded-For`` hop for the address of
anonymous clients, and stop throttling silently when the cache is down. These count with
``config.counters`` instead (one atomic increment, a per-process count while Redis is
down) and take the address from ``accounts.net.client_ip``.

Rates come from ``settings.THROTTLE_RATES`` (``THROTTLE_*_RATE`` in the environment),
read on every request, as DRF's ``"number/period"`` (period ``s``, ``min``, ``h``, ``day``);
an empty rate turns that throttle off. ``UserRateThrottle`` applies to every request,
per user (per address for anonymous ones); ``ScopedRateThrottle`` adds the limit of the
view's ``throttle_scope`` ("identify", "verify", "camera_test"), counted on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from rest_framework.throttling import BaseThrottle

from accounts.net import client_ip
from config import counters

if TYPE_CHECKING:  # DRF imports the throttles while rest_framework.views loads
    from rest_framework.request import Request
    from rest_framework.views import APIView

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """``"60/min"`` as (60, 60 seconds); None for an empty rate (no limit)."""
    if not rate:
        return None
    number, _, period = rate.partition("/")
    try:
        return int(number), _PERIODS[period.strip()[:1]]
    except (KeyError, ValueError):
        raise ImproperlyConfigured(
            f"Throttle rate {rate!r} is not 'number/period' (period s, min, h or day)"
        ) from None


def rate_for(scope: str) -> tuple[int, int] | None:
    """The configured rate of ``scope``; a scope without one is a configuration error."""
    rates = settings.THROTTLE_RATES
    if scope not in rates:
        raise ImproperlyConfigured(f"No throttle rate for scope {scope!r} in THROTTLE_RATES")
    return parse_rate(rates[scope])


class CountingRateThrottle(BaseThrottle):
    """A fixed-window request count per scope and client, decided on the increment."""

    def __init__(self) -> None:
        self._wait: int | None = None

    def scope_for(self, view: APIView) -> str | None:
        """The scope whose rate applies to ``view``, or None for no limit."""
        raise NotImplementedError

    def get_ident(self, request: Request) -> str:
        """The client's address as ``accounts.net`` decides it, never a forwarded header
        that was not added by a trusted proxy."""
        return client_ip(request) or "unknown"

    def client_key(self, request: Request) -> str:
        """Signed-in users are counted per user, others per address."""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return f"user:{user.pk}"
        return f"address:{self.get_ident(request)}"

    def allow_request(self, request: Request, view: APIView) -> bool:
        """Count this request and allow it while the count is within the rate."""
        scope = self.scope_for(view)
        rate = rate_for(scope) if scope else None
        if rate is None:
            return True
        limit, seconds = rate
        result = counters.hit(f"throttle:{scope}:{self.client_key(request)}", seconds)
        if result.count <= limit:
            return True
        self._wait = result.retry_after
        return False

    def wait(self) -> int | None:
        """Seconds until the window that refused the request ends (``Retry-After``)."""
        return self._wait


class UserRateThrottle(CountingRateThrottle):
    """Every API request, per user: ``THROTTLE_USER_RATE``."""

    def scope_for(self, view: APIView) -> str | None:
        """The "user" scope, for every view."""
        return "user"


class ScopedRateThrottle(CountingRateThrottle):
    """The extra limit of views (or viewset actions) that set ``throttle_scope``."""

    def scope_for(self, view: APIView) -> str | None:
        """The view's ``throttle_scope``, if it has one."""
        return getattr(view, "throttle_scope", None)
