"""Who is asking: the peer's address, and what a trusted reverse proxy says.

A header such as ``X-Forwarded-For`` or the staff proxy's user header is
written by whoever opens the connection, so it is believed only when the
connection comes from an address of ``PREAVIS_TRUSTED_PROXIES``
(comma-separated addresses or CIDR networks). Anything else is the peer's
own address.
"""

from __future__ import annotations

import ipaddress
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(spec: str) -> tuple[Network, ...]:
    """``"10.0.0.0/8, 127.0.0.1"`` as networks; a malformed entry is an error at start-up."""
    networks = []
    for item in spec.split(","):
        item = item.strip()
        if item:
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError as error:
                raise ValueError(f"PREAVIS_TRUSTED_PROXIES: {item!r} is not an address") from error
    return tuple(networks)


class TrustedProxies:
    """The reverse proxies whose forwarding headers preavis believes."""

    def __init__(self, spec: str) -> None:
        self.networks = parse_networks(spec)

    def trusts(self, address: str | None) -> bool:
        """Whether ``address`` (an IP, maybe with an IPv6 zone) is one of the proxies."""
        if not address or not self.networks:
            return False
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def client_address(self, request: Any) -> str:
        """The client's address: the peer, or the last hop a trusted proxy did not add."""
        peer = peer_address(request)
        if not self.trusts(peer):
            return peer
        hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",")]
        for hop in reversed([h for h in hops if h]):
            if not self.trusts(hop):
                return str(hop)
        return peer

    def forwarded_header(self, request: Any, header: str | None) -> str | None:
        """The value of ``header`` when a trusted proxy sent the request, else ``None``."""
        if not header or not self.trusts(peer_address(request)):
            return None
        value = str(request.headers.get(header, "")).strip()
        return value or None


def peer_address(request: Any) -> str:
    """The address of the connection's other end (never a header)."""
    transport = request.transport
    peer = transport.get_extra_info("peername") if transport is not None else None
    if isinstance(peer, tuple) and peer:
        return str(peer[0])
    return str(request.remote or "")
