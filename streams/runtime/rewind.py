"""Make "seek to the committed offsets" rewind partitions that have no commit yet.

Faust throws fetched records away in two places and counts on a seek to the
committed offsets to read them again: when a batch comes back while the flow
is stopped (a rebalance; ``Consumer.getmany`` then calls ``perform_seek``) and
when a recovery ends (``Recovery._resume_streams``). aiokafka's
``seek_to_committed`` only seeks partitions whose committed offset is above 0.
A partition nobody has committed yet keeps its fetch position, past the
records that were thrown away.

The fault suite hit this when a worker was killed before it had acknowledged
any job of a partition: the survivor took the partition over with no commit,
fetched it while ending its recovery (the whole backlog fits in one fetch),
dropped the batch, and then waited at the end of the partition for records
that would never come. About one run in ten never sent a partition's notices.

For such a partition "where the group stands" is where a new consumer would
start: ``consumer_auto_offset_reset``, which is ``earliest`` here. So after the
normal seek, partitions without a commit are sent back to their first offset.
Records read again are the at-least-once case the deliveries table already
handles for committed partitions. Only the agents' topics are rewound, the
ones Faust acknowledges and commits: changelog partitions are never committed
and Faust seeks them itself during recovery.

Upstream (faust-streaming 0.15, aiokafka 0.14):

- ``aiokafka/consumer/consumer.py``, ``AIOKafkaConsumer.seek_to_committed``:
  seeks only when the committed offset is above 0;
- ``faust/transport/drivers/aiokafka.py``, ``AIOKafkaConsumerThread.seek_to_committed``
  (overridden), ``AIOKafkaConsumerThread._ensure_consumer`` (the aiokafka
  consumer), ``Consumer._new_consumer_thread`` (overridden) and ``Transport.Consumer``;
- ``faust/tables/recovery.py``, ``Recovery.on_recovery_completed`` and
  ``faust/transport/consumer.py``, ``Consumer.perform_seek``: the seek Faust
  counts on after dropping fetched records.

The transport is installed through Faust's public ``App.transport`` property
(set in :func:`streams.app.create_app` before anything asks for it). Faust's
other public extension point, the ``faust.transports`` entry-point registry
selected by the broker URL's scheme (``faust/transport/drivers/__init__.py``,
``TRANSPORTS.by_url``), would change the broker URL from ``kafka://`` and make
the worker depend on installed package metadata; the setter needs neither.
The consumer and its thread have no public hook, so they stay overridden here.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import IllegalStateError
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

log = logging.getLogger(__name__)


def partitions_without_commit(
    committed: Mapping[Any, int | None], skip_topics: Collection[str]
) -> list[TopicPartition]:
    """The partitions aiokafka's ``seek_to_committed`` leaves where they are.

    aiokafka seeks only when the committed offset is above 0; ``None`` (nothing
    committed) and ``0`` (start of the partition) are skipped, and both mean
    "read from the first offset".
    """
    return sorted(
        (
            TopicPartition(tp.topic, tp.partition)
            for tp, offset in committed.items()
            if not offset and tp.topic not in skip_topics
        ),
        key=lambda tp: (tp.topic, tp.partition),
    )


async def rewind_uncommitted(
    consumer: AIOKafkaConsumer,
    committed: Mapping[Any, int | None],
    skip_topics: Collection[str] = (),
) -> list[TopicPartition]:
    """Seek every partition without a commit to its first offset; return them.

    A partition taken away meanwhile is not ours to seek: its new owner starts
    it from the group's commit, and our next assignment seeks again.
    """
    assigned = consumer.assignment()
    fresh = [tp for tp in partitions_without_commit(committed, skip_topics) if tp in assigned]
    if not fresh:
        return []
    try:
        await consumer.seek_to_beginning(*fresh)
    except IllegalStateError as exc:  # unassigned between the check and the seek
        log.warning("rewind skipped, the assignment changed: %s", exc)
        return []
    log.info("rewound to their first offset, no commit yet: %s", describe(fresh))
    return fresh


def describe(partitions: list[TopicPartition]) -> str:
    """``topic[0,3] other[1]``: partitions by topic, for a log line."""
    by_topic: dict[str, list[int]] = {}
    for tp in partitions:
        by_topic.setdefault(tp.topic, []).append(tp.partition)
    return " ".join(f"{topic}[{','.join(map(str, sorted(ps)))}]" for topic, ps in by_topic.items())


class RewindingConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """Faust's aiokafka consumer thread whose seek to committed also rewinds."""

    async def seek_to_committed(self) -> Mapping[TP, int]:
        committed = await super().seek_to_committed()
        # only the topics whose offsets Faust commits (the agents' topics):
        # changelogs are sought by the recovery, and a topic read without
        # acknowledgements never has a commit, so it would start over each time
        acking = self.app.topics.acks_enabled_for
        skipped = {tp.topic for tp in committed if not acking(tp.topic)}
        await self.call_thread(rewind_uncommitted, self._ensure_consumer(), committed, skipped)
        return committed


class RewindingConsumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer, with :class:`RewindingConsumerThread`."""

    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return RewindingConsumerThread(self, loop=self.loop, beacon=self.beacon)


class RewindingTransport(faust_aiokafka.Transport):
    """Faust's ``kafka://`` transport, with :class:`RewindingConsumer`."""

    Consumer = RewindingConsumer
