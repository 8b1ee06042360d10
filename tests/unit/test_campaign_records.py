"""The fan-out's hand-made records are byte for byte what the models would encode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from notifications.events import NoticeDelivery, encode
from notifications.internal_events import NoticeJob, encode_internal
from streams.campaigns.outputs import notice_id
from streams.campaigns.records import job_bytes, suppressed_bytes

TIMES = [
    datetime(2026, 3, 5, 12, tzinfo=UTC),
    datetime(2026, 3, 5, 12, 0, 1, 500000, tzinfo=UTC),
    datetime(2026, 3, 5, 12, 0, 1, 120, tzinfo=UTC),
    datetime(2026, 3, 5, 12, tzinfo=timezone(timedelta(0))),
    datetime(2026, 3, 5, 12, tzinfo=timezone(timedelta(hours=1))),
    datetime(2026, 3, 5, 12, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
]
IDS = ["u00000001", "é-ü", 'quote"back\\slash', "tab\tnew\nline\x00\x1f\x7f", "😀", "\u2028"]
CAMPAIGNS = ["purpose:ai-training:v1", "terms:tos:2026-01"]


@pytest.mark.parametrize("at", TIMES, ids=[t.isoformat() for t in TIMES])
@pytest.mark.parametrize("user_id", IDS)
@pytest.mark.parametrize("late", [False, True])
def test_a_job_is_the_models_encoding(at: datetime, user_id: str, late: bool) -> None:
    for campaign_id in CAMPAIGNS:
        job = NoticeJob(campaign_id=campaign_id, user_id=user_id, issued_at=at, late=late)
        assert job_bytes(campaign_id, user_id, at, late=late) == encode_internal(job)


@pytest.mark.parametrize("at", TIMES, ids=[t.isoformat() for t in TIMES])
@pytest.mark.parametrize("user_id", IDS)
def test_a_suppressed_delivery_is_the_models_encoding(at: datetime, user_id: str) -> None:
    for campaign_id in CAMPAIGNS:
        for reason in ("already_objected", "no_email", "invalid_email", "bounced_before"):
            record = NoticeDelivery(
                notice_id=notice_id(campaign_id, user_id),
                campaign_id=campaign_id,
                user_id=user_id,
                status="suppressed",
                reason=reason,
                attempt=0,
                at=at,
            )
            made = suppressed_bytes(record.notice_id, campaign_id, user_id, reason, at)
            assert made == encode(record)
