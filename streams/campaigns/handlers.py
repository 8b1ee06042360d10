"""What the campaign agents do, as plain async functions of their ports.

- :func:`take_change` (intake, ``policy.purposes`` and ``policy.terms``): a
  change that fails Art. 13/14 or the notice period becomes
  ``compliance.alert``s and a rejected campaign; an accepted one is sent to
  *every* partition of ``preavis.campaign-fanout`` (one record each,
  partition set explicitly), so that each partition of the directory is
  reached exactly once, whatever the number of workers. Republishing a
  running campaign's id starts nothing.
- :func:`fan_out_partition` runs on whichever worker owns a partition and
  decides for that partition's users only (``streams.campaigns.fanout``).
- :func:`match_late` gives a user who starts to match a running campaign
  (after the fan-out passed them, before the start) their notice.
- :func:`fold_ledger_record` folds what happened into the campaign's status
  document, and :func:`raise_due_alerts` raises the alerts it calls for.

Each handler's ports say which tables and topics it touches; the agents
(``streams.campaigns.agents``) build them from the worker's wiring, the unit
tests from in-memory fakes. No Faust object reaches this module.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from notifications.campaign import (
    Change,
    SeenCampaign,
    ShardRegistry,
    change_digest,
    change_json,
    kind_of,
    purposes_of,
    start_of,
)
from notifications.campaign_alerts import AlertBody, due_alerts
from notifications.campaign_status import CampaignStatus, summary
from notifications.directory import DirectoryEntry
from notifications.events import ComplianceAlert, encode
from notifications.internal_events import (
    CampaignAlerted,
    CampaignRegistered,
    FanoutRequest,
    FinalOutcome,
    LedgerEntry,
    PartitionFannedOut,
    encode_internal,
)
from notifications.ledger_step import FinalMark, apply_ledger_record
from notifications.requirements import check_change
from streams.campaigns.fanout import CHUNK_SIZE, AudienceLookup, fan_out, late_match
from streams.campaigns.outputs import CampaignOutputs, RecordWriter
from streams.campaigns.registry import CampaignTexts, ShardCampaign
from streams.locks import PartitionLocks
from streams.ports import Table, Topic

log = logging.getLogger(__name__)


async def send_alert(alerts: Topic, campaign_id: str, alert: AlertBody, at: datetime) -> None:
    """One ``compliance.alert`` for ``campaign_id``."""
    record = ComplianceAlert(campaign_id=campaign_id, at=at, **alert)
    await alerts.send(key=campaign_id.encode(), value=encode(record))


# --- intake -----------------------------------------------------------------------------


@dataclass(frozen=True)
class IntakePorts:
    seen: Table[SeenCampaign]
    fanout: Topic
    ledger: Topic
    alerts: Topic
    partitions: int
    min_notice_days: int
    clock: Callable[[], datetime]


async def take_change(ports: IntakePorts, event: Change) -> None:
    """Validate a published change and start its campaign, or reject it with alerts."""
    campaign_id, kind = event.campaign_id, kind_of(event)
    change = change_json(event)
    digest = change_digest(change)
    now = ports.clock()
    previous = ports.seen.get(campaign_id)
    if previous is not None and previous["status"] == "running":
        if previous["digest"] != digest:
            warning: AlertBody = {
                "severity": "warning",
                "code": "republished_with_changes",
                "message": f"{campaign_id} was published again with a different text; "
                "the first publication stands: publish a new version instead",
                "details": {"first_digest": previous["digest"], "new_digest": digest},
            }
            await send_alert(ports.alerts, campaign_id, warning, ports.clock())
        return
    verdict = check_change(event, min_notice_days=ports.min_notice_days)
    if verdict.accepted:
        for partition in range(ports.partitions):
            request = FanoutRequest(
                campaign_id=campaign_id, kind=kind, partition=partition, change=change
            )
            await ports.fanout.send(
                key=campaign_id.encode(), value=encode_internal(request), partition=partition
            )
    else:
        for alert in verdict.alerts():
            await send_alert(ports.alerts, campaign_id, alert, ports.clock())
    status: Literal["running", "rejected"] = "running" if verdict.accepted else "rejected"
    registered = CampaignRegistered(
        campaign_id=campaign_id,
        kind=kind,
        status=status,
        reasons=[alert["code"] for alert in verdict.alerts()],
        starts_at=start_of(event),
        published_at=event.published_at,
        partitions=ports.partitions,
        purposes=purposes_of(event),
        audience=event.audience.model_dump(mode="json", exclude_none=True),
        at=now,
    )
    await ports.ledger.send(key=campaign_id.encode(), value=encode_internal(registered))
    ports.seen[campaign_id] = {"status": status, "digest": digest, "at": now.isoformat()}
    log.info("campaign %s %s", campaign_id, status)


# --- fan-out and late matches -------------------------------------------------------------


@dataclass(frozen=True)
class FanoutPorts:
    shards: Table[ShardRegistry]
    late_decisions: Table[str]
    outputs: CampaignOutputs
    lookups: AudienceLookup
    locks: PartitionLocks
    texts: CampaignTexts
    #: a partition's directory entries with user_id > the mark, in key order
    scan: Callable[[int, str | None], Iterable[tuple[str, DirectoryEntry]]]
    #: a batch writer for one partition
    open_writer: Callable[[int], RecordWriter]
    #: wait until everything else sent (exclusions, table changelogs) is acknowledged
    flush_producer: Callable[[], Awaitable[None]]
    chunk_size: int = CHUNK_SIZE


async def fan_out_partition(ports: FanoutPorts, request: FanoutRequest, partition: int) -> None:
    """Decide ``request``'s campaign for the users of ``partition``, resuming where it stopped."""
    key = str(partition)
    async with ports.locks.hold(partition):
        state = (ports.shards.get(key) or {}).get(request.campaign_id)
        if state is not None:
            campaign = ShardCampaign.from_state(request.campaign_id, state, ports.texts)
        else:
            campaign = ShardCampaign.new(
                request.campaign_id, request.kind, request.change, ports.texts
            )
        if campaign.done:
            return
        writer = ports.open_writer(partition)

        async def save(updated: ShardCampaign) -> None:
            # the chunk's records reach the broker before its progress mark
            await writer.flush()
            await ports.flush_producer()
            current = dict(ports.shards.get(key) or {})
            current[updated.campaign_id] = updated.as_state()
            ports.shards[key] = current

        if state is None:
            await save(campaign)
        users = ports.scan(partition, campaign.progress)
        tally = await fan_out(
            campaign, users, ports.outputs, writer, ports.lookups, save, chunk_size=ports.chunk_size
        )
    done = PartitionFannedOut(
        campaign_id=request.campaign_id,
        partition=partition,
        at=ports.outputs.clock(),
        **tally.as_counts(),
    )
    await ports.outputs.ledger.send(key=request.campaign_id.encode(), value=encode_internal(done))
    log.info("campaign %s: partition %s fanned out", request.campaign_id, partition)


