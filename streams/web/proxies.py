"""Who is asking: the peer's address, and what a trusted reverse proxy says.

A header such as ``X-Forwarded-For`` or the staff proxy's user header is
written by whoever opens the connection, so it is believed only when the
connection comes from an address of ``PREAVIS_TRUSTED_PROXIES``
(comma-separated addresses or CIDR networks). Anything else is the peer's
own address.
"""

from __future__ import annotations

from typing import Any

from notifications.forwarding import client_address, is_trusted, parse_ip, parse_networks


class TrustedProxies:
    """The reverse proxies whose forwarding headers preavis believes."""

    def __init__(self, spec: str) -> None:
        self.networks = parse_networks(spec)

    def trusts(self, address: str | None) -> bool:
        """Whether ``address`` (an IP, maybe with an IPv6 zone) is one of the proxies."""
        ip = parse_ip(address.split("%", 1)[0]) if address else None
        return ip is not None and is_trusted(ip, self.networks)

    def client_address(self, request: Any) -> str:
        """The client's address: the peer, or the last hop a trusted proxy did not add."""
        return client_address(
            peer_address(request), request.headers.getall("X-Forwarded-For", []), self.networks
        )

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
