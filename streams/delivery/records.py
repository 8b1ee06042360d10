"""The record step of a notice job: its durable writes, in the one order that is safe.

Every write here is acknowledged by the broker before the next step, and the
job's offset is acknowledged only after the last (``streams.guarded_agents``
acknowledges in arrival order). A crash in between makes the job run again,
and what can repeat is only what happened before the pair's delivery status
was stored: so that status is always written **last**.

- A final outcome: its ``notice.delivery`` event and the campaign ledger's
  ``FinalOutcome`` (together), then the delivery status.
- A recipient's deferral: its event and the retry (together), then the
  status. A status that records attempt n makes every copy of the job that
  knows fewer attempts stale, so the retry that carries attempt n must exist
  before it.
- A relay's deferral: its event only; the job stays in its slot.
- A hard bounce: the address's hash goes on the user's suppression list before
  the final outcome is recorded.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from notifications.addresses import suppression_digest
from notifications.delivery_policy import AttemptRecord, delivery_key
from notifications.events import NoticeDelivery, encode
from notifications.i18n import pick_language
from notifications.internal_events import FinalOutcome, NoticeJob, NoticeRetry, encode_internal
from notifications.smtp_reply import Outcome
from streams.campaigns.outputs import notice_id
from streams.delivery.ports import DeliveryPorts


@dataclass(frozen=True, slots=True)
class JobInPartition:
    """A notice job and the partition its records go to (its user's)."""

    job: NoticeJob
    partition: int

    @property
    def key(self) -> str:
        """The pair's key in the deliveries table."""
        return delivery_key(self.job.campaign_id, self.job.user_id)


async def record_attempt(ports: DeliveryPorts, work: JobInPartition, record: AttemptRecord) -> None:
    """The attempt's ``notice.delivery`` event: the proof of notice, stored by the broker."""
    ports.metrics.notices.labels(status=record.status.value).inc()
    job = work.job
    event = NoticeDelivery(
        notice_id=notice_id(job.campaign_id, job.user_id),
        campaign_id=job.campaign_id,
        user_id=job.user_id,
        status=record.status.value,
        reason=record.reason,
        attempt=record.attempt,
        message_id=record.message_id,
        content_sha256=record.content_sha256,
        at=ports.clock(),
    )
    await ports.delivery_events.send_acked(
        key=job.user_id.encode(), value=encode(event), partition=work.partition
    )


async def store_status(ports: DeliveryPorts, work: JobInPartition, record: AttemptRecord) -> None:
    """The pair's delivery status, written last: it is what stops a second email."""
    await ports.deliveries.put_acked(work.partition, work.key, record.as_status(ports.clock()))


async def record_final(ports: DeliveryPorts, work: JobInPartition, record: AttemptRecord) -> None:
    """A final outcome: its event and the campaign ledger's count, then the delivery status."""
    job = work.job
    entry = ports.directory.get(job.user_id) or {}
    locale = entry.get("locale")
    final = FinalOutcome(
        campaign_id=job.campaign_id,
        user_id=job.user_id,
        status=record.status.value,
        reason=record.reason if record.status is Outcome.SUPPRESSED else None,
        country=entry.get("country"),
        language=pick_language(locale) if locale else None,
        at=ports.clock(),
    )
    await asyncio.gather(
        record_attempt(ports, work, record),
        ports.ledger.send_acked(key=job.campaign_id.encode(), value=encode_internal(final)),
    )
    await store_status(ports, work, record)


async def record_deferral(
    ports: DeliveryPorts, work: JobInPartition, record: AttemptRecord, due_at: datetime
) -> None:
    """A recipient's deferral: its event and the retry, then the status; the slot is free then."""
    job = work.job
    retry = NoticeRetry(job=job.model_copy(update={"attempt": record.attempt}), due_at=due_at)
    await asyncio.gather(
        record_attempt(ports, work, record),
        ports.retries.send_acked(
            key=job.user_id.encode(), value=encode_internal(retry), partition=work.partition
        ),
    )
    await store_status(ports, work, record)


async def suppress_address(ports: DeliveryPorts, work: JobInPartition, email: str) -> None:
    """Put the hash of a hard-bounced ``email`` on its user's suppression list."""
    user_id = work.job.user_id
    digests = {*(ports.suppression.get(user_id) or []), suppression_digest(email)}
    await ports.suppression.put_acked(work.partition, user_id, sorted(digests))
