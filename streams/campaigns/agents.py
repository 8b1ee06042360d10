"""Campaign agents: intake, fan-out per partition, the ledger, and the late-match hook.

Thin loops: each agent runs its stream through :func:`streams.guarded_agents.run_guarded`
and hands every event to a handler of :mod:`streams.campaigns.handlers`, with
ports built here, once, from the worker's wiring.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from notifications.directory import DirectoryEntry
from notifications.errors import ROOT, InvalidEvent
from notifications.events import PurposeDeclared, TermsPublished
from notifications.internal_events import FanoutRequest, decode_internal
from streams.campaigns import handlers
from streams.campaigns.fanout import EntryLookups
from streams.campaigns.outputs import CampaignOutputs, RecordWriter
from streams.campaigns.registry import CampaignTexts
from streams.guarded_agents import run_guarded
from streams.runtime.batch_writer import PartitionWriter, raw_producer
from streams.runtime.faust_ports import FaustTopic
from streams.runtime.partition_scan import scan_partition

if TYPE_CHECKING:
    from collections.abc import Iterable

    from streams.app import PreavisApp
    from streams.wiring import Wiring


def register(app: PreavisApp, wiring: Wiring) -> None:
    """Add the campaign agents, the deadline timer and the late-match hook."""
    topics, settings, tables = wiring.topics, wiring.settings, wiring.tables
    alerts, ledger = FaustTopic(topics.alerts), FaustTopic(topics.ledger)
    outputs = CampaignOutputs(
        exclusions_topic=FaustTopic(topics.exclusions),
        exclusions_table=tables.exclusions,
        ledger=ledger,
    )
    intake = handlers.IntakePorts(
        seen=tables.campaigns_seen,
        fanout=FaustTopic(topics.fanout),
        ledger=ledger,
        alerts=alerts,
        partitions=settings.topic_partitions,
        min_notice_days=settings.min_notice_days,
        clock=outputs.clock,
    )
    directory = tables.directory.raw

    def scan(partition: int, after: str | None) -> Iterable[tuple[str, DirectoryEntry]]:
        return scan_partition(directory, partition, after=after)

    def open_writer(partition: int) -> RecordWriter:
        return PartitionWriter(raw_producer(app), partition)

    async def flush_producer() -> None:
        await app.producer.flush()

    fanout = handlers.FanoutPorts(
        shards=tables.campaign_shards,
        late_decisions=tables.late_decisions,
        outputs=outputs,
        lookups=EntryLookups(wiring.lookups),
        locks=wiring.locks,
        texts=CampaignTexts(),
        scan=scan,
        open_writer=open_writer,
        flush_producer=flush_producer,
    )
    ledger_ports = handlers.LedgerPorts(
        campaigns=tables.campaigns,
        finals=tables.campaign_finals,
        ledger=ledger,
        alerts=alerts,
        deadline_risk_days=settings.deadline_risk_days,
        failure_alert_ratio=settings.failure_alert_ratio,
        clock=outputs.clock,
    )

    async def take_change(event: Any, raw: Any) -> None:
        if not isinstance(event, PurposeDeclared | TermsPublished):
            raise InvalidEvent(ROOT, f"not a published change: {type(event).__name__}")
        await handlers.take_change(intake, event)

    async def fan_out(request: FanoutRequest, raw: Any) -> None:
        await handlers.fan_out_partition(fanout, request, raw.message.partition)

    async def fold(entry: Any, raw: Any) -> None:
        await handlers.fold_ledger_record(ledger_ports, entry, raw.message.offset)

    async def on_user_changed(
        user_id: str, old: DirectoryEntry | None, new: DirectoryEntry, partition: int
    ) -> None:
        """Called by the directory, under the partition's lock, after an upsert."""
        await handlers.match_late(
            fanout,
            user_id,
            old,
            new,
            partition,
        )

    @app.timer(interval=30.0)  # type: ignore[untyped-decorator]
    async def check_deadlines() -> None:
        await handlers.check_deadlines(ledger_ports)

    @app.agent(topics.purposes, name="campaign_intake_purposes")
    async def campaign_intake_purposes(stream: Any) -> None:
        await run_guarded(stream, take_change, topics.deadletter)

    @app.agent(topics.terms, name="campaign_intake_terms")
    async def campaign_intake_terms(stream: Any) -> None:
        await run_guarded(stream, take_change, topics.deadletter)

    @app.agent(topics.fanout, name="campaign_fanout")
    async def campaign_fanout(stream: Any) -> None:
        await run_guarded(stream, fan_out, topics.deadletter, decoder=decode_internal)

    @app.agent(topics.ledger, name="campaign_ledger")
    async def campaign_ledger(stream: Any) -> None:
        await run_guarded(stream, fold, topics.deadletter, decoder=decode_internal)

    wiring.hooks.on_change.append(on_user_changed)
