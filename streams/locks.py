"""One asyncio lock per partition, shared by the agents of one worker.

The fan-out of a partition and the directory's updates of the same partition
run in different agents. Holding the partition's lock while fanning out makes
the fan-out see each user either before or after an update, never half-way,
so that the late match knows exactly which version the fan-out decided on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class PartitionLocks:
    """Locks created on first use, one per partition number."""

    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}

    @asynccontextmanager
    async def hold(self, partition: int) -> AsyncIterator[None]:
        lock = self._locks.setdefault(partition, asyncio.Lock())
        async with lock:
            yield
