"""The proof lasts, on the real broker: proof topics are created to keep their records, and a
worker started on a proof topic that would delete them raises a critical alert."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from notifications import topic_names as names
from streams.admin import ensure_topics
from streams.app import create_app
from streams.proof_retention import check_proof_retention
from streams.settings import Settings
from streams.topics import PROOF_TOPICS
from tests.support.kafka import BOOTSTRAP, Record, read_topic
from tests.support.worker import start_worker

DAY_MS = 86_400_000
PROOF = [spec.name for spec in PROOF_TOPICS]
TOPIC_CONFIG_SOURCE = 1  # DYNAMIC_TOPIC_CONFIG: set on the topic itself, not inherited


async def topic_configs(topics: Iterable[str]) -> dict[str, dict[str, tuple[str, int]]]:
    """Every topic's effective configuration: name -> (value, source), as DescribeConfigs says."""
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        responses = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic) for topic in topics]
        )
    finally:
        await admin.close()
    out: dict[str, dict[str, tuple[str, int]]] = {}
    for response in responses:
        for resource in response.to_object()["resources"]:
            assert resource["error_code"] == 0, resource
            out[resource["resource_name"]] = {
                e["config_names"]: (e["config_value"], e["config_source"])
                for e in resource["config_entries"]
            }
    return out


async def recreate(topics: list[str], partitions: int, config: dict[str, str]) -> None:
    """Delete ``topics`` and create them again with ``config`` (as an operator might have)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        await delete(admin, topics)
        await admin.create_topics(
            [NewTopic(t, partitions, 1, topic_configs=config) for t in topics]
        )
        deadline = time.monotonic() + 30
        while not set(topics) <= set(await admin.list_topics()):
            assert time.monotonic() < deadline, "the topics did not come back"
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


async def delete(admin: AIOKafkaAdminClient, topics: list[str]) -> None:
    present = [t for t in topics if t in set(await admin.list_topics())]
    if present:
        await admin.delete_topics(present)
    deadline = time.monotonic() + 30
    while set(topics) & set(await admin.list_topics()):
        assert time.monotonic() < deadline, "the topics were not deleted"
        await asyncio.sleep(0.2)
    await asyncio.sleep(0.5)  # the controller forgets them a moment after metadata does


def retention_alerts(records: list[Record]) -> list[dict[str, Any]]:
    return [
        r.json
        for r in records
        if r.value is not None and r.json.get("code") == "proof_retention_too_short"
    ]


async def test_every_proof_topic_is_created_kept_forever(clean_topics: None) -> None:
    configs = await topic_configs([*PROOF, names.TOPIC_USERS])

    for topic in PROOF:
        assert configs[topic]["retention.ms"] == ("-1", TOPIC_CONFIG_SOURCE), topic
        assert configs[topic]["retention.bytes"] == ("-1", TOPIC_CONFIG_SOURCE), topic
        assert configs[topic]["cleanup.policy"][0] == "delete", topic
    # what the proof topics would inherit otherwise: the broker's 7 days
    assert configs[names.TOPIC_USERS]["retention.ms"][0] == str(7 * DAY_MS)
    assert configs[names.TOPIC_USERS]["cleanup.policy"][0] == "compact"


async def test_proof_retention_days_set_the_proof_topics_retention(
    clean_topics: None, settings: Settings
) -> None:
    ten_years = settings.model_copy(update={"proof_retention_days": 3650})
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        await delete(admin, PROOF)
    finally:
        await admin.close()

    assert sorted(await ensure_topics(ten_years, PROOF_TOPICS)) == sorted(PROOF)

    configs = await topic_configs(PROOF)
    for topic in PROOF:
        assert configs[topic]["retention.ms"] == (str(3650 * DAY_MS), TOPIC_CONFIG_SOURCE), topic
    # ten years are enough for a setting of ten years, and too short for "forever"
    assert await check_proof_retention(ten_years) == []
    problems = await check_proof_retention(settings)
    assert sorted(p.topic for p in problems) == sorted(PROOF)


async def test_faust_creates_a_proof_topic_with_the_same_retention(
    clean_topics: None, settings: Settings, tmp_path: Path
) -> None:
    """The other declaration path: a topic Faust creates itself (not the admin step)."""
    thirty_days = settings.model_copy(
        update={"proof_retention_days": 30, "data_dir": str(tmp_path / "faust")}
    )
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        await delete(admin, [names.TOPIC_DELIVERY])
    finally:
        await admin.close()
    app = create_app(thirty_days)
    try:
        await app.preavis.topics.delivery.declare()
    finally:
        await app.producer.stop()

    configs = await topic_configs([names.TOPIC_DELIVERY])
    assert configs[names.TOPIC_DELIVERY]["retention.ms"] == (str(30 * DAY_MS), TOPIC_CONFIG_SOURCE)
    assert configs[names.TOPIC_DELIVERY]["retention.bytes"] == ("-1", TOPIC_CONFIG_SOURCE)


async def test_a_worker_on_a_proof_topic_that_deletes_after_a_day_raises_a_critical_alert(
    clean_topics: None, settings: Settings, worker_env: dict[str, str], tmp_path: Path
) -> None:
    short = [names.TOPIC_DELIVERY, names.TOPIC_ALERTS]
    await recreate(short, settings.topic_partitions, {"retention.ms": str(DAY_MS)})

    worker = start_worker({**worker_env, "PREAVIS_DEVELOPMENT": "true"}, tmp_path)
    try:
        worker.wait_healthy()  # it warns, it does not refuse to start
        records = await read_topic(
            names.TOPIC_ALERTS, until=lambda rs: len(retention_alerts(rs)) >= 2, timeout=30
        )
    finally:
        worker.stop()

    alerts = {alert["details"]["topic"]: alert for alert in retention_alerts(records)}
    assert set(alerts) == set(short)
    delivery = alerts[names.TOPIC_DELIVERY]
    assert delivery["severity"] == "critical"
    assert delivery["campaign_id"] == "system"
    assert delivery["details"]["retention_ms"] == DAY_MS
    assert delivery["details"]["required"] == -1
    command = (
        f"kafka-configs.sh --bootstrap-server {settings.kafka_bootstrap} --alter "
        "--entity-type topics --entity-name notices.delivery --add-config retention.ms=-1"
    )
    assert delivery["details"]["command"] == command
    assert command in delivery["message"]
    log = worker.log()
    critical = [line for line in log.splitlines() if line.startswith("CRITICAL")]
    assert len(critical) == 2, log[-3000:]
    assert any("proof topic notices.delivery keeps records for 1 day" in line for line in critical)
    assert any(command in line for line in critical)
    # the operator decides: the worker left the topic as it was
    configs = await topic_configs(short)
    assert all(configs[t]["retention.ms"][0] == str(DAY_MS) for t in short)
