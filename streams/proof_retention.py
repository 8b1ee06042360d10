"""At start-up: does every topic that holds proof keep it as long as it must?

``ensure_topics`` creates a missing proof topic with the configured
retention, but a topic that already exists keeps whatever it was created with:
a broker's default (7 days on a stock one), or an operator's choice. Kafka then
deletes notices and objections older than that, the audit export and
``/api/v1/users/{id}/notices`` lose them without a sound, and ``preavis audit
verify`` still says OK on what is left. So the worker reads the effective
configuration of each proof topic (DescribeConfigs) and, for each one that
would delete proof sooner than ``PREAVIS_PROOF_RETENTION_DAYS`` allows, logs a
critical message and writes a critical ``compliance.alert``
``proof_retention_too_short``.

It does not alter the topic: a cluster's retention is the operator's decision
(disk, other consumers, their own legal advice), so the message gives the exact
``kafka-configs.sh`` command instead. It does not refuse to start either:
stopping notices and objections would harm the people the proof is about more
than a retention that can be raised at any time.

The alert is a system alert: its ``campaign_id`` (the topic's key) is
:data:`SYSTEM_CAMPAIGN_ID`, ``system``, which no campaign id can be (those
start with ``purpose:`` or ``terms:``). Each start raises it again while the
problem lasts, once per worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from notifications import topic_names as names
from notifications.errors import KafkaRequestError, TransientKafkaError
from notifications.events import ComplianceAlert, encode
from streams import kafka
from streams.failures import kafka_errors
from streams.settings import Settings
from streams.topics import KEEP_FOREVER, PROOF_TOPICS, TopicSpec, proof_retention_ms

log = logging.getLogger(__name__)

CODE = "proof_retention_too_short"
#: ``campaign_id`` of an alert about the system rather than one campaign.
SYSTEM_CAMPAIGN_ID = "system"

_CONFIGS = ("retention.ms", "retention.bytes", "cleanup.policy")

#: What each proof topic would lose, for the message.
_HOLDS = {
    names.TOPIC_DELIVERY: "the proof of who was notified of what and when",
    names.TOPIC_OBJECTIONS: "objections (and the exclusions rebuilt from them)",
    names.TOPIC_PURPOSES: "the purposes as they were declared",
    names.TOPIC_TERMS: "the terms as they were published",
    names.TOPIC_ALERTS: "compliance alerts",
}


@dataclass(frozen=True)
class TopicRetention:
    """A topic's effective retention, as the broker reports it (its own or the default)."""

    topic: str
    retention_ms: int
    retention_bytes: int = KEEP_FOREVER
    cleanup_policy: str = "delete"


@dataclass(frozen=True)
class RetentionProblem:
    """A proof topic that deletes records sooner than the setting allows, and the fix."""

    found: TopicRetention
    required_ms: int
    fixes: dict[str, str]  # config -> value that the fix sets

    @property
    def topic(self) -> str:
        return self.found.topic

    def command(self, bootstrap: str, secured: bool = False) -> str:
        """The ``kafka-configs.sh`` command that fixes it (an operator runs it, not preavis)."""
        configs = ",".join(f"{name}={value}" for name, value in self.fixes.items())
        command = (
            f"kafka-configs.sh --bootstrap-server {bootstrap} --alter --entity-type topics "
            f"--entity-name {self.topic} --add-config {configs}"
        )
        return command + (" --command-config client.properties" if secured else "")

    def explanation(self) -> str:
        """What is wrong, in words (no command)."""
        found = self.found
        parts: list[str] = []
        if "retention.ms" in self.fixes:
            parts.append(
                f"keeps records for {describe_ms(found.retention_ms)} "
                f"(retention.ms={found.retention_ms})"
            )
        if "retention.bytes" in self.fixes:
            parts.append(
                f"deletes the oldest records beyond {found.retention_bytes} bytes per partition "
                f"(retention.bytes={found.retention_bytes})"
            )
        if "cleanup.policy" in self.fixes:
            parts.append(
                f"is compacted (cleanup.policy={found.cleanup_policy}), which keeps only the "
                "last record of each key"
            )
        held = _HOLDS.get(self.topic, "its records")
        return (
            f"proof topic {self.topic} " + " and ".join(parts) + "; PREAVIS_PROOF_RETENTION_DAYS "
            f"requires {describe_ms(self.required_ms)}: Kafka will delete {held} and the "
            "audit export will silently miss them"
        )


def describe_ms(ms: int) -> str:
    """``-1`` as ``forever``, anything else in days."""
    if ms < 0:
        return "forever"
    days = ms / 86_400_000
    return f"{days:g} day" + ("" if days == 1 else "s")


