"""Failed sign-ins slow the next ones down, per client, exponentially.

A client's first :data:`FREE_FAILURES` wrong tokens cost nothing (a person
mistypes; a test sends a wrong token on purpose). Each failure after that
shuts the client out for twice as long as the one before, from one second up
to :data:`MAX_LOCKOUT_SECONDS`. While shut out, a request that carries a
token is refused with 429 *without* the token being checked: checking it
would tell a guesser at full speed which guess was right. A success, or
:data:`FORGET_AFTER_SECONDS` without a failure, wipes the client's record.

The state is in memory, per worker, and bounded (the oldest clients are
forgotten first), so that a flood of addresses cannot exhaust it. Several
workers each keep their own count: the slow-down per worker is what matters
against a guesser, since tokens are long (32 bytes and more).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

FREE_FAILURES = 5
MAX_LOCKOUT_SECONDS = 15 * 60
FORGET_AFTER_SECONDS = 60 * 60
MAX_CLIENTS = 10_000


@dataclass(slots=True)
class _Record:
    failures: int = 0
    blocked_until: float = -math.inf
    last_failure: float = -math.inf


class SignInThrottle:
    """Per-client record of failed attempts, on an injected clock."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        free_failures: int = FREE_FAILURES,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        self._clock = clock
        self._free = free_failures
        self._max_clients = max_clients
        self._clients: OrderedDict[str, _Record] = OrderedDict()

    def retry_after(self, client: str) -> float:
        """Seconds until ``client`` may try again (0: it may try now)."""
        record = self._clients.get(client)
        if record is None:
            return 0.0
        now = self._clock()
        if now - record.last_failure > FORGET_AFTER_SECONDS:
            del self._clients[client]
            return 0.0
        return max(record.blocked_until - now, 0.0)

    def failed(self, client: str) -> float:
        """Record a failure; return how long ``client`` is now shut out."""
        now = self._clock()
        record = self._clients.pop(client, None) or _Record()
        if now - record.last_failure > FORGET_AFTER_SECONDS:
            record = _Record()
        record.failures += 1
        record.last_failure = now
        beyond = record.failures - self._free
        lockout = min(2.0 ** (beyond - 1), MAX_LOCKOUT_SECONDS) if beyond > 0 else 0.0
        record.blocked_until = now + lockout
        self._clients[client] = record  # most recent last
        while len(self._clients) > self._max_clients:
            self._clients.popitem(last=False)
        return lockout

    def succeeded(self, client: str) -> None:
        """A right token: the client's record is wiped."""
        self._clients.pop(client, None)