async def match_late(
    ports: FanoutPorts,
    user_id: str,
    old: DirectoryEntry | None,
    new: DirectoryEntry,
    partition: int,
) -> None:
    """After an upsert (the directory holds the partition's lock): campaigns it now concerns."""
    registry = ports.shards.get(str(partition))
    if not registry:
        return
    now = ports.outputs.clock()
    writer = ports.open_writer(partition)
    for campaign_id, state in registry.items():
        campaign = ShardCampaign.from_state(campaign_id, state, ports.texts)
        if campaign.starts_at <= now or not campaign.covered(user_id):
            continue
        key = f"{campaign_id}|{user_id}"
        previous = ports.late_decisions.get(key)
        code = await late_match(
            campaign, user_id, old, new, previous, ports.outputs, writer, ports.lookups
        )
        if code is not None and code != previous:
            ports.late_decisions[key] = code
    await writer.flush()


# --- the ledger ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerPorts:
    campaigns: Table[CampaignStatus]
    finals: Table[FinalMark]
    ledger: Topic
    alerts: Topic
    deadline_risk_days: float
    failure_alert_ratio: float
    clock: Callable[[], datetime]
    #: (campaign, code) of the alerts this worker sent, until the ledger says so
    raised: set[tuple[str, str]] = field(default_factory=set)


async def fold_ledger_record(ports: LedgerPorts, entry: LedgerEntry, offset: int) -> None:
    """Fold the record once, replayed or repeated (``notifications.ledger_step``)."""
    campaign_id = entry.campaign_id
    final_key = f"{campaign_id}|{entry.user_id}" if isinstance(entry, FinalOutcome) else None
    step = apply_ledger_record(
        ports.campaigns.get(campaign_id),
        entry,
        offset,
        ports.finals.get(final_key) if final_key else None,
    )
    if step.doc is not None:
        ports.campaigns[campaign_id] = step.doc
        await raise_due_alerts(ports, step.doc)
    if step.mark is not None and final_key is not None:
        ports.finals[final_key] = step.mark


async def raise_due_alerts(ports: LedgerPorts, doc: CampaignStatus) -> None:
    """The alerts the campaign's figures call for, each once (the ledger remembers it)."""
    now = ports.clock()
    campaign_id = doc["campaign_id"]
    due = due_alerts(summary(doc, now, ports.deadline_risk_days), ports.failure_alert_ratio)
    for alert in due:
        if (campaign_id, alert["code"]) in ports.raised:
            continue
        ports.raised.add((campaign_id, alert["code"]))
        await send_alert(ports.alerts, campaign_id, alert, ports.clock())
        alerted = CampaignAlerted(campaign_id=campaign_id, code=alert["code"], at=now)
        await ports.ledger.send(key=campaign_id.encode(), value=encode_internal(alerted))


async def check_deadlines(ports: LedgerPorts) -> None:
    """A campaign can fall at risk with no new event: the clock moves."""
    for _, doc in list(ports.campaigns.items()):
        await raise_due_alerts(ports, doc)
