"""The Faust application factory: configuration and wiring, no logic.

There is no module-level app. Each worker process, and each test, builds its
own with :func:`create_app`, so that two apps never share an event loop or a
table. Domains register their agents and views through a ``register(app, wiring)``
function (:class:`streams.wiring.Wiring`: the tables, topics and shared parts,
all built before the first domain registers); ``DOMAINS`` is the explicit list
of them (Faust's ``autodiscover`` only logs a warning when a module fails to
import, and a missing agent would then silently drop a whole event stream;
here an import error stops the worker at start-up).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import faust

from notifications.smtp import SmtpPool
from streams import kafka
from streams.compliance.campaign_documents import CampaignDocuments
from streams.locks import PartitionLocks
from streams.metrics import Metrics
from streams.purpose_catalog import PurposeCatalog
from streams.runtime.offset_gaps import OffsetGaps
from streams.runtime.rewind import RewindingTransport
from streams.settings import Settings, smtp_config
from streams.tables import declare_tables
from streams.topics import TopicSpec, declare_topics
from streams.wiring import AudienceLookups, DirectoryHooks, Wiring

DOMAINS: tuple[str, ...] = (
    "streams.health.views",
    "streams.directory.agents",
    "streams.campaigns.agents",
    "streams.delivery.agents",
    "streams.purpose_catalog",
    "streams.objections.agents",
    "streams.objections.views",
    "streams.objections.exclusion_views",
    "streams.compliance.campaign_documents",
    "streams.compliance.views",
    "streams.metrics",
    "streams.watch.agents",
    "streams.runtime.recovery_guard",
)


class PreavisApp(faust.App):
    """A Faust app that also carries the worker's shared parts, for the views."""

    preavis: Wiring


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
    topics = declare_topics(app, settings)
    tables = declare_tables(app, settings)
    app.preavis = wiring = Wiring(
        settings=settings,
        topics=topics,
        tables=tables,
        lookups=AudienceLookups(objections=tables.objections, suppression=tables.suppression),
        hooks=DirectoryHooks(),
        locks=PartitionLocks(),
        smtp=SmtpPool(smtp_config(settings)),
        metrics=Metrics(),
        offset_gaps=OffsetGaps(),
        purpose_catalog=PurposeCatalog(),
        campaign_documents=CampaignDocuments(),
    )
    for module_name in DOMAINS:
        module = importlib.import_module(module_name)
        module.register(app, wiring)
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
