"""The topics preavis reads and writes, declared once.

``TOPIC_SPECS`` is plain data (name and cleanup policy) so that two different
clients agree on it: the Faust app declares its topics from it, and the admin
step that runs before a worker or a publishing tool creates them with the same
partition count. Every keyed topic has ``PREAVIS_TOPIC_PARTITIONS`` partitions
so that a user's events on ``users``, ``consent.objections`` and the internal
job topics land on the same partition number (co-partitioning).

The topics that hold proof (``PROOF_TOPICS``: who was told what and when, who
objected, what was published, what went wrong) keep their records for
``PREAVIS_PROOF_RETENTION_DAYS``, forever by default, whatever the broker's
default retention (7 days on a stock broker, after which an audit export would
silently lose records). Both clients (the admin step and Faust) take the
configuration from :meth:`TopicSpec.config`, so they cannot disagree.

Values and keys travel as raw bytes: decoding happens in ``notifications.events`` so
that a value that does not parse can be routed to the dead letter topic with
its reason instead of failing inside Faust's deserializer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from notifications import topic_names as names
from notifications.internal_events import (
    TOPIC_ADDRESS_INDEX,
    TOPIC_FANOUT,
    TOPIC_JOBS,
    TOPIC_LEDGER,
    TOPIC_OBJECTION_REQUESTS,
    TOPIC_RETRIES,
)

if TYPE_CHECKING:
    import faust

    from streams.settings import Settings


#: ``retention.ms`` / ``retention.bytes`` of a topic that never deletes by age or size.
KEEP_FOREVER = -1

_MS_PER_DAY = 86_400_000


def proof_retention_ms(settings: Settings | None) -> int:
    """``retention.ms`` of the proof topics: ``PREAVIS_PROOF_RETENTION_DAYS`` in ms, or -1.

    ``None`` (no settings) is the setting's default: kept forever.
    """
    days = None if settings is None else settings.proof_retention_days
    return KEEP_FOREVER if days is None else max(1, round(days * _MS_PER_DAY))


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A topic's name, whether Kafka compacts it, and whether it holds proof.

    A proof topic is never compacted: its key is a user or campaign id, and
    compaction would keep only the last notice or objection of each.
    """

    name: str
    compacted: bool = False
    internal: bool = False
    proof: bool = False

    def config(self, settings: Settings | None = None) -> dict[str, str]:
        """Broker-side topic configuration (``settings`` sets a proof topic's retention).

        A proof topic states its retention by age and by size explicitly, so
        that neither the broker's ``log.retention.hours`` nor a cluster-wide
        ``log.retention.bytes`` applies to it; ``cleanup.policy=delete`` with
        ``retention.ms=-1`` deletes nothing.
        """
        config = {"cleanup.policy": "compact" if self.compacted else "delete"}
        if self.proof:
            config["retention.ms"] = str(proof_retention_ms(settings))
            config["retention.bytes"] = str(KEEP_FOREVER)
        return config


TOPIC_SPECS: tuple[TopicSpec, ...] = (
    TopicSpec(names.TOPIC_PURPOSES, proof=True),
    TopicSpec(names.TOPIC_TERMS, proof=True),
    TopicSpec(names.TOPIC_USERS, compacted=True),
    TopicSpec(names.TOPIC_OBJECTIONS, proof=True),
    TopicSpec(names.TOPIC_DELIVERY, proof=True),
    TopicSpec(names.TOPIC_EXCLUSIONS, compacted=True),
    TopicSpec(names.TOPIC_ALERTS, proof=True),
    TopicSpec(names.TOPIC_DEADLETTER),
    TopicSpec(names.TOPIC_DOCUMENTS),
    TopicSpec(names.TOPIC_DOCUMENT_CHANGES),
    TopicSpec(TOPIC_FANOUT, internal=True),
    TopicSpec(TOPIC_JOBS, internal=True),
    TopicSpec(TOPIC_RETRIES, internal=True),
    TopicSpec(TOPIC_LEDGER, internal=True),
    TopicSpec(TOPIC_OBJECTION_REQUESTS, internal=True),
    TopicSpec(TOPIC_ADDRESS_INDEX, compacted=True, internal=True),
)

#: The topics that hold proof (CONTRACT.md, ``PREAVIS_PROOF_RETENTION_DAYS``).
PROOF_TOPICS: tuple[TopicSpec, ...] = tuple(spec for spec in TOPIC_SPECS if spec.proof)


@dataclass(frozen=True)
class Topics:
    """The Faust topic objects of one app, by role."""

    purposes: Any
    terms: Any
    users: Any
    objections: Any
    delivery: Any
    exclusions: Any
    alerts: Any
    deadletter: Any
    documents: Any
    document_changes: Any
    fanout: Any
    jobs: Any
    retries: Any
    ledger: Any
    objection_requests: Any
    address_index: Any


def declare_topics(app: faust.App, settings: Settings) -> Topics:
    """Declare every contract topic on ``app`` with the configured partitions."""

    def topic(spec_name: str) -> Any:
        spec = next(s for s in TOPIC_SPECS if s.name == spec_name)
        return app.topic(
            spec.name,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=settings.topic_partitions,
            replicas=settings.topic_replication,
            config=spec.config(settings),
            compacting=spec.compacted or None,
            allow_empty=True,
        )

    return Topics(
        purposes=topic(names.TOPIC_PURPOSES),
        terms=topic(names.TOPIC_TERMS),
        users=topic(names.TOPIC_USERS),
        objections=topic(names.TOPIC_OBJECTIONS),
        delivery=topic(names.TOPIC_DELIVERY),
        exclusions=topic(names.TOPIC_EXCLUSIONS),
        alerts=topic(names.TOPIC_ALERTS),
        deadletter=topic(names.TOPIC_DEADLETTER),
        documents=topic(names.TOPIC_DOCUMENTS),
        document_changes=topic(names.TOPIC_DOCUMENT_CHANGES),
        fanout=topic(TOPIC_FANOUT),
        jobs=topic(TOPIC_JOBS),
        retries=topic(TOPIC_RETRIES),
        ledger=topic(TOPIC_LEDGER),
        objection_requests=topic(TOPIC_OBJECTION_REQUESTS),
        address_index=topic(TOPIC_ADDRESS_INDEX),
    )
