"""A topic written straight through the aiokafka producer under Faust's.

Faust's ``Topic.send`` wraps every record in its own bookkeeping (a
``PendingMessage``, a ``FutureMessage``, codecs, callbacks, sensors) before
handing it to aiokafka: for a notice job, which writes two records and waits
for both, that bookkeeping cost more than the writes. :class:`DirectTopic`
gives the record, already encoded, to the same aiokafka producer (the same
connection, partitioner and batches, so ``app.producer.flush()`` still waits
for it), and returns or awaits aiokafka's own future of the broker's
acknowledgement. Records of all the jobs in the delivery window share the
producer's batches, and one acknowledgement of a batch completes every job
waiting in it.

Upstream (faust-streaming 0.15, aiokafka 0.14): ``faust/topics.py``,
``Topic.send`` and ``Topic.publish_message`` (the layer skipped);
``faust/transport/drivers/aiokafka.py``, ``Producer._ensure_producer``;
``aiokafka/producer/producer.py``, ``AIOKafkaProducer.send`` (returns a
future of the acknowledgement once the record is in a batch).
"""

from __future__ import annotations

from typing import Any

from streams.runtime.batch_writer import raw_producer


class DirectTopic:
    """A :class:`streams.ports.Topic` over the raw aiokafka producer of a Faust app."""

    __slots__ = ("_app", "_name", "_producer")

    def __init__(self, app: Any, name: str) -> None:
        self._app = app
        self._name = name
        self._producer: Any = None

    @property
    def name(self) -> str:
        return self._name

    async def _pending(self, key: bytes | None, value: bytes | None, partition: int | None) -> Any:
        if self._producer is None:
            self._producer = raw_producer(self._app)
        return await self._producer.send(self._name, value=value, key=key, partition=partition)

    async def send(
        self, *, key: bytes | None, value: bytes | None, partition: int | None = None
    ) -> None:
        await self._pending(key, value, partition)

    async def send_acked(
        self, *, key: bytes | None, value: bytes | None, partition: int | None = None
    ) -> None:
        await (await self._pending(key, value, partition))
