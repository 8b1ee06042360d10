"""Campaign intake and the ledger fold, on in-memory tables and recording topics.

Intake gets the contract's example changes parsed by the real models; what
it writes is decoded as the fan-out agent, the ledger agent and a compliance
tool would read it. The ledger gets the records those agents write.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from notifications import events
from notifications import topic_names as names
from notifications.campaign import SeenCampaign, change_json
from notifications.campaign_status import CampaignStatus
from notifications.internal_events import (
    TOPIC_FANOUT,
    TOPIC_LEDGER,
    CampaignAlerted,
    CampaignRegistered,
    FanoutRequest,
    FinalOutcome,
    PartitionFannedOut,
    decode_internal,
)
from notifications.ledger_step import FinalMark
from streams.campaigns.handlers import (
    IntakePorts,
    LedgerPorts,
    check_deadlines,
    fold_ledger_record,
    take_change,
)
from tests import examples
from tests.support.fakes import MemoryTable, RecordingTopic

NOW = datetime(2026, 3, 2, 9, 5, tzinfo=UTC)  # just after the examples' publication
PARTITIONS = 4


@dataclass
class Intake:
    seen: MemoryTable[SeenCampaign] = field(default_factory=MemoryTable)
    fanout: RecordingTopic = field(default_factory=lambda: RecordingTopic(TOPIC_FANOUT))
    ledger: RecordingTopic = field(default_factory=lambda: RecordingTopic(TOPIC_LEDGER))
    alerts: RecordingTopic = field(default_factory=lambda: RecordingTopic(names.TOPIC_ALERTS))

    @property
    def ports(self) -> IntakePorts:
        return IntakePorts(
            self.seen, self.fanout, self.ledger, self.alerts, PARTITIONS, 30, lambda: NOW
        )

    def requests(self) -> list[tuple[int | None, FanoutRequest]]:
        return [
            (s.partition, decode_internal(TOPIC_FANOUT, s.key, s.value)) for s in self.fanout.sent
        ]

    def registered(self) -> list[CampaignRegistered]:
        return [decode_internal(TOPIC_LEDGER, s.key, s.value) for s in self.ledger.sent]

    def alert_codes(self) -> list[tuple[str, str]]:
        decoded = [events.decode(names.TOPIC_ALERTS, s.key, s.value) for s in self.alerts.sent]
        return [(a.severity, a.code) for a in decoded if isinstance(a, events.ComplianceAlert)]

    def written(self) -> int:
        return len(self.fanout.sent) + len(self.ledger.sent) + len(self.alerts.sent)


def purpose(**overrides: Any) -> events.PurposeDeclared:
    event = events.decode(
        names.TOPIC_PURPOSES,
        b"ai-training",
        json.dumps(examples.purpose_declared(**overrides)).encode(),
    )
    assert isinstance(event, events.PurposeDeclared)
    return event


# --- intake ------------------------------------------------------------------------------------


async def test_an_accepted_change_reaches_every_partition_once_and_is_registered() -> None:
    intake = Intake()
    event = purpose()

    await take_change(intake.ports, event)

    requests = intake.requests()
    assert [partition for partition, _ in requests] == list(range(PARTITIONS))
    assert all(r.partition == p and r.campaign_id == event.campaign_id for p, r in requests)
    assert all(r.change == change_json(event) for _, r in requests)  # the text as validated
    assert {s.key for s in intake.fanout.sent} == {b"purpose:ai-training:v1"}
    [registered] = intake.registered()
    assert (registered.status, registered.reasons, registered.partitions) == ("running", [], 4)
    assert (registered.purposes, registered.starts_at) == (["ai-training"], event.starts_at)
    assert registered.audience == {"countries": ["EEA"], "min_age": 18}
    assert intake.alerts.sent == []
    seen = intake.seen.get(event.campaign_id)
    assert seen is not None and seen["status"] == "running"


async def test_a_rejected_change_gets_alerts_and_no_fanout() -> None:
    intake = Intake()
    short = (NOW + timedelta(days=10)).isoformat()  # legitimate interest: 30 days needed

    await take_change(intake.ports, purpose(starts_at=short, retention=None))

    assert intake.fanout.sent == []
    assert intake.alert_codes() == [
        ("critical", "incomplete_notice"),
        ("critical", "notice_period_too_short"),
    ]
    [registered] = intake.registered()
    assert registered.status == "rejected"
    assert registered.reasons == ["incomplete_notice", "notice_period_too_short"]
    seen = intake.seen.get("purpose:ai-training:v1")
    assert seen is not None and seen["status"] == "rejected"


async def test_a_running_campaign_published_again_starts_nothing() -> None:
    intake = Intake()
    await take_change(intake.ports, purpose())
    before = intake.written()

    await take_change(intake.ports, purpose())  # a replay, or the same text again

    assert intake.written() == before


async def test_a_running_campaign_published_with_another_text_only_warns() -> None:
    intake = Intake()
    await take_change(intake.ports, purpose())
    fanned, logged = len(intake.fanout.sent), len(intake.ledger.sent)

    await take_change(intake.ports, purpose(retention="Kept for ever."))

    assert (len(intake.fanout.sent), len(intake.ledger.sent)) == (fanned, logged)
    assert intake.alert_codes() == [("warning", "republished_with_changes")]


async def test_a_rejected_campaign_fixed_under_the_same_id_starts() -> None:
    intake = Intake()
    await take_change(intake.ports, purpose(retention=None))

    await take_change(intake.ports, purpose())

    assert len(intake.requests()) == PARTITIONS
    assert [r.status for r in intake.registered()] == ["rejected", "running"]


# --- the ledger --------------------------------------------------------------------------------

CID = "purpose:ai-training:v1"
START = datetime(2026, 4, 16, 9, tzinfo=UTC)


@dataclass
class Ledger:
    campaigns: MemoryTable[CampaignStatus] = field(default_factory=MemoryTable)
    finals: MemoryTable[FinalMark] = field(default_factory=MemoryTable)
    ledger: RecordingTopic = field(default_factory=lambda: RecordingTopic(TOPIC_LEDGER))
    alerts: RecordingTopic = field(default_factory=lambda: RecordingTopic(names.TOPIC_ALERTS))
    now: datetime = NOW

    def __post_init__(self) -> None:
        self.ports = LedgerPorts(
            self.campaigns, self.finals, self.ledger, self.alerts, 7.0, 0.05, lambda: self.now
        )

    def doc(self) -> CampaignStatus:
        doc = self.campaigns.get(CID)
        assert doc is not None
        return doc


def registered(partitions: int = 1) -> CampaignRegistered:
    return CampaignRegistered(
        campaign_id=CID,
        kind="purpose",
        status="running",
        starts_at=START,
        published_at=NOW,
        partitions=partitions,
        purposes=["ai-training"],
        at=NOW,
    )


def done(notified: int) -> PartitionFannedOut:
    return PartitionFannedOut(campaign_id=CID, partition=0, notified=notified, at=NOW)


def final(user_id: str, status: str = "sent") -> FinalOutcome:
    return FinalOutcome(campaign_id=CID, user_id=user_id, status=status, country="FR", at=NOW)


async def test_a_final_outcome_reported_twice_is_counted_once() -> None:
    ledger = Ledger()
    await fold_ledger_record(ledger.ports, registered(), 0)
    await fold_ledger_record(ledger.ports, done(notified=2), 1)
    await fold_ledger_record(ledger.ports, final("ana"), 2)

    await fold_ledger_record(ledger.ports, final("ana"), 3)  # her notice went out twice
    await fold_ledger_record(ledger.ports, final("ana"), 2)  # and offset 2 is read again

    doc = ledger.doc()
    assert doc["finals"] == {"sent": 1} and doc["status"] == "running"  # ben still waits
    assert ledger.finals.get(f"{CID}|ana") == {"status": "sent", "offset": 2}
    await fold_ledger_record(ledger.ports, final("ben", "failed"), 4)
    assert ledger.doc()["status"] == "completed"
    assert ledger.doc()["by_country"]["FR"]["sent"] == 1


async def test_a_campaign_at_risk_raises_its_alert_once_and_says_so_on_the_ledger() -> None:
    ledger = Ledger(now=START - timedelta(days=3))  # three days left
    await fold_ledger_record(ledger.ports, registered(), 0)  # at risk from the start
    await fold_ledger_record(ledger.ports, done(notified=5), 1)
    await check_deadlines(ledger.ports)  # the timer, before the ledger told this worker

    decoded = [events.decode(names.TOPIC_ALERTS, s.key, s.value) for s in ledger.alerts.sent]
    assert [(a.severity, a.code) for a in decoded if isinstance(a, events.ComplianceAlert)] == [
        ("critical", "deadline_at_risk")
    ]
    [alerted] = [decode_internal(TOPIC_LEDGER, s.key, s.value) for s in ledger.ledger.sent]
    assert isinstance(alerted, CampaignAlerted) and alerted.code == "deadline_at_risk"

    await fold_ledger_record(ledger.ports, alerted, 2)  # the ledger remembers it
    restarted = Ledger(campaigns=ledger.campaigns, now=ledger.now)  # a worker that never sent it
    await check_deadlines(restarted.ports)
    assert restarted.alerts.sent == [] and ledger.doc()["alerts"] == ["deadline_at_risk"]


async def test_records_of_an_unknown_campaign_leave_nothing() -> None:
    ledger = Ledger()

    await fold_ledger_record(ledger.ports, final("ana"), 0)

    assert ledger.campaigns.data == {} and ledger.finals.data == {}
    assert ledger.alerts.sent == [] and ledger.ledger.sent == []
