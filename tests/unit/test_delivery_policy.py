"""Delivery's rules as pure functions: what a reply becomes, when to try again, what is settled."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from notifications.delivery_policy import (
    BACKOFF_CAP_SECONDS,
    AttemptRecord,
    Deferral,
    DeliveryStatus,
    FinalAttempt,
    SendVerdict,
    is_settled,
    judge,
    retry_due_at,
    suppression_reason,
)
from notifications.directory import DirectoryEntry
from notifications.smtp_reply import Outcome, SendResult

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
DEADLINE = NOW + timedelta(days=30)


def verdict(result: SendResult, *, now: datetime = NOW, attempt: int = 1) -> SendVerdict:
    return judge(
        result,
        attempt,
        message_id="<m@example.org>",
        content_sha256="0" * 64,
        deadline=DEADLINE,
        now=now,
        rng=random.Random(7),
    )


@pytest.mark.parametrize(
    ("result", "status", "suppress"),
    [
        (SendResult(Outcome.SENT, "250 ok", 250), Outcome.SENT, False),
        (SendResult(Outcome.FAILED, "554 5.7.1 rejected", 554, True), Outcome.FAILED, False),
        (SendResult(Outcome.BOUNCED, "550 5.1.1 unknown", 550, True), Outcome.BOUNCED, True),
    ],
)
def test_a_reply_that_is_not_a_deferral_is_final(
    result: SendResult, status: Outcome, suppress: bool
) -> None:
    v = verdict(result)
    assert v == FinalAttempt(
        AttemptRecord(status, result.reply, 1, "<m@example.org>", "0" * 64),
        suppress_address=suppress,
    )
    assert v.record.final


def test_who_said_later_decides_where_the_notice_waits() -> None:
    mailbox = verdict(SendResult(Outcome.DEFERRED, "452 full", 452, recipient_only=True))
    relay = verdict(SendResult(Outcome.DEFERRED, "421 closing", 421))
    assert isinstance(mailbox, Deferral) and not mailbox.wait_in_slot
    assert isinstance(relay, Deferral) and relay.wait_in_slot
    assert mailbox.record.status is Outcome.DEFERRED and not mailbox.record.final


def test_a_deferral_at_or_after_the_start_date_is_failed_with_the_reply() -> None:
    for now in (DEADLINE, DEADLINE + timedelta(hours=1)):
        v = verdict(SendResult(Outcome.DEFERRED, "451 later", 451, True), now=now)
        assert v == FinalAttempt(
            AttemptRecord(
                Outcome.FAILED, "start date passed: 451 later", 1, "<m@example.org>", "0" * 64
            )
        )


def test_the_next_attempt_is_backed_off_capped_and_never_after_the_start_date() -> None:
    rng = random.Random(1)
    for attempt in range(1, 40):
        due = retry_due_at(attempt, NOW, DEADLINE, rng=rng)
        ceiling = min(BACKOFF_CAP_SECONDS, 2.0 ** (attempt - 1))
        assert NOW <= due <= NOW + timedelta(seconds=ceiling)
    soon = NOW + timedelta(milliseconds=5)
    assert all(retry_due_at(9, NOW, soon) <= soon for _ in range(50))


def status(state: str, attempt: int) -> DeliveryStatus:
    return DeliveryStatus(
        status=state, reason="", attempt=attempt, message_id=None, content_sha256=None, at=""
    )


@pytest.mark.parametrize(
    ("stored", "job_attempt", "settled"),
    [
        (None, 0, False),
        (status("sent", 1), 0, True),
        (status("suppressed", 0), 0, True),
        (status("failed", 3), 5, True),  # final, whatever the copy knows
        (status("deferred", 1), 1, False),  # the retry that carries attempt 1
        (status("deferred", 1), 0, True),  # a stale copy: its deferral is queued already
    ],
)
def test_what_is_settled(stored: DeliveryStatus | None, job_attempt: int, settled: bool) -> None:
    assert is_settled(stored, job_attempt) is settled


def test_the_pairs_status_is_the_records_fields_and_time() -> None:
    record = AttemptRecord(Outcome.DEFERRED, "452 full", 2, "<m@x.org>", "a" * 64)
    assert record.as_status(NOW) == DeliveryStatus(
        status="deferred",
        reason="452 full",
        attempt=2,
        message_id="<m@x.org>",
        content_sha256="a" * 64,
        at=NOW.isoformat(),
    )


def test_what_is_checked_again_before_sending() -> None:
    entry = DirectoryEntry(user_id="u", email="a@example.org", status="active")
    assert suppression_reason(entry, objected=False, bounced=False) is None
    assert suppression_reason(entry, objected=True, bounced=True) == "already_objected"
    assert suppression_reason(entry, objected=False, bounced=True) == "bounced_before"
    no_email = DirectoryEntry(user_id="u", email=None)
    assert suppression_reason(no_email, objected=False, bounced=False) == "no_email"
