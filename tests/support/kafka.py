"""Reading and resetting the real broker's topics from tests.

Tests assert on what reached Kafka, so they need to read a topic from the
beginning without joining a consumer group, and to start from empty topics so
that one test's events never count in another's.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError

from notifications import topic_names
from streams import kafka
from streams.admin import ensure_topics
from streams.settings import Settings
from streams.topics import TOPIC_SPECS
from tests import examples

# PREAVIS_KAFKA_BOOTSTRAP lets a second broker (another port) run its own suite
BOOTSTRAP = os.environ.get("PREAVIS_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
# app ids (and so internal topic prefixes) of the tests' own worker groups
TEST_APP_PREFIXES = ("preavis-test-", "preavis-faults-")


def _client_kwargs(connection: Settings | None) -> dict[str, Any]:
    """Bootstrap only (the suite's PLAINTEXT broker), or a secured client of ``connection``."""
    if connection is None:
        return {"bootstrap_servers": BOOTSTRAP}
    return kafka.client_kwargs(connection)


@dataclass(frozen=True)
class Record:
    """One record read back from a topic."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None

    @property
    def json(self) -> Any:
        return None if self.value is None else json.loads(self.value)


async def broker_answers(timeout: float = 5.0) -> bool:
    """True when the broker answers a metadata request."""
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP, request_timeout_ms=int(timeout * 1000))
    try:
        await asyncio.wait_for(admin.start(), timeout)
        await admin.list_topics()
        return True
    except (KafkaError, OSError, TimeoutError):
        return False
    finally:
        await admin.close()


async def reset_topics(settings: Settings, extra: Iterable[str] = ()) -> None:
    """Delete the contract's topics (and ``extra``) and create them empty again.

    Earlier tests' own topics (changelogs of their ``preavis-test-*`` and
    ``preavis-faults-*`` app ids) go too: each test has a fresh app id, so
    they are garbage, and thousands of stale partitions slow the broker's start.
    """
    names = [spec.name for spec in TOPIC_SPECS] + list(extra)
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        doomed = [name for name in names if name in existing]
        doomed += sorted(n for n in existing if n.startswith(TEST_APP_PREFIXES))
        if doomed:
            await admin.delete_topics(doomed)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if not set(doomed) & set(await admin.list_topics()):
                break
            await asyncio.sleep(0.2)
    finally:
        await admin.close()
    for _ in range(50):
        try:
            await ensure_topics(settings)
            return
        except KafkaError:  # still marked for deletion
            await asyncio.sleep(0.2)
    await ensure_topics(settings)


async def read_topic(
    topic: str,
    *,
    until: Callable[[list[Record]], bool] | None = None,
    timeout: float = 30.0,
    settle: float = 1.0,
    connection: Settings | None = None,
) -> list[Record]:
    """Every record of ``topic`` from the beginning.

    Reads until ``until(records)`` holds (then returns at once), or, without
    ``until``, until nothing new arrived for ``settle`` seconds. Times out
    with what it has; the caller's assertion then says what is missing.
    """
    consumer = AIOKafkaConsumer(**_client_kwargs(connection), enable_auto_commit=False)
    await consumer.start()
    records: list[Record] = []
    try:
        deadline = time.monotonic() + timeout
        partitions = await wait_for_partitions(topic, deadline, connection)
        if not partitions:
            return records
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        last_new = time.monotonic()
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for tp_records in batch.values():
                for r in tp_records:
                    records.append(Record(r.topic, r.partition, r.offset, r.key, r.value))
                    last_new = time.monotonic()
            if until is not None and until(records):
                return records
            if until is None and time.monotonic() - last_new >= settle:
                return records
        return records
    finally:
        await consumer.stop()


async def wait_for_partitions(
    topic: str, deadline: float, connection: Settings | None = None
) -> set[int]:
    """The topic's partitions, once it exists (a worker may not have created it yet)."""
    admin = AIOKafkaAdminClient(**_client_kwargs(connection))
    await admin.start()
    try:
        while True:
            if topic in await admin.list_topics():
                described = await admin.describe_topics([topic])
                if described and described[0].get("error_code", 0) == 0:
                    return {p["partition"] for p in described[0]["partitions"]}
            if time.monotonic() >= deadline:
                return set()
            await asyncio.sleep(0.3)
    finally:
        await admin.close()


async def produce(
    topic: str,
    items: Iterable[tuple[bytes | None, bytes | None]],
    connection: Settings | None = None,
) -> None:
    """Write (key, value) pairs and wait for the broker to acknowledge them all."""
    producer = AIOKafkaProducer(**_client_kwargs(connection), acks="all")
    await producer.start()
    try:
        futures = [await producer.send(topic, key=k, value=v) for k, v in items]
        for future in futures:
            await future
    finally:
        await producer.stop()


async def declare_purpose(days_ahead: int = 45, **fields: Any) -> dict[str, Any]:
    """Publish a purpose (the contract's example, AI training) starting ``days_ahead`` from now.

    Returns the event as published, for the test to compare against.
    """
    now = datetime.now(UTC)
    purpose = examples.purpose_declared(
        published_at=now.isoformat(),
        starts_at=(now + timedelta(days=days_ahead)).isoformat(),
        **fields,
    )
    key = str(purpose["purpose_id"]).encode()
    await produce(topic_names.TOPIC_PURPOSES, [(key, json.dumps(purpose).encode())])
    return purpose


async def alter_topic_configs(configs: dict[str, dict[str, str]]) -> None:
    """Set broker-side configuration of test topics (topic name -> settings)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        await admin.alter_configs(
            [
                ConfigResource(ConfigResourceType.TOPIC, topic, configs=values)
                for topic, values in sorted(configs.items())
            ]
        )
    finally:
        await admin.close()
