"""Proof topics keep their records: the configuration they are created with, and the check."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from notifications import topic_names as names
from notifications.events import ComplianceAlert, decode
from streams.app import create_app
from streams.proof_retention import (
    SYSTEM_CAMPAIGN_ID,
    TopicRetention,
    alert_for,
    describe_ms,
    find_problems,
    shorter,
)
from streams.settings import Settings
from streams.topics import PROOF_TOPICS, TOPIC_SPECS, proof_retention_ms
from tests.unit.test_app import make_settings

DAY_MS = 86_400_000
PROOF = {
    names.TOPIC_DELIVERY,
    names.TOPIC_OBJECTIONS,
    names.TOPIC_PURPOSES,
    names.TOPIC_TERMS,
    names.TOPIC_ALERTS,
}


def test_the_contracts_proof_topics_are_the_proof_topics() -> None:
    assert {spec.name for spec in PROOF_TOPICS} == PROOF


def test_proof_topics_are_kept_forever_by_default() -> None:
    settings = Settings(proof_retention_days=None)

    for spec in TOPIC_SPECS:
        config = spec.config(settings)
        if spec.name in PROOF:
            assert config == {
                "cleanup.policy": "delete",
                "retention.ms": "-1",
                "retention.bytes": "-1",
            }, spec.name
        else:
            assert "retention.ms" not in config, spec.name  # the broker's default applies


def test_proof_retention_days_become_milliseconds() -> None:
    assert proof_retention_ms(None) == -1
    assert proof_retention_ms(Settings(proof_retention_days=3650)) == 3650 * DAY_MS
    assert proof_retention_ms(Settings(proof_retention_days=0.5)) == DAY_MS // 2
    spec = next(s for s in PROOF_TOPICS if s.name == names.TOPIC_DELIVERY)
    assert spec.config(Settings(proof_retention_days=30))["retention.ms"] == str(30 * DAY_MS)


@pytest.mark.parametrize("days", [None, 30.0])
def test_faust_declares_the_proof_topics_as_the_admin_step_creates_them(
    tmp_path: Path, days: float | None
) -> None:
    settings = make_settings(tmp_path, proof_retention_days=days)
    app = create_app(settings)
    declared = app.preavis.topics

    for spec in TOPIC_SPECS:
        topic = next(
            getattr(declared, field)
            for field in declared.__dataclass_fields__
            if getattr(declared, field).get_topic_name() == spec.name
        )
        assert topic.config == spec.config(settings), spec.name
    assert declared.delivery.config["retention.ms"] == str(proof_retention_ms(settings))


@pytest.mark.parametrize(
    ("actual", "required", "too_short"),
    [
        (-1, -1, False),
        (7 * DAY_MS, -1, True),  # any finite retention is too short for "forever"
        (10**15, -1, True),
        (-1, 30 * DAY_MS, False),
        (30 * DAY_MS, 30 * DAY_MS, False),
        (40 * DAY_MS, 30 * DAY_MS, False),  # keeping longer than asked loses no proof
        (DAY_MS, 30 * DAY_MS, True),
    ],
)
def test_shorter(actual: int, required: int, too_short: bool) -> None:
    assert shorter(actual, required) is too_short


def test_find_problems_names_each_topic_and_its_fix() -> None:
    found = [
        TopicRetention(names.TOPIC_ALERTS, -1),
        TopicRetention(names.TOPIC_DELIVERY, DAY_MS),
        TopicRetention(names.TOPIC_OBJECTIONS, -1, retention_bytes=10**9),
        TopicRetention(names.TOPIC_PURPOSES, -1, cleanup_policy="compact,delete"),
    ]

    problems = {p.topic: p.fixes for p in find_problems(found, -1)}

    assert problems == {
        names.TOPIC_DELIVERY: {"retention.ms": "-1"},
        names.TOPIC_OBJECTIONS: {"retention.bytes": "-1"},
        names.TOPIC_PURPOSES: {"cleanup.policy": "delete"},
    }


def test_the_alert_is_critical_names_the_topic_and_gives_the_command() -> None:
    settings = Settings(kafka_bootstrap="kafka-1:9092,kafka-2:9092", proof_retention_days=365)
    (problem,) = find_problems([TopicRetention(names.TOPIC_DELIVERY, 7 * DAY_MS)], 365 * DAY_MS)
    at = datetime(2026, 5, 1, tzinfo=UTC)

    alert = alert_for(problem, settings, at)

    command = (
        "kafka-configs.sh --bootstrap-server kafka-1:9092,kafka-2:9092 --alter "
        "--entity-type topics --entity-name notices.delivery "
        f"--add-config retention.ms={365 * DAY_MS}"
    )
    assert alert.severity == "critical"
    assert alert.code == "proof_retention_too_short"
    assert alert.campaign_id == SYSTEM_CAMPAIGN_ID
    assert alert.details == {
        "topic": "notices.delivery",
        "retention_ms": 7 * DAY_MS,
        "retention_bytes": -1,
        "cleanup_policy": "delete",
        "required": 365 * DAY_MS,
        "command": command,
    }
    assert "keeps records for 7 days" in alert.message and "requires 365 days" in alert.message
    assert command in alert.message
    # it follows the contract: the topic's own model parses it back
    encoded = alert.model_dump_json(exclude_none=True).encode()
    assert isinstance(decode(names.TOPIC_ALERTS, b"system", encoded), ComplianceAlert)


def test_a_secured_cluster_command_names_the_client_properties() -> None:
    settings = Settings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="preavis",
        kafka_sasl_password="a-password-for-the-unit-test",
    )
    (problem,) = find_problems([TopicRetention(names.TOPIC_ALERTS, DAY_MS)], -1)

    assert (
        alert_for(problem, settings, datetime.now(UTC))
        .details["command"]
        .endswith("--add-config retention.ms=-1 --command-config client.properties")
    )


def test_describe_ms() -> None:
    assert describe_ms(-1) == "forever"
    assert describe_ms(DAY_MS) == "1 day"
    assert describe_ms(DAY_MS * 3 // 2) == "1.5 days"
