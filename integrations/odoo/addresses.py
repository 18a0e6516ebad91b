"""Which addresses the Odoo base URL may point at: the guard against server-side requests.

Unlike a camera, Odoo is usually on the internet or a LAN, so the rule is a block-list,
not an allow-list: ``ODOO_BLOCKED_NETWORKS`` (by default link-local, where cloud metadata
services answer, plus the unspecified and multicast ranges) and loopback, which is refused
unless ``ODOO_ALLOW_LOOPBACK`` is set (tests and the demo run the emulator on loopback).
Without the rule, the connection test would turn the server into a probe of its own
services (``http://127.0.0.1:6379``) and of the metadata service. The literal host, in
every form the resolver accepts, and every address a name resolves to are checked when
the URL is saved and again before each connection. Pure functions: callers pass settings.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from cameras.addresses import (
    HostNotFound,
    IPAddress,
    is_allowed,
    literal_address,
    parse_networks,
    resolve,
)
from integrations.odoo.faults import OdooAddressRefused, OdooConfigError

SCHEMES = ("http", "https")
DEFAULT_BLOCKED_NETWORKS = (
    "169.254.0.0/16",
    "fe80::/10",
    "0.0.0.0/8",
    "::/128",
    "224.0.0.0/4",
    "ff00::/8",
)
LOOPBACK_NETWORKS = ("127.0.0.0/8", "::1/128")


def check_base_url_shape(url: str) -> None:
    """Raise ``OdooConfigError`` unless ``url`` is an http(s) URL with a host."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise OdooConfigError("The Odoo URL is malformed (check the port).") from exc
    del port
    if parts.scheme.lower() not in SCHEMES:
        raise OdooConfigError("The Odoo URL must start with http:// or https://.")
    if not parts.hostname:
        raise OdooConfigError("The Odoo URL has no host.")
    if parts.username or parts.password:
        raise OdooConfigError("The Odoo URL must not carry credentials; use login and API key.")


def _refused(address: IPAddress, networks: Iterable[str]) -> bool:
    return is_allowed(address, parse_networks(tuple(networks)))


def check_base_url(
    url: str,
    blocked: Iterable[str],
    *,
    allow_loopback: bool,
    require_dns: bool,
) -> None:
    """Raise ``OdooAddressRefused`` when the URL's host is, or resolves to, a refused
    address; ``OdooConfigError`` when it is not an http(s) URL. A name that does not
    resolve passes unless ``require_dns`` (it is refused when connecting instead)."""
    check_base_url_shape(url)
    parts = urlsplit(url)
    host = parts.hostname or ""
    literal = literal_address(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = resolve(host, parts.port)
        except HostNotFound as exc:
            if require_dns:
                raise OdooConfigError(f"The Odoo host {host!r} was not found (DNS).") from exc
            return
    refused = list(blocked) + ([] if allow_loopback else list(LOOPBACK_NETWORKS))
    for address in addresses:
        if _refused(address, refused):
            where = host if host.strip("[]") == str(address) else f"{host} ({address})"
            raise OdooAddressRefused(
                f"The Odoo address is not allowed: {where} is a loopback, "
                "link-local or reserved address (ODOO_BLOCKED_NETWORKS, ODOO_ALLOW_LOOPBACK)."
            )
