"""Which network addresses a camera may be at: the guard against server-side requests.

A camera URL is typed by an operator and opened by the server, so without a rule any host
would do: ``rtsp://127.0.0.1:6379`` turns the probe into a port scanner of the server's own
services, and an ``http://`` snapshot URL of an internal service (cloud metadata at
169.254.169.254, an admin page on loopback) would be fetched and shown to every role.
Cameras live on private LANs, so the rule is an allow-list: ``CAMERA_ALLOWED_NETWORKS``,
the whole list of networks a camera may be in, by default the private ranges. Loopback,
link-local, multicast and unspecified addresses are therefore refused unless listed.

Both the literal host (in every form the resolver accepts: ``2130706433``, ``0x7f.1``,
``0177.0.0.1``, ``[::ffff:127.0.0.1]``) and every address the name resolves to are
checked, when a URL is saved and again right before each connection, because DNS may
answer differently later. Pure functions: the settings are read by the callers.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence
from functools import cache
from urllib.parse import urlsplit

from cameras.sources import NETWORK_SCHEMES, SourceError

SETTING = "CAMERA_ALLOWED_NETWORKS"
DEFAULT_ALLOWED_NETWORKS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class AddressRefused(SourceError):
    """A camera URL whose host is, or resolves to, an address outside the allowed networks."""


class HostNotFound(SourceError):
    """A camera URL whose host name does not resolve (refused only when connecting)."""


@cache
def parse_networks(values: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """The networks of the setting; ``ValueError`` names the entry that is not a CIDR."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError as exc:
            raise ValueError(f"{SETTING}: {value!r} is not a network (CIDR).") from exc
    return tuple(networks)


def literal_address(host: str) -> IPAddress | None:
    """The address ``host`` names literally, or None for a host name.

    IPv4 goes through ``inet_aton``, which accepts what the C resolver (and so FFmpeg)
    accepts: decimal, octal and hexadecimal numbers and short forms like ``127.1``.
    """
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def is_allowed(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    """Whether ``address`` lies in one of ``networks``; an IPv4-mapped IPv6 address is
    judged as the IPv4 address it stands for."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address.version == net.version and address in net for net in networks)


def resolve(host: str, port: int | None) -> list[IPAddress]:
    """Every address ``host`` resolves to; raises ``HostNotFound``."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise HostNotFound(f"The camera's host {host!r} was not found (DNS).") from exc
    addresses = []
    for _family, _type, _proto, _name, sockaddr in answers:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def refusal_message(address: IPAddress, host: str, networks: Iterable[IPNetwork]) -> str:
    """The 4xx text for a refused address: names the setting, so an admin knows the fix."""
    shown = ", ".join(str(net) for net in networks) or "none"
    where = f"{host} resolves to {address}" if str(address) != host.strip("[]") else str(address)
    return (
        f"The camera address is not allowed: {where}, which is outside "
        f"{SETTING} ({shown}). Cameras may only be on these networks; an administrator "
        f"can list more in {SETTING}."
    )


def check_url_address(
    url: str, allowed: Iterable[str], *, resolve_names: bool = True, require_dns: bool = True
) -> None:
    """Raise ``AddressRefused`` unless the host of the network URL ``url`` is allowed.

    Other sources (files, devices) pass. With ``resolve_names`` every answer of the
    resolver must be allowed; a name that does not resolve raises ``HostNotFound`` when
    ``require_dns`` (before a connection) and passes otherwise (when saving: the camera
    may not be on the network yet, and each connection is checked anyway).
    """
    try:
        parts = urlsplit(url)
        scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
    except ValueError as exc:
        raise SourceError("The URL is malformed (check the port).") from exc
    if scheme not in NETWORK_SCHEMES:
        return
    if not host:
        raise SourceError("The URL has no host.")
    networks = parse_networks(tuple(allowed))
    literal = literal_address(host)
    if literal is not None:
        addresses = [literal]
    elif resolve_names:
        try:
            addresses = resolve(host, port)
        except HostNotFound:
            if require_dns:
                raise
            return
    else:
        return
    for address in addresses:
        if not is_allowed(address, networks):
            raise AddressRefused(refusal_message(address, host, networks))
