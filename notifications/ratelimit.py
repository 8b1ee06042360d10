"""A rate limiter shared by concurrent senders, on an injected clock.

It is a token bucket holding one token (GCRA, "virtual scheduling"): each
:meth:`RateLimiter.acquire` reserves the next free instant, at least
``1 / rate`` seconds after the previous one, then sleeps until it. The
reservation is made before the first ``await``, so concurrent callers never
take the same instant and need no lock; ``n`` acquisitions from idle span
``(n - 1) / rate`` seconds.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable


class RateLimiter:
    """At most ``rate`` acquisitions per second (``0``: no limit)."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not rate >= 0 or math.isinf(rate):
            raise ValueError(f"rate must be a finite number >= 0, not {rate}")
        self.rate = rate
        self._interval = 1.0 / rate if rate else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next = -math.inf

    async def acquire(self) -> None:
        """Return when the caller may go: at once, or at its reserved instant."""
        if not self._interval:
            return
        now = self._clock()
        at = max(now, self._next)
        self._next = at + self._interval
        if at <= now:
            return
        try:
            await self._sleep(at - now)
        except asyncio.CancelledError:
            if self._next == at + self._interval:  # still the last reservation: give it back
                self._next = at
            raise
