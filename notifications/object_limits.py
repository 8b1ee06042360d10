"""The limits of ``POST /object``, so that the form cannot mail-bomb anyone.

``/object`` emails a confirmation link to an address typed by anyone. Without
limits one script makes preavis send a stranger thousands of emails. Three
limits, all in memory and on an injected clock:

- :class:`SendLimiter`: at most one email per address and purpose per hour,
  and ``daily_cap`` per address per rolling day, whatever the purposes.
- :class:`ClientLimiter`: at most ``per_minute`` requests per client (a token
  bucket). An IPv6 client counts by its /64, which one host usually holds
  whole: otherwise one host would be a billion clients.

Who the client is comes from :func:`notifications.forwarding.client_address`
(the peer, or the right-most hop a trusted proxy did not add).

Memory stays bounded: addresses and clients are kept as 16-byte keyed hashes
(a random key per process, so the table is useless to whoever dumps it),
entries leave once their window has passed, and a full table refuses new
addresses (no email; fail closed, because an evicted entry would let an
address be mailed again) and forgets its least recently seen client (which
only gives that client a fresh bucket).

The limits are per worker: with ``n`` workers behind a load balancer, an
address may receive up to ``n`` emails per hour.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import time
from collections import OrderedDict
from collections.abc import Callable

from notifications.addresses import normalize_address
from notifications.forwarding import parse_ip

__all__ = ["ClientLimiter", "SendLimiter"]

HOUR = 3600.0
DAY = 86400.0
MINUTE = 60.0
MAX_ADDRESSES = 100_000
MAX_CLIENTS = 100_000
_HASH_BYTES = 16

Clock = Callable[[], float]


def _hasher(key: bytes | None) -> Callable[[str], bytes]:
    secret = key if key is not None else os.urandom(32)

    def digest(text: str) -> bytes:
        return hmac.new(secret, text.encode(), hashlib.sha256).digest()[:_HASH_BYTES]

    return digest


class SendLimiter:
    """Whether a confirmation email may go to an address for a purpose, now."""

    def __init__(
        self,
        daily_cap: int,
        *,
        key: bytes | None = None,
        clock: Clock = time.monotonic,
        max_addresses: int = MAX_ADDRESSES,
    ) -> None:
        if daily_cap < 1 or max_addresses < 1:
            raise ValueError("daily_cap and max_addresses must be >= 1")
        self.daily_cap = daily_cap
        self.max_addresses = max_addresses
        self._digest = _hasher(key)
        self._clock = clock
        # both ordered by last send, oldest first, so that expiry pops from the front
        self._sends: OrderedDict[bytes, list[float]] = OrderedDict()
        self._pairs: OrderedDict[bytes, float] = OrderedDict()
        self.refused_full = 0

    def __len__(self) -> int:
        return len(self._sends)

    def allow(self, address: str, purpose_id: str) -> bool:
        """True, and counted as sent, when the email may go; False otherwise."""
        now = self._clock()
        self._expire(now)
        normalized = normalize_address(address)
        who = self._digest(normalized)
        pair = self._digest(normalized + "\x00" + purpose_id)
        if pair in self._pairs:
            return False
        sends = self._sends.get(who)
        if sends is None and len(self._sends) >= self.max_addresses:
            self.refused_full += 1
            return False
        recent = [t for t in sends or () if now - t < DAY]
        if len(recent) >= self.daily_cap:
            return False
        recent.append(now)
        self._sends[who] = recent
        self._sends.move_to_end(who)
        self._pairs[pair] = now
        self._pairs.move_to_end(pair)
        return True

    def _expire(self, now: float) -> None:
        while self._pairs and now - next(iter(self._pairs.values())) >= HOUR:
            self._pairs.popitem(last=False)
        while self._sends and now - next(iter(self._sends.values()))[-1] >= DAY:
            self._sends.popitem(last=False)


class ClientLimiter:
    """At most ``per_minute`` requests per client per minute (a token bucket)."""

    def __init__(
        self,
        per_minute: int,
        *,
        key: bytes | None = None,
        clock: Clock = time.monotonic,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        if per_minute < 1 or max_clients < 1:
            raise ValueError("per_minute and max_clients must be >= 1")
        self.capacity = float(per_minute)
        self.rate = per_minute / MINUTE
        self.max_clients = max_clients
        self._digest = _hasher(key)
        self._clock = clock
        # client -> (tokens, time of the last request), least recently seen first
        self._buckets: OrderedDict[bytes, tuple[float, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def allow(self, client: str) -> bool:
        """True when ``client`` (an address from :func:`client_address`) may go on."""
        now = self._clock()
        # a bucket untouched for a minute is full again: the same as no entry
        while self._buckets and now - next(iter(self._buckets.values()))[1] >= MINUTE:
            self._buckets.popitem(last=False)
        who = self._digest(_bucket_of(client))
        tokens, last = self._buckets.pop(who, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        if len(self._buckets) >= self.max_clients:
            self._buckets.popitem(last=False)
        self._buckets[who] = (tokens, now)
        return allowed


def _bucket_of(client: str) -> str:
    """The unit a client is counted by: an IPv4 address, or an IPv6 /64."""
    ip = parse_ip(client)
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip) if ip is not None else client
