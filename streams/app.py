"""The Faust application factory: configuration and wiring, no logic.

There is no module-level app. Each worker process, and each test, builds its
own with :func:`create_app`, so that two apps never share an event loop or a
table. Domains register their agents, tables and views through a
``register(app, topics, settings)`` function; ``DOMAINS`` is the explicit list
of them (Faust's ``autodiscover`` only logs a warning when a module fails to
import, and a missing agent would then silently drop a whole event stream;
here an import error stops the worker at start-up).
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import faust

from notifications.smtp import SmtpPool
from streams import kafka
from streams.campaigns.fanout import Lookups
from streams.locks import PartitionLocks
from streams.metrics import Metrics
from streams.runtime.offset_gaps import OffsetGaps
from streams.runtime.rewind import RewindingTransport
from streams.settings import Settings, smtp_config
from streams.topics import Topics, TopicSpec, declare_topics

DOMAINS: tuple[str, ...] = (
    "streams.health.views",
    "streams.directory.agents",
    "streams.campaigns.agents",
    "streams.delivery.agents",
    "streams.delivery.retries",
    "streams.purpose_catalog",
    "streams.objections.agents",
    "streams.web.objection_views",
    "streams.web.exclusion_views",
    "streams.campaign_follower",
    "streams.web.compliance_views",
    "streams.metrics",
    "streams.watch.agents",
    "streams.runtime.recovery_guard",
)


if TYPE_CHECKING:
    from streams.campaign_follower import CampaignDocuments
    from streams.purpose_catalog import PurposeCatalog

UserHook = Callable[[str, dict[str, Any] | None, dict[str, Any], int], Awaitable[None]]


class PreavisApp(faust.App):
    """A Faust app that also carries its settings and topics for the domains."""

    preavis_settings: Settings
    preavis_topics: Topics
    preavis_lookups: Lookups
    preavis_locks: PartitionLocks
    preavis_smtp: SmtpPool
    preavis_purpose_catalog: PurposeCatalog
    preavis_campaign_documents: CampaignDocuments
    preavis_metrics: Metrics
    # offsets that never reached the job agents (streams.runtime.offset_gaps)
    preavis_offset_gaps: OffsetGaps
    # called after each directory upsert: (user_id, old entry, new entry, partition)
    preavis_user_hooks: list[UserHook]
    # called on erasure, in the users event's partition: (user_id) -> None
    preavis_erase_hooks: list[Callable[[str], None]]


def create_app(settings: Settings) -> PreavisApp:
    """Build a fully wired Faust app from ``settings``."""
    datadir = Path(settings.data_dir) / settings.app_id
    datadir.mkdir(parents=True, exist_ok=True)
    app = PreavisApp(
        settings.app_id,
        broker=settings.faust_broker_url,
        # TLS and SASL for Faust's producer, consumer and topic creation
        broker_credentials=kafka.faust_credentials(settings),
        store=settings.store,
        datadir=str(datadir),
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication,
        topic_allow_declare=True,
        web_enabled=True,
        web_port=settings.web_port,
        web_host=settings.web_host,
        # streams.web.server serves the views; should Faust's own server ever
        # start, it binds where configured and mounts none of its built-in pages
        web_bind=settings.web_host,
        web_router_enabled=False,
        web_tables_enabled=False,
        web_stats_enabled=False,
        web_graph_enabled=False,
        web_metrics_enabled=False,
        web_in_thread=False,
        # Producers wait for the broker's acknowledgement; a notice counted as
        # sent must never be one the broker did not store.
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        # A delivery waiting out a relay's outage must not hold a rebalance (or
        # a shutdown) hostage: its offset is not committed, so the partition's
        # next owner delivers it (the deliveries table keeps that to one email).
        stream_wait_empty=False,
        table_standby_replicas=0,
        autodiscover=False,
    )
    # Faust's Kafka transport, whose seek to committed also rewinds partitions
    # that have no commit yet (streams.runtime.rewind); set through the public
    # setter before anything (the topics' conductor) asks for the transport
    app.transport = RewindingTransport(app.conf.broker_consumer, app)
    app.preavis_settings = settings
    app.preavis_topics = declare_topics(app, settings)
    app.preavis_lookups = Lookups()
    app.preavis_locks = PartitionLocks()
    app.preavis_smtp = SmtpPool(smtp_config(settings))
    app.preavis_metrics = Metrics()
    app.preavis_offset_gaps = OffsetGaps()
    app.preavis_user_hooks = []
    app.preavis_erase_hooks = []
    for module_name in DOMAINS:
        module = importlib.import_module(module_name)
        module.register(app, app.preavis_topics, settings)
    return app


def changelog_specs(app: PreavisApp) -> list[TopicSpec]:
    """The tables' changelog topics, compacted, as Faust declares them.

    ``preavis worker`` creates them before the worker joins its group. Left
    to Faust, they are created at start-up just before the group's assignor
    reads the cluster's metadata, which may not list them yet: the fault
    suite saw the assignor ignore three of them ("Ignoring missing topic"),
    and the worker stalled for four minutes until the next rebalance.
    """
    return [
        TopicSpec(table.changelog_topic.get_topic_name(), compacted=True, internal=True)
        for table in app.tables.values()
    ]