def shorter(actual_ms: int, required_ms: int) -> bool:
    """Whether ``retention.ms`` ``actual_ms`` deletes sooner than ``required_ms`` (-1: never)."""
    if actual_ms < 0:
        return False
    return required_ms < 0 or actual_ms < required_ms


def find_problems(found: Iterable[TopicRetention], required_ms: int) -> list[RetentionProblem]:
    """Pure: the topics among ``found`` that lose proof, each with the settings that fix it."""
    problems: list[RetentionProblem] = []
    for topic in found:
        fixes: dict[str, str] = {}
        if shorter(topic.retention_ms, required_ms):
            fixes["retention.ms"] = str(required_ms)
        if topic.retention_bytes >= 0:
            fixes["retention.bytes"] = str(KEEP_FOREVER)
        if "compact" in topic.cleanup_policy:
            fixes["cleanup.policy"] = "delete"
        if fixes:
            problems.append(RetentionProblem(topic, required_ms, fixes))
    return problems


def alert_for(problem: RetentionProblem, settings: Settings, at: datetime) -> ComplianceAlert:
    """The critical ``compliance.alert`` of one problem (message and details)."""
    command = problem.command(
        settings.kafka_bootstrap, settings.kafka_security_protocol != "PLAINTEXT"
    )
    return ComplianceAlert(
        campaign_id=SYSTEM_CAMPAIGN_ID,
        severity="critical",
        code=CODE,
        message=f"{problem.explanation()}. preavis does not change a cluster's retention; "
        f"to fix it, run: {command}",
        details={
            "topic": problem.topic,
            "retention_ms": problem.found.retention_ms,
            "retention_bytes": problem.found.retention_bytes,
            "cleanup_policy": problem.found.cleanup_policy,
            "required": problem.required_ms,
            "command": command,
        },
        at=at,
    )


async def describe_retention(settings: Settings, topics: Iterable[str]) -> list[TopicRetention]:
    """The effective retention of each of ``topics`` that exists (DescribeConfigs)."""
    admin = kafka.admin(settings)
    with kafka_errors():
        await admin.start()
        try:
            present = set(await admin.list_topics())
            wanted = [t for t in topics if t in present]
            if not wanted:
                return []
            responses = await admin.describe_configs(
                [
                    ConfigResource(ConfigResourceType.TOPIC, t, dict.fromkeys(_CONFIGS))
                    for t in wanted
                ]
            )
        finally:
            await admin.close()
    found: list[TopicRetention] = []
    for response in responses:
        for resource in response.to_object()["resources"]:
            if resource["error_code"] != 0:
                raise KafkaRequestError(
                    f"DescribeConfigs {resource['resource_name']}: error {resource['error_code']} "
                    f"{resource['error_message'] or ''}".rstrip()
                )
            values = {e["config_names"]: e["config_value"] for e in resource["config_entries"]}
            found.append(
                TopicRetention(
                    topic=resource["resource_name"],
                    retention_ms=int(values.get("retention.ms") or KEEP_FOREVER),
                    retention_bytes=int(values.get("retention.bytes") or KEEP_FOREVER),
                    cleanup_policy=values.get("cleanup.policy") or "delete",
                )
            )
    return sorted(found, key=lambda t: t.topic)


def _now() -> datetime:
    return datetime.now(UTC)


async def check_proof_retention(
    settings: Settings,
    specs: Iterable[TopicSpec] = PROOF_TOPICS,
    *,
    now: Callable[[], datetime] = _now,
) -> list[RetentionProblem]:
    """Check the proof topics; log and alert each problem; return them. Never raises.

    A check that cannot run (DescribeConfigs refused by an ACL, a broker
    error) is logged as an error and the worker starts all the same.
    """
    required = proof_retention_ms(settings)
    try:
        found = await describe_retention(settings, [spec.name for spec in specs])
    except (TransientKafkaError, KafkaRequestError, OSError) as exc:
        log.error("could not check the retention of the proof topics: %s", exc)
        return []
    problems = find_problems(found, required)
    if not problems:
        log.info(
            "proof topics keep their records %s (%d topic(s) checked)",
            describe_ms(required),
            len(found),
        )
        return problems
    alerts = [alert_for(problem, settings, now()) for problem in problems]
    for alert in alerts:
        log.critical("%s", alert.message)
    try:
        with kafka_errors():
            await _send(settings, alerts)
    except (TransientKafkaError, OSError) as exc:
        log.error("could not write the %s alert(s) to %s: %s", CODE, names.TOPIC_ALERTS, exc)
    return problems


async def _send(settings: Settings, alerts: list[ComplianceAlert]) -> None:
    producer = kafka.producer(settings, acks="all")
    await producer.start()
    try:
        for alert in alerts:
            await producer.send_and_wait(
                names.TOPIC_ALERTS, key=alert.campaign_id.encode(), value=encode(alert)
            )
    finally:
        await producer.stop()
