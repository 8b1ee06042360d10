"""Write many records to one partition number with aiokafka's batch API.

A fan-out emits one record per user: through Faust's ``topic.send`` that costs
tens of microseconds of bookkeeping per record, through aiokafka's
``create_batch``/``send_batch`` a few. The partition is set explicitly to the
partition being fanned out, so a user's job lands on the partition that holds
the user's directory entry whatever partitioner the platform used for
``users``.

Upstream (faust-streaming 0.15, aiokafka 0.14):
``faust/transport/drivers/aiokafka.py``, ``Producer._ensure_producer`` (the
aiokafka producer under Faust's, which has no batch API);
``aiokafka/producer/producer.py``, ``AIOKafkaProducer.create_batch`` and
``AIOKafkaProducer.send_batch``.
"""

from __future__ import annotations

import asyncio
from typing import Any

#: Batches in flight before the writer waits for the broker's acknowledgements.
MAX_IN_FLIGHT = 32


class PartitionWriter:
    """Accumulates records per topic for one partition; ``flush`` waits for the broker."""

    def __init__(self, producer: Any, partition: int) -> None:
        self._producer = producer
        self._partition = partition
        self._batches: dict[str, Any] = {}
        self._in_flight: list[asyncio.Future[Any]] = []

    async def append(self, topic: str, key: bytes | None, value: bytes | None) -> None:
        batch = self._batches.get(topic)
        if batch is None:
            batch = self._batches[topic] = self._producer.create_batch()
        if batch.append(key=key, value=value, timestamp=None) is not None:
            return
        await self._send(topic)
        batch = self._batches[topic] = self._producer.create_batch()
        if batch.append(key=key, value=value, timestamp=None) is None:
            raise ValueError(f"a record of {len(value or b'')} bytes does not fit in a batch")

    async def _send(self, topic: str) -> None:
        batch = self._batches.pop(topic)
        batch.close()
        future = await self._producer.send_batch(batch, topic, partition=self._partition)
        self._in_flight.append(future)
        if len(self._in_flight) >= MAX_IN_FLIGHT:
            await self._settle()

    async def _settle(self) -> None:
        in_flight, self._in_flight = self._in_flight, []
        for future in in_flight:
            await future  # raises if the broker refused the batch

    async def flush(self) -> None:
        """Send what is pending and wait until the broker has acknowledged all of it."""
        for topic in list(self._batches):
            await self._send(topic)
        await self._settle()


def raw_producer(app: Any) -> Any:
    """The aiokafka producer under Faust's (its driver keeps it as ``_producer``).

    Faust offers no batch API; reusing its producer keeps one connection, and
    ``app.producer.flush()`` still waits for everything sent through it.
    """
    return app.producer._ensure_producer()
