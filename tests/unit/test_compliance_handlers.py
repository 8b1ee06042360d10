"""The compliance API's answers without a broker: ``streams.compliance.handlers``.

Campaign documents are folded by the campaigns domain's own rule from ledger
records; delivery records are ``notice.delivery`` JSON as the topic holds it.
tests/integration/test_compliance.py stays the proof on the real worker.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from notifications.campaign_status import fold
from notifications.internal_events import CampaignRegistered
from streams.compliance.campaign_documents import CampaignDocument
from streams.compliance.handlers import (
    CompliancePorts,
    NoticeRecord,
    campaign_summaries,
    campaign_summary,
    proof_of_notice,
    user_notices,
)

PUBLISHED = datetime(2026, 3, 2, 9, tzinfo=UTC)
STARTS = PUBLISHED + timedelta(days=40)


def document(
    campaign_id: str, status: Literal["running", "rejected"] = "running"
) -> CampaignDocument:
    doc = fold(
        None,
        CampaignRegistered(
            campaign_id=campaign_id,
            kind="purpose",
            status=status,
            reasons=[] if status == "running" else ["notice_period_too_short"],
            starts_at=STARTS,
            published_at=PUBLISHED,
            partitions=2,
            purposes=["ai-training"],
            at=PUBLISHED,
        ),
    )
    assert doc is not None
    return dict(doc)


def notice(campaign_id: str, status: str, at: str, **fields: object) -> NoticeRecord:
    return {
        "type": "notice.delivery",
        "schema_version": 1,
        "notice_id": f"n-{campaign_id}",
        "campaign_id": campaign_id,
        "user_id": "u-0001",
        "status": status,
        "attempt": 1,
        "at": at,
        **fields,
    }


def ports(
    documents: dict[str, CampaignDocument],
    now: datetime,
    notices: list[NoticeRecord] | None = None,
    asked: list[str] | None = None,
) -> CompliancePorts:
    async def notices_of(user_id: str) -> list[NoticeRecord]:
        if asked is not None:
            asked.append(user_id)
        return list(notices or [])

    return CompliancePorts(
        campaigns=documents,
        notices_of=notices_of,
        clock=lambda: now,
        deadline_risk_days=7.0,
    )


def test_every_campaign_is_summarized_by_id_as_of_the_ports_clock() -> None:
    documents = {
        "purpose:b:v1": document("purpose:b:v1"),
        "purpose:a:v1": document("purpose:a:v1", status="rejected"),
    }

    early = campaign_summaries(ports(documents, now=PUBLISHED))
    late = campaign_summaries(ports(documents, now=STARTS - timedelta(days=2)))

    assert [s["campaign_id"] for s in early] == ["purpose:a:v1", "purpose:b:v1"]
    assert [s["status"] for s in early] == ["rejected", "running"]
    assert [s["deadline_at_risk"] for s in early] == [False, False]
    # two days before the start, the running one is at risk; a rejected one never is
    assert [s["deadline_at_risk"] for s in late] == [False, True]
    assert late[1]["time_left_seconds"] == 2 * 86400


def test_documents_that_arrive_later_are_seen_and_unknown_ids_are_none() -> None:
    documents: dict[str, CampaignDocument] = {}
    answers = ports(documents, now=PUBLISHED)
    assert campaign_summary(answers, "purpose:a:v1") is None

    documents["purpose:a:v1"] = document("purpose:a:v1")  # the follower's dict, read live

    found = campaign_summary(answers, "purpose:a:v1")
    assert found is not None and found["status"] == "running"
    assert [s["campaign_id"] for s in campaign_summaries(answers)] == ["purpose:a:v1"]


def test_proof_of_notice_keeps_the_last_status_and_every_attempt_per_campaign() -> None:
    sha = "ab" * 32
    events = [
        notice("purpose:a:v1", "deferred", "2026-03-03T09:00:00Z", reason="451 try later"),
        notice("terms:t:1", "suppressed", "2026-03-03T09:30:00Z", reason="already_objected"),
        notice(
            "purpose:a:v1",
            "sent",
            "2026-03-03T10:00:00Z",
            attempt=2,
            message_id="<m1@preavis>",
            content_sha256=sha,
        ),
        notice("purpose:a:v1", "bounced", "2026-03-04T08:00:00Z", attempt=2, reason="550"),
    ]

    proof = proof_of_notice("u-0001", events)

    assert proof["user_id"] == "u-0001"
    first, second = proof["notices"]
    assert first["campaign_id"] == "purpose:a:v1" and second["campaign_id"] == "terms:t:1"
    assert (first["status"], first["reason"], first["at"]) == (
        "bounced",
        "550",
        "2026-03-04T08:00:00Z",
    )
    # what was sent is still identified after the bounce, which names no message
    assert (first["message_id"], first["content_sha256"]) == ("<m1@preavis>", sha)
    assert [(a["status"], a["attempt"]) for a in first["attempts"]] == [
        ("deferred", 1),
        ("sent", 2),
        ("bounced", 2),
    ]
    assert second["status"] == "suppressed" and second["message_id"] is None
    assert second["attempts"] == [
        {
            "status": "suppressed",
            "reason": "already_objected",
            "attempt": 1,
            "at": "2026-03-03T09:30:00Z",
        }
    ]


async def test_user_notices_reads_that_users_records() -> None:
    asked: list[str] = []
    answers = ports(
        {},
        now=PUBLISHED,
        notices=[notice("purpose:a:v1", "sent", "2026-03-03T10:00:00Z")],
        asked=asked,
    )

    proof = await user_notices(answers, "u-0001")

    assert asked == ["u-0001"]
    assert [n["status"] for n in proof["notices"]] == ["sent"]


async def test_a_user_without_records_has_an_empty_proof() -> None:
    proof = await user_notices(ports({}, now=PUBLISHED), "u-0002")

    assert proof["user_id"] == "u-0002" and proof["notices"] == []
