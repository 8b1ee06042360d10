"""The campaign ledger folded into status and statistics, and the alerts it calls for.

Ledger records are the models the ``campaign_ledger`` agent decodes; the
document is the ``campaigns`` table's value.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from notifications.campaign_alerts import due_alerts
from notifications.campaign_status import CampaignStatus, fold, summary
from notifications.internal_events import (
    CampaignAlerted,
    CampaignObjection,
    CampaignRegistered,
    FinalOutcome,
    LedgerEntry,
    PartitionFannedOut,
    decode_internal,
    encode_internal,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
CID = "purpose:ai-training:v1"


def registered(
    status: Literal["running", "rejected"] = "running", partitions: int = 2, days: int = 45
) -> CampaignRegistered:
    return CampaignRegistered(
        campaign_id=CID,
        kind="purpose",
        status=status,
        reasons=[] if status == "running" else ["notice_period_too_short"],
        starts_at=NOW + timedelta(days=days),
        published_at=NOW,
        partitions=partitions,
        purposes=["ai-training"],
        at=NOW,
    )


def partition_done(
    partition: int,
    notified: int,
    suppressed: dict[str, int] | None = None,
    by_country: dict[str, int] | None = None,
    by_language: dict[str, int] | None = None,
) -> PartitionFannedOut:
    return PartitionFannedOut(
        campaign_id=CID,
        partition=partition,
        notified=notified,
        suppressed=suppressed or {},
        by_country=by_country or {},
        by_language=by_language or {},
        at=NOW,
    )


def final(user: str, status: str, country: str = "FR", language: str = "fr") -> FinalOutcome:
    return FinalOutcome(
        campaign_id=CID,
        user_id=user,
        status=status,
        reason="no_email" if status == "suppressed" else None,
        country=country,
        language=language,
        at=NOW,
    )


def objection(user: str = "a", at: datetime = NOW) -> CampaignObjection:
    return CampaignObjection(
        campaign_id=CID,
        user_id=user,
        purpose_id="ai-training",
        country="FR",
        language="fr",
        at=at,
    )


def run(*entries: LedgerEntry) -> CampaignStatus | None:
    doc = None
    for entry in entries:
        doc = fold(doc, entry)
    return doc


def test_running_until_every_partition_and_every_notified_person_is_done() -> None:
    doc = run(registered(), partition_done(0, 2, by_country={"FR": 2}, by_language={"fr": 2}))
    assert doc is not None and doc["status"] == "running"
    doc = run(
        registered(),
        partition_done(0, 2, by_country={"FR": 2}, by_language={"fr": 2}),
        partition_done(1, 1, suppressed={"no_email": 1}, by_country={"DE": 2}),
        final("a", "sent"),
        final("b", "bounced"),
    )
    assert doc is not None and doc["status"] == "running"
    doc = fold(doc, final("c", "sent", "DE", "de"))
    assert doc is not None and doc["status"] == "completed"
    shown = summary(doc, NOW)
    assert (shown["audience"], shown["sent"], shown["bounced"], shown["deferred"]) == (4, 2, 1, 0)
    assert shown["suppressed"] == {"no_email": 1}
    assert shown["by_country"]["FR"]["audience"] == 2
    assert shown["by_country"]["FR"]["sent"] == 1
    assert shown["by_country"]["DE"]["sent"] == 1


def test_a_partition_reported_twice_counts_once() -> None:
    doc = run(registered(), partition_done(0, 5), partition_done(0, 5))
    assert doc is not None and doc["notified"] == 5


def test_rejected_campaign_stays_rejected_and_can_be_registered_again() -> None:
    doc = run(registered("rejected"), partition_done(0, 3))
    assert doc is not None and doc["status"] == "rejected" and doc["notified"] == 0
    doc = fold(doc, registered("running"))
    assert doc is not None and doc["status"] == "running"


def test_objections_by_day_and_rate() -> None:
    doc = run(registered(partitions=1), partition_done(0, 4), objection())
    assert doc is not None
    shown = summary(doc, NOW)
    assert shown["objections"] == 1 and shown["objection_rate"] == 0.25
    assert shown["objections_by_day"] == {"2026-11-30": 1}
    assert shown["by_language"]["fr"]["objections"] == 1


def test_deadline_at_risk_only_when_running_and_close() -> None:
    far = run(registered(partitions=1, days=45), partition_done(0, 2))
    near = run(registered(partitions=1, days=3), partition_done(0, 2))
    assert far is not None and near is not None
    assert not summary(far, NOW)["deadline_at_risk"]
    assert summary(near, NOW)["deadline_at_risk"]
    codes = [a["code"] for a in due_alerts(summary(near, NOW), 0.05)]
    assert codes == ["deadline_at_risk"]
    alerted = fold(near, CampaignAlerted(campaign_id=CID, code="deadline_at_risk", at=NOW))
    assert alerted is not None and due_alerts(summary(alerted, NOW), 0.05) == []


def test_delivery_failures_alert_needs_enough_decided_notices() -> None:
    few = run(registered(partitions=1), partition_done(0, 3), final("a", "failed"))
    assert few is not None and due_alerts(summary(few, NOW), 0.05) == []
    entries = [final(f"u{i}", "sent") for i in range(9)] + [final("x", "bounced")]
    many = run(registered(partitions=1), partition_done(0, 20), *entries)
    assert many is not None
    [alert] = due_alerts(summary(many, NOW), 0.05)
    assert alert["code"] == "delivery_failures" and alert["details"]["ratio"] == 0.1


def test_the_document_keeps_times_as_the_ledger_json_wrote_them() -> None:
    """The document is JSON in a table: its times are the ledger's own strings."""
    record = decode_internal(
        "preavis.campaign-ledger", None, encode_internal(registered(partitions=1))
    )
    doc = fold(None, record)
    assert doc is not None
    assert doc["starts_at"] == (NOW + timedelta(days=45)).isoformat().replace("+00:00", "Z")
    assert doc["published_at"] == doc["registered_at"] == "2026-11-30T12:00:00Z"
    assert summary(doc, NOW)["time_left_seconds"] == 45 * 86400


def test_an_objection_counts_on_the_date_of_its_own_time() -> None:
    """The day is the date part of the record's time, as written (not converted to UTC)."""
    late_evening = datetime.fromisoformat("2026-11-30T23:30:00-05:00")  # 1 Dec in UTC
    doc = run(registered(partitions=1), partition_done(0, 4), objection(at=late_evening))
    assert doc is not None and doc["objections_by_day"] == {"2026-11-30": 1}
