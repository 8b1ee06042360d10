"""Create the contract's topics before anything writes to them.

A producer writing to a missing topic would let the broker auto-create it with
the broker's default partition count, and a topic whose partition count differs
from ``PREAVIS_TOPIC_PARTITIONS`` silently breaks co-partitioning (a user's
objection would be processed on another worker than the user's record). So the
worker and every publishing tool call :func:`ensure_topics` first, and a
mismatch is an error that says which topic and what to do.

It returns once the topics can be written: every partition has a leader, and
the partitions it created are served by that leader (see
:func:`_wait_until_served`), so that the first write to a new topic is not
answered ``NotLeaderForPartitionError`` (which aiokafka logs, once per
partition, before it retries).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from notifications.errors import TopicLayoutError, TransientKafkaError
from streams import kafka
from streams.failures import kafka_errors, unless_topic_exists
from streams.settings import Settings
from streams.topics import TOPIC_SPECS, TopicSpec


async def ensure_topics(settings: Settings, specs: Iterable[TopicSpec] = TOPIC_SPECS) -> list[str]:
    """Create the missing topics; return the names created.

    Raises :class:`TopicLayoutError` when an existing topic has another
    partition count than configured.
    """
    wanted = list(specs)
    admin = kafka.admin(settings)
    await admin.start()
    try:
        # list first: a metadata request naming a missing topic can make a
        # broker with auto.create.topics.enable create it with its own default
        # partition count, which is exactly what this step exists to prevent
        present = set(await admin.list_topics())
        missing = [s for s in wanted if s.name not in present]
        if missing:
            # another process may create one between list and create
            with unless_topic_exists():
                await admin.create_topics(
                    [
                        NewTopic(
                            name=s.name,
                            num_partitions=settings.topic_partitions,
                            replication_factor=settings.topic_replication,
                            topic_configs=s.config(settings),
                        )
                        for s in missing
                    ]
                )
        counts = await _wait_until_visible(admin, [s.name for s in wanted])
        _check_layout(counts, settings.topic_partitions)
    finally:
        await admin.close()
    if missing:
        await _wait_until_served(settings, [s.name for s in missing], settings.topic_partitions)
    return [s.name for s in missing]


def _partition_counts(described: list[dict[str, object]]) -> dict[str, int]:
    """Partitions per topic, for the topics whose every partition has a leader."""
    counts: dict[str, int] = {}
    for topic in described:
        if topic.get("error_code", 0) != 0:
            continue  # UNKNOWN_TOPIC_OR_PARTITION: not created yet
        partitions = topic.get("partitions")
        if isinstance(partitions, list) and all(_has_leader(p) for p in partitions):
            counts[str(topic["topic"])] = len(partitions)
    return counts


def _has_leader(partition: object) -> bool:
    """A partition of a metadata response whose leader is elected (not -1)."""
    return isinstance(partition, dict) and partition.get("leader", -1) != -1


def _check_layout(existing: dict[str, int], partitions: int) -> None:
    wrong = {name: n for name, n in existing.items() if n != partitions}
    if wrong:
        listed = ", ".join(f"{name} has {n}" for name, n in sorted(wrong.items()))
        raise TopicLayoutError(
            f"PREAVIS_TOPIC_PARTITIONS is {partitions} but {listed}: keyed topics must be "
            "co-partitioned; set PREAVIS_TOPIC_PARTITIONS to match or recreate the topics"
        )


async def _wait_until_visible(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    """Topic creation is asynchronous on the broker; wait until metadata shows every
    topic, each partition with a leader."""
    counts: dict[str, int] = {}
    for _ in range(100):
        described = await admin.describe_topics(names)
        counts = _partition_counts(described)
        if set(names) <= set(counts):
            return counts
        await asyncio.sleep(0.1)
    # leaderless still: the layout of every visible topic is checked all the same
    visible = [t for t in described if t.get("error_code", 0) == 0]
    return {
        str(t["topic"]): len(t["partitions"])
        for t in visible
        if isinstance(t.get("partitions"), list)
    }


async def _wait_until_served(
    settings: Settings, names: list[str], partitions: int, timeout: float = 30.0
) -> None:
    """Wait until the leader of every partition of ``names`` serves it.

    Kafka (4.1, KRaft) names a new partition's leader in its metadata a moment
    before that broker serves the partition: a produce in between is answered
    ``NOT_LEADER_OR_FOLLOWER``, and aiokafka's producer logs a warning per
    partition before it retries (54 of them when the demo imported its users
    into topics it had just re-created). A ListOffsets request needs the same
    leadership, and ``end_offsets`` retries that error without logging it: once
    it answers for every partition, writes and fetches are answered too.
    """
    tps = [TopicPartition(name, p) for name in names for p in range(partitions)]
    consumer = kafka.consumer(settings, enable_auto_commit=False)
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with kafka_errors():
                    await consumer.end_offsets(tps)
                return
            except TransientKafkaError:  # e.g. the request's own timeout; the deadline decides
                if time.monotonic() > deadline:
                    return  # the writes retry on their own, only noisier
                await asyncio.sleep(0.2)
    finally:
        await consumer.stop()
