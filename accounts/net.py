"""The client's IP address, honouring only as many proxies as configured."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The address that connected, or, behind ``TRUSTED_PROXY_COUNT`` proxies, the one
    they report. Forwarded headers are ignored otherwise, since any client can send them.

    The one place that decides a client's address: throttles, audit rows and the admin
    all ask here (a DRF ``Request`` passes its ``META`` through). The ``N``th hop from the
    end is the one the nearest of ``N`` trusted proxies wrote; hops before it are the
    client's own claims. daphne must not run with ``--proxy-headers``, which would put
    the first, forgeable hop in ``REMOTE_ADDR``.
    """
    candidate = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            candidate = hops[-proxies]
    try:
        return str(ipaddress.ip_address(candidate)) if candidate else None
    except ValueError:
        return None
