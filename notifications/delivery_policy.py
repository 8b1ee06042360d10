"""What a notice job comes to: the delivery rules, as pure functions of typed values.

Delivery (``streams.delivery.handlers``) reads the tables, sends and writes;
what it writes is decided here, so that every rule is tested without a relay
or a broker, and a handler that keeps many jobs in flight takes each one's
decisions exactly as a handler that keeps one.

- **At most one email per (campaign, user).** The deliveries table holds each
  pair's *delivery status* (:class:`DeliveryStatus`); a pair with a final
  status, or one that records a later attempt than the job knows of (a copy
  redelivered after a crash, whose deferral is already queued), is settled
  (:func:`is_settled`).
- **Checked again before sending** (:func:`suppression_reason`): an erased user
  gets nothing (:data:`ERASED`), nor one who objected since the fan-out, nor an
  address that became invalid or bounced before: the fan-out's own last step,
  :func:`notifications.audience.recheck`.
- **What a reply becomes** (:func:`judge`, a :data:`SendVerdict`): ``2xx`` sent, ``5xx`` failed,
  ``5.1.x`` bounced, and the address goes on the user's suppression list;
  ``4xx`` or a connection error deferred, tried again after a capped
  exponential backoff with full jitter, but never after the campaign's start
  date (:func:`retry_due_at`): once it has passed, a notice is pointless and
  the deferral is ``failed``. Where a deferred notice waits depends on who said
  "later": a recipient's mailbox (``RCPT``/``DATA``) sends the job to the
  retry topic and frees its slot, so that one full mailbox never holds up
  anyone; the relay itself (connection, greeting, ``MAIL FROM``, ``421``)
  keeps it in its slot, since no other notice would get through either.

"Ledger" in preavis means the campaign ledger topic only; what delivery keeps
per pair is the deliveries table.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict

from notifications.audience import recheck
from notifications.backoff import backoff_delay
from notifications.campaign_status import FINAL_DELIVERY_STATUSES
from notifications.directory import DirectoryEntry
from notifications.smtp_reply import Outcome, SendResult

#: The longest wait between two attempts of one notice, in seconds.
BACKOFF_CAP_SECONDS = 30.0
#: Why a job whose user is gone from the directory is not sent.
ERASED = "erased"

#: The suppression table's value: the SHA-256 of each address of the user that
#: hard-bounced (``notifications.addresses.suppression_digest``), never the address.
SuppressedAddresses = list[str]


class DeliveryStatus(TypedDict):
    """A deliveries table value (key ``campaign_id|user_id``): the pair's last attempt.

    The proof of notice, and the guard of "at most one email per pair".
    ``status`` is an :class:`Outcome` value; ``at`` an ISO time, as the table's
    JSON stores it.
    """

    status: str
    reason: str
    attempt: int
    message_id: str | None
    content_sha256: str | None
    at: str


def delivery_key(campaign_id: str, user_id: str) -> str:
    """The deliveries table's key of a (campaign, user) pair."""
    return f"{campaign_id}|{user_id}"


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """What one attempt came to: what its ``notice.delivery`` event and delivery status carry."""

    status: Outcome
    reason: str
    attempt: int
    message_id: str | None = None
    content_sha256: str | None = None

    @property
    def final(self) -> bool:
        """Whether the pair is settled by it (sent, failed, bounced, suppressed)."""
        return self.status in FINAL_DELIVERY_STATUSES

    def as_status(self, at: datetime) -> DeliveryStatus:
        """The pair's delivery status after this attempt."""
        return DeliveryStatus(
            status=self.status.value,
            reason=self.reason,
            attempt=self.attempt,
            message_id=self.message_id,
            content_sha256=self.content_sha256,
            at=at.isoformat(),
        )


def is_settled(status: DeliveryStatus | None, attempt: int) -> bool:
    """Whether a job that made ``attempt`` attempts so far must not send (see the module doc)."""
    if status is None:
        return False
    return status["status"] in FINAL_DELIVERY_STATUSES or int(status["attempt"]) > attempt


def suppression_reason(entry: DirectoryEntry, *, objected: bool, bounced: bool) -> str | None:
    """Why a user still in the directory is not sent the notice after all, or ``None``.

    The fan-out's own last step, with what may have changed since: an
    objection, a new address, a bounce. (A user gone from the directory is
    suppressed too, as :data:`ERASED`.)
    """
    return recheck(entry, objected=objected, bounced=bounced).reason


@dataclass(frozen=True, slots=True)
class FinalAttempt:
    """The attempt settles the pair: record it as the pair's last word."""

    record: AttemptRecord
    #: a hard bounce: the address goes on the user's suppression list first
    suppress_address: bool = False


@dataclass(frozen=True, slots=True)
class Deferral:
    """The attempt was deferred: record it, and try again at ``due_at``."""

    record: AttemptRecord
    due_at: datetime
    #: the relay's "later" (wait in the slot and send again); else a recipient's
    #: (queue the job on the retry topic and free the slot)
    wait_in_slot: bool


#: What one send comes to.
SendVerdict = FinalAttempt | Deferral


def retry_due_at(
    attempt: int, now: datetime, deadline: datetime, *, rng: random.Random | None = None
) -> datetime:
    """When to make the attempt after ``attempt``: a jittered backoff, never past ``deadline``."""
    delay = backoff_delay(attempt, cap=BACKOFF_CAP_SECONDS, rng=rng)
    return min(deadline, now + timedelta(seconds=delay))


def judge(
    result: SendResult,
    attempt: int,
    *,
    message_id: str,
    content_sha256: str,
    deadline: datetime,
    now: datetime,
    rng: random.Random | None = None,
) -> SendVerdict:
    """What attempt number ``attempt`` (``>= 1``), answered by ``result``, comes to.

    ``deadline`` is the campaign's start date: a deferral at or after it is
    ``failed`` with the reply, as no later notice would come in time.
    """

    def record(status: Outcome, reason: str) -> AttemptRecord:
        return AttemptRecord(status, reason, attempt, message_id, content_sha256)

    if result.outcome is not Outcome.DEFERRED:
        bounced = result.outcome is Outcome.BOUNCED
        return FinalAttempt(record(result.outcome, result.reply), suppress_address=bounced)
    if now >= deadline:
        return FinalAttempt(record(Outcome.FAILED, f"start date passed: {result.reply}"))
    return Deferral(
        record(Outcome.DEFERRED, result.reply),
        retry_due_at(attempt, now, deadline, rng=rng),
        wait_in_slot=not result.recipient_only,
    )
