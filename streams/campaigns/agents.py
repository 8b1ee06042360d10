"""Campaign agents: intake (validate, broadcast), fan-out per partition, the ledger.

- ``campaign_intake`` reads ``policy.purposes`` and ``policy.terms``. A change
  that fails Art. 13/14 or the notice period becomes ``compliance.alert``s and
  a rejected campaign; an accepted one is sent to *every* partition of
  ``preavis.campaign-fanout`` (one record each, partition set explicitly), so
  that each partition of the directory is reached exactly once, whatever the
  number of workers. Republishing a running campaign's id starts nothing.
- ``campaign_fanout`` runs on whichever worker owns a partition and decides
  for that partition's users only (``streams.campaigns.fanout``).
- ``campaign_ledger`` folds what happened into the campaign's status document.
- A hook on the directory gives late matches their notice.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import TYPE_CHECKING, Any

from notifications.campaign import Kind, purposes_of
from notifications.campaign_alerts import due_alerts
from notifications.campaign_status import summary
from notifications.events import ComplianceAlert, PurposeDeclared, Severity, TermsPublished, encode
from notifications.internal_events import (
    CampaignAlerted,
    CampaignRegistered,
    FanoutRequest,
    FinalOutcome,
    PartitionFannedOut,
    decode_internal,
    encode_internal,
)
from notifications.ledger_step import apply_ledger_record
from notifications.requirements import check_change
from streams.campaigns.fanout import ShardCampaign, fan_out, late_match
from streams.campaigns.outputs import CampaignOutputs
from streams.guarded_agents import run_guarded
from streams.runtime.batch_writer import PartitionWriter, raw_producer
from streams.runtime.partition_scan import scan_partition

if TYPE_CHECKING:
    from streams.app import PreavisApp
    from streams.wiring import Wiring

log = logging.getLogger(__name__)


def register(app: PreavisApp, wiring: Wiring) -> None:
    """Add the campaign tables and agents, and the late-match hook."""
    topics, settings = wiring.topics, wiring.settings
    partitions = settings.topic_partitions

    tables = wiring.tables
    seen = tables.campaigns_seen.raw
    shards = tables.campaign_shards.raw
    late_decisions = tables.late_decisions.raw
    exclusions_table = tables.exclusions.raw
    campaigns = tables.campaigns.raw
    counted_finals = tables.campaign_finals.raw
    outputs = CampaignOutputs(
        exclusions_topic=topics.exclusions,
        exclusions_table=exclusions_table,
        ledger=topics.ledger,
    )
    lookups = wiring.lookups
    locks = wiring.locks

    async def intake(event: Any, raw: Any) -> None:
        kind: Kind = "purpose" if isinstance(event, PurposeDeclared) else "terms"
        assert isinstance(event, PurposeDeclared | TermsPublished)
        campaign_id = event.campaign_id
        change = event.model_dump(mode="json", exclude_none=True)
        digest = hashlib.sha256(json.dumps(change, sort_keys=True).encode()).hexdigest()
        now = outputs.clock()
        previous = seen.get(campaign_id)
        if previous is not None and previous["status"] == "running":
            if previous["digest"] != digest:
                await _alert(
                    campaign_id,
                    "warning",
                    "republished_with_changes",
                    f"{campaign_id} was published again with a different text; "
                    "the first publication stands: publish a new version instead",
                    {"first_digest": previous["digest"], "new_digest": digest},
                )
            return
        verdict = check_change(
            event.model_dump(), kind=kind, min_notice_days=settings.min_notice_days
        )
        start = event.starts_at if isinstance(event, PurposeDeclared) else event.effective_at
        status = "running" if verdict.accepted else "rejected"
        if verdict.accepted:
            for partition in range(partitions):
                request = FanoutRequest(
                    campaign_id=campaign_id, kind=kind, partition=partition, change=change
                )
                await topics.fanout.send(
                    key=campaign_id.encode(), value=encode_internal(request), partition=partition
                )
        else:
            for alert in verdict.alerts():
                await _alert(
                    campaign_id,
                    alert["severity"],
                    alert["code"],
                    alert["message"],
                    alert["details"],
                )
        registered = CampaignRegistered(
            campaign_id=campaign_id,
            kind=kind,
            status=status,
            reasons=[alert["code"] for alert in verdict.alerts()],
            starts_at=start,
            published_at=event.published_at,
            partitions=partitions,
            purposes=purposes_of(change, kind),
            audience=change.get("audience") or {},
            at=now,
        )
        await topics.ledger.send(key=campaign_id.encode(), value=encode_internal(registered))
        seen[campaign_id] = {"status": status, "digest": digest, "at": now.isoformat()}
        log.info("campaign %s %s", campaign_id, status)

    async def _alert(
        campaign_id: str, severity: Severity, code: str, message: str, details: dict[str, Any]
    ) -> None:
        alert = ComplianceAlert(
            campaign_id=campaign_id,
            severity=severity,
            code=code,
            message=message,
            details=details,
            at=outputs.clock(),
        )
        await topics.alerts.send(key=campaign_id.encode(), value=encode(alert))

    async def fanout(request: FanoutRequest, raw: Any) -> None:
        partition = raw.message.partition
        directory = wiring.tables.directory.raw
        async with locks.hold(partition):
            registry = dict(shards.get(str(partition)) or {})
            state = registry.get(request.campaign_id)
            campaign = (
                ShardCampaign.from_dict(request.campaign_id, state)
                if state
                else ShardCampaign(request.campaign_id, request.kind, request.change)
            )
            if campaign.done:
                return
            writer = PartitionWriter(raw_producer(app), partition)

            async def save(updated: ShardCampaign) -> None:
                # the chunk's records reach the broker before its progress mark
                await writer.flush()
                await app.producer.flush()
                current = dict(shards.get(str(partition)) or {})
                current[updated.campaign_id] = updated.as_dict()
                shards[str(partition)] = current

            if state is None:
                await save(campaign)
            users = scan_partition(directory, partition, after=campaign.progress)
            tally = await fan_out(campaign, users, outputs, writer, lookups, save)
        done = PartitionFannedOut(
            campaign_id=request.campaign_id,
            partition=partition,
            notified=tally.notified,
            suppressed=dict(tally.suppressed),
            excluded=dict(tally.excluded),
            by_country=dict(tally.by_country),
            by_language=dict(tally.by_language),
            suppressed_by_country=dict(tally.suppressed_by_country),
            suppressed_by_language=dict(tally.suppressed_by_language),
            at=outputs.clock(),
        )
        await topics.ledger.send(key=request.campaign_id.encode(), value=encode_internal(done))
        log.info("campaign %s: partition %s fanned out", request.campaign_id, partition)

    async def on_user_changed(
        user_id: str, old: dict[str, Any] | None, new: dict[str, Any], partition: int
    ) -> None:
        """Called by the directory, under the partition's lock, after an upsert."""
        registry = shards.get(str(partition))
        if not registry:
            return
        now = outputs.clock()
        writer = PartitionWriter(raw_producer(app), partition)
        for campaign_id, state in registry.items():
            campaign = ShardCampaign.from_dict(campaign_id, state)
            if campaign.starts_at <= now or not campaign.covered(user_id):
                continue
            key = f"{campaign_id}|{user_id}"
            previous = late_decisions.get(key)
            code = await late_match(campaign, user_id, old, new, previous, outputs, writer, lookups)
            if code is not None and code != previous:
                late_decisions[key] = code
        await writer.flush()

    raised: set[tuple[str, str]] = set()  # alerts sent, until the ledger says so

    async def raise_due_alerts(doc: dict[str, Any]) -> None:
        now = outputs.clock()
        due = due_alerts(
            summary(doc, now, settings.deadline_risk_days), settings.failure_alert_ratio
        )
        for alert in due:
            if (doc["campaign_id"], alert["code"]) in raised:
                continue
            raised.add((doc["campaign_id"], alert["code"]))
            await _alert(
                doc["campaign_id"],
                alert["severity"],
                alert["code"],
                alert["message"],
                alert["details"],
            )
            alerted = CampaignAlerted(campaign_id=doc["campaign_id"], code=alert["code"], at=now)
            await topics.ledger.send(
                key=doc["campaign_id"].encode(), value=encode_internal(alerted)
            )

    async def ledger(entry: Any, event: Any) -> None:
        """Fold the record once, replayed or repeated (notifications.ledger_step)."""
        campaign_id = entry.campaign_id
        final_key = f"{campaign_id}|{entry.user_id}" if isinstance(entry, FinalOutcome) else None
        step = apply_ledger_record(
            campaigns.get(campaign_id),
            entry.model_dump(mode="json"),
            event.message.offset,
            counted_finals.get(final_key) if final_key else None,
        )
        if step.doc is not None:
            campaigns[campaign_id] = step.doc
            await raise_due_alerts(step.doc)
        if step.mark is not None:
            counted_finals[final_key] = step.mark

    @app.timer(interval=30.0)  # type: ignore[untyped-decorator]
    async def check_deadlines() -> None:
        """A campaign can fall at risk with no new event: the clock moves."""
        for _, doc in list(campaigns.items()):
            await raise_due_alerts(doc)

    @app.agent(topics.purposes, name="campaign_intake_purposes")
    async def campaign_intake_purposes(stream: Any) -> None:
        await run_guarded(stream, intake, topics.deadletter)

    @app.agent(topics.terms, name="campaign_intake_terms")
    async def campaign_intake_terms(stream: Any) -> None:
        await run_guarded(stream, intake, topics.deadletter)

    @app.agent(topics.fanout, name="campaign_fanout")
    async def campaign_fanout(stream: Any) -> None:
        await run_guarded(stream, fanout, topics.deadletter, decoder=decode_internal)

    @app.agent(topics.ledger, name="campaign_ledger")
    async def campaign_ledger(stream: Any) -> None:
        await run_guarded(stream, ledger, topics.deadletter, decoder=decode_internal)

    wiring.hooks.on_change.append(on_user_changed)
