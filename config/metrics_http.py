"""``GET /metrics`` for Prometheus, who may read it, and the request-latency series.

Who may read: with ``METRICS_TOKEN`` set, a request must carry ``Authorization: Bearer
<token>`` (compared in constant time); with ``METRICS_ALLOWED_NETWORKS`` non-empty, it
must come from one of those networks (the address is ``accounts.net.client_ip``'s, which
honours ``TRUSTED_PROXY_COUNT``). Each that is configured must pass. With neither
configured nobody may: metrics say which cameras exist and how busy the system is.
Refusals are plain text (the endpoint is not part of the API): 401 for a missing or wrong
token, 403 for an address outside the networks.
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from collections.abc import Callable, Sequence
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from accounts.net import client_ip
from config.metrics import counter, exposition, histogram

REQUEST_LATENCY = histogram(
    "http_request_duration_seconds",
    "Time from a request reaching Django to its response, by route name (never the raw "
    "path, so the label set stays bounded), method and status class.",
    ["view", "method", "status"],
)
REQUESTS_REFUSED = counter(
    "metrics_scrapes_refused",
    "Requests for /metrics refused, by reason (token, address, disabled).",
    ["reason"],
)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@lru_cache(maxsize=8)
def _networks(
    cidrs: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in cidrs)


def check_networks(cidrs: Sequence[str]) -> None:
    """Raise ``ValueError`` naming the first entry that is not a network."""
    for cidr in cidrs:
        try:
            ipaddress.ip_network(cidr.strip(), strict=False)
        except ValueError as exc:
            raise ValueError(f"METRICS_ALLOWED_NETWORKS: {cidr!r} is not a network") from exc


def _refusal(request: HttpRequest) -> tuple[int, str] | None:
    """Why this request may not read the metrics (status, reason), or None."""
    token = settings.METRICS_TOKEN
    cidrs = tuple(settings.METRICS_ALLOWED_NETWORKS)
    if not token and not cidrs:
        return 403, "disabled"
    if token:
        scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            return 401, "token"
    if cidrs:
        address = _address(client_ip(request))
        if address is None or not any(address in network for network in _networks(cidrs)):
            return 403, "address"
    return None


def _address(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The client's address; an IPv4 client of a dual-stack socket (``::ffff:10.0.0.5``)
    as the IPv4 address it is, so that IPv4 networks match it."""
    if text is None:
        return None
    address = ipaddress.ip_address(text)
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """The Prometheus text format, once the request has passed the checks above."""
    return metrics_response(request)


def metrics_response(request: HttpRequest, *, from_database: bool = True) -> HttpResponse:
    """The scrape or its refusal; ``config.metrics_server`` answers with it too."""
    refusal = _refusal(request)
    if refusal is not None:
        status, reason = refusal
        REQUESTS_REFUSED.labels(reason).inc()
        messages = {
            "disabled": "Metrics are off: set METRICS_TOKEN or METRICS_ALLOWED_NETWORKS.\n",
            "token": "A valid bearer token is required.\n",
            "address": "Metrics are not served to this address.\n",
        }
        response = HttpResponse(messages[reason], status=status, content_type="text/plain")
        if status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body, content_type = exposition(from_database=from_database)
    return HttpResponse(body, content_type=content_type)


class RequestMetricsMiddleware:
    """Times every request into ``presence_http_request_duration_seconds``.

    The view label is the matched route's name (``cameras-detail``, ``admin:index``), or
    ``unresolved`` when no route matched (a request refused before routing, a static
    file): a client choosing paths cannot grow the set of series.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Pass the request on and observe how long it took."""
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or match.route) if match is not None else "unresolved"
        method = request.method if request.method in _METHODS else "other"
        REQUEST_LATENCY.labels(view, method, f"{response.status_code // 100}xx").observe(
            time.perf_counter() - started
        )
        return response
