"""The local broker that ``preavis kafka up`` starts, seen from a Kafka client.

These tests need the broker already running and fail (not skip) when it is
not: a skipped integration suite looks green while proving nothing. They never
call ``down()``: other tests share the broker.

What they pin down: ``status()``/``up()`` agree with reality and ``up()`` is
idempotent, and transactions work on one node, which needs replication
factor 1 and min ISR 1 for ``__transaction_state`` (Kafka's defaults, 3 and 2,
make ``init_transactions`` hang on a single broker).
"""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from streams.admin import ensure_topics
from streams.local import broker as localbroker
from streams.settings import Settings
from streams.topics import TopicSpec

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def bootstrap() -> str:
    """The broker's address, once it is known to run and answer; fails the test otherwise."""
    running, message = localbroker.status()
    if not running:
        pytest.fail(f"the local Kafka broker is not running ({message}): run `preavis kafka up`")
    return localbroker.layout().bootstrap


def test_status_says_running(bootstrap: str) -> None:
    running, message = localbroker.status()
    assert running
    assert bootstrap in message


def test_second_up_returns_at_once(bootstrap: str) -> None:
    started = time.monotonic()
    message = localbroker.up(timeout=10)
    elapsed = time.monotonic() - started
    assert "already running" in message
    assert bootstrap in message
    assert elapsed < 5, f"up() on a running broker took {elapsed:.1f}s"


async def test_transactional_produce_is_read_committed(bootstrap: str) -> None:
    topic = f"preavis-it-localbroker-{uuid.uuid4().hex[:12]}"
    # the local broker does not auto-create topics: create it as preavis does
    settings = Settings(topic_partitions=1)
    await ensure_topics(settings, [TopicSpec(topic)])
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        transactional_id=f"preavis-it-{uuid.uuid4().hex[:12]}",
        enable_idempotence=True,
    )
    await producer.start()
    try:
        # An aborted transaction first: read_committed must never show it.
        await producer.begin_transaction()
        await producer.send_and_wait(topic, b"aborted", key=b"k", partition=0)
        await producer.abort_transaction()

        await producer.begin_transaction()
        await producer.send_and_wait(topic, b"committed", key=b"k", partition=0)
        await producer.commit_transaction()
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        isolation_level="read_committed",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    seen: list[bytes] = []
    try:
        deadline = time.monotonic() + 30
        while not seen and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            seen.extend(
                record.value
                for records in batches.values()
                for record in records
                if record.value is not None
            )
        # Anything else (an aborted record leaking through) would arrive with
        # the committed one: both sit before the last stable offset.
        await asyncio.sleep(0.5)
        for records in (await consumer.getmany(timeout_ms=500)).values():
            seen.extend(record.value for record in records if record.value is not None)
    finally:
        await consumer.stop()
    assert seen == [b"committed"]
