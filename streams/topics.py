"""The topics preavis reads and writes, declared once.

``TOPIC_SPECS`` is plain data (name and cleanup policy) so that two different
clients agree on it: the Faust app declares its topics from it, and the admin
step that runs before a worker or a publishing tool creates them with the same
partition count. Every keyed topic has ``PREAVIS_TOPIC_PARTITIONS`` partitions
so that a user's events on ``users``, ``consent.objections`` and the internal
job topics land on the same partition number (co-partitioning).

Values and keys travel as raw bytes: decoding happens in ``streams.events`` so
that a value that does not parse can be routed to the dead letter topic with
its reason instead of failing inside Faust's deserializer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from streams import topic_names as names
from streams.internal_events import (
    TOPIC_FANOUT,
    TOPIC_JOBS,
    TOPIC_LEDGER,
    TOPIC_OBJECTION_REQUESTS,
    TOPIC_RETRIES,
)

if TYPE_CHECKING:
    import faust

    from streams.settings import Settings


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A topic's name and whether Kafka compacts it to the last value per key."""

    name: str
    compacted: bool = False
    internal: bool = False

    def config(self) -> dict[str, str]:
        """Broker-side topic configuration."""
        return {"cleanup.policy": "compact" if self.compacted else "delete"}


TOPIC_SPECS: tuple[TopicSpec, ...] = (
    TopicSpec(names.TOPIC_PURPOSES),
    TopicSpec(names.TOPIC_TERMS),
    TopicSpec(names.TOPIC_USERS, compacted=True),
    TopicSpec(names.TOPIC_OBJECTIONS),
    TopicSpec(names.TOPIC_DELIVERY),
    TopicSpec(names.TOPIC_EXCLUSIONS, compacted=True),
    TopicSpec(names.TOPIC_ALERTS),
    TopicSpec(names.TOPIC_DEADLETTER),
    TopicSpec(names.TOPIC_DOCUMENTS),
    TopicSpec(names.TOPIC_DOCUMENT_CHANGES),
    TopicSpec(TOPIC_FANOUT, internal=True),
    TopicSpec(TOPIC_JOBS, internal=True),
    TopicSpec(TOPIC_RETRIES, internal=True),
    TopicSpec(TOPIC_LEDGER, internal=True),
    TopicSpec(TOPIC_OBJECTION_REQUESTS, internal=True),
)


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
            config=spec.config(),
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
    )
