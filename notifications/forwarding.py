"""Who a request comes from, when reverse proxies stand in between.

``X-Forwarded-For`` is written by whoever opens the connection, so it is
believed only when the peer is one of the configured trusted proxies
(``PREAVIS_TRUSTED_PROXIES``: comma-separated addresses or CIDR networks), and
then read from the right: each trusted proxy appended the address it received
the request from, so the right-most hop that is not a trusted proxy is the
first one nobody could forge. Pure functions, shared by the sign-in throttle
and the ``/object`` limits.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

__all__ = ["IpAddress", "IpNetwork", "client_address", "is_trusted", "parse_ip", "parse_networks"]

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_ip(text: str | None) -> IpAddress | None:
    """An address from a peer or a forwarded hop (``1.2.3.4``, ``1.2.3.4:80``,
    ``[2001:db8::1]:443``, ``::ffff:1.2.3.4``); None for anything else."""
    if not text:
        return None
    value = text.strip()
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def parse_networks(text: str) -> tuple[IpNetwork, ...]:
    """``trusted_proxies``: comma-separated addresses or CIDR networks.

    ValueError names the entry that is neither, so that a typo stops the
    worker at start-up instead of trusting nobody (or everybody) in silence.
    """
    networks: list[IpNetwork] = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ValueError(
                f"PREAVIS_TRUSTED_PROXIES: {entry!r} is not an IP address or network"
            ) from exc
    return tuple(networks)


def client_address(
    peer: str | None, forwarded_for: Iterable[str], trusted: tuple[IpNetwork, ...]
) -> str:
    """The client a request counts against.

    ``forwarded_for`` are the values of every ``X-Forwarded-For`` header, in
    order. They are read only when the peer is a trusted proxy, from the right:
    each trusted proxy appended the address it received the request from, so
    the right-most hop that is not a trusted proxy is the first one nobody
    could forge. A hop that is not an address stops the walk at the proxy
    that wrote it.
    """
    current = parse_ip(peer)
    if current is None:
        return (peer or "unknown")[:64]
    if not is_trusted(current, trusted):
        return str(current)
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        ip = parse_ip(hop)
        if ip is None:
            break
        current = ip
        if not is_trusted(ip, trusted):
            break
    return str(current)


def is_trusted(ip: IpAddress, trusted: tuple[IpNetwork, ...]) -> bool:
    """Whether ``ip`` is in one of the ``trusted`` networks."""
    return any(ip.version == network.version and ip in network for network in trusted)
