"""A seek to the committed offsets must rewind partitions that have no commit.

Faust drops fetched records during a rebalance and relies on that seek to
read them again. Against the real broker, this shows the hazard (aiokafka
leaves a partition without a commit where it was, past the dropped records)
and that :func:`streams.runtime.rewind.rewind_uncommitted` sends it back to its first
offset, leaving committed partitions and skipped topics alone.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from streams.runtime.rewind import rewind_uncommitted
from tests.support.kafka import BOOTSTRAP

RECORDS_PER_PARTITION = 5


@pytest.fixture
async def topic() -> AsyncIterator[str]:
    """A fresh two-partition topic holding five records in each partition."""
    name = f"preavis-test-rewind-{uuid.uuid4().hex[:10]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, num_partitions=2, replication_factor=1)])
        for partition in (0, 1):
            await produce_to(name, partition)
        yield name
    finally:
        await admin.delete_topics([name])
        await admin.close()


async def produce_to(topic: str, partition: int) -> None:
    """Five records whose key lands them in ``partition`` (written explicitly)."""
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all")
    await producer.start()
    try:
        for n in range(RECORDS_PER_PARTITION):
            await producer.send_and_wait(topic, f"{partition}-{n}".encode(), partition=partition)
    finally:
        await producer.stop()


@pytest.fixture
async def consumer(topic: str) -> AsyncIterator[AIOKafkaConsumer]:
    """A group member that has read both partitions to the end, committing nothing."""
    member = AIOKafkaConsumer(
        topic,
        bootstrap_servers=BOOTSTRAP,
        group_id=f"preavis-test-rewind-{uuid.uuid4().hex[:10]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await member.start()
    try:
        await read_offsets(member, 2 * RECORDS_PER_PARTITION)
        yield member
    finally:
        await member.stop()


async def read_offsets(member: AIOKafkaConsumer, count: int) -> dict[int, list[int]]:
    """The offsets of the next ``count`` records, per partition."""
    seen: dict[int, list[int]] = {}

    async def take() -> None:
        while sum(len(v) for v in seen.values()) < count:
            batch = await member.getmany(timeout_ms=500)
            for tp, records in batch.items():
                seen.setdefault(tp.partition, []).extend(r.offset for r in records)

    await asyncio.wait_for(take(), 30)
    return seen


async def test_a_partition_without_a_commit_goes_back_to_its_first_offset(
    topic: str, consumer: AIOKafkaConsumer
) -> None:
    fresh, committed_tp = TopicPartition(topic, 0), TopicPartition(topic, 1)
    await consumer.commit({committed_tp: 2})
    committed = await consumer.seek_to_committed()
    assert committed == {fresh: None, committed_tp: 2}
    # the hazard: aiokafka leaves the partition without a commit at its end
    assert await consumer.position(fresh) == RECORDS_PER_PARTITION
    assert await consumer.position(committed_tp) == 2

    rewound = await rewind_uncommitted(consumer, committed)

    assert rewound == [fresh]
    assert await consumer.position(fresh) == 0
    assert await consumer.position(committed_tp) == 2
    again = await read_offsets(consumer, RECORDS_PER_PARTITION + 3)
    assert again == {0: [0, 1, 2, 3, 4], 1: [2, 3, 4]}


async def test_skipped_topics_and_committed_partitions_stay_where_they_are(
    topic: str, consumer: AIOKafkaConsumer
) -> None:
    committed = await consumer.seek_to_committed()

    assert await rewind_uncommitted(consumer, committed, skip_topics={topic}) == []

    assert await consumer.position(TopicPartition(topic, 0)) == RECORDS_PER_PARTITION
    assert await consumer.position(TopicPartition(topic, 1)) == RECORDS_PER_PARTITION
