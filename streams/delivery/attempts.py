"""One notice job, from the checks to the final status: the delivery loop.

The rules, in order:
- at most one email per (campaign, user): the deliveries table
  (``streams.delivery.tables``, co-partitioned with the jobs) is checked
  first; a pair with a final status is never sent again, and a pair already
  being delivered by another actor of this worker is left to it;
- what may have changed since the fan-out is checked again: an erased user
  gets nothing (``erased``), nor one who objected meanwhile
  (``already_objected``), nor an address that is invalid or bounced before
  (:func:`notifications.audience.recheck`, the fan-out's own last step);
- a 4xx reply or a connection error is ``deferred`` and tried again after a
  capped exponential backoff with full jitter, for as long as it takes until
  the campaign's start date (after it a notice is pointless: ``failed`` with
  the reason). Where it waits depends on who said "later": a recipient's
  mailbox (a 4xx to ``RCPT`` or ``DATA``) sends the job to
  ``preavis.notice-retries`` and frees its slot, so that one full mailbox
  never holds up anyone else; the relay itself (refused connection,
  greeting, ``MAIL FROM``, ``421``) keeps the job in its slot, since no other
  notice would get through either;
- a 5xx is ``failed``, a 5.1.x is ``bounced`` and puts the address (hashed) on
  the user's suppression list.

Every attempt's outcome is one ``notice.delivery`` event; every final one is
also reported to the campaign ledger. All of them are acknowledged by the
broker before the job is (``streams.runtime.acked``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from typing import Any

from notifications.addresses import suppression_digest
from notifications.audience import recheck
from notifications.campaign import purposes_of, start_of
from notifications.campaign_status import FINAL_DELIVERY_STATUSES
from notifications.errors import InvalidEvent
from notifications.events import NoticeDelivery, encode
from notifications.internal_events import FinalOutcome, NoticeJob, NoticeRetry, encode_internal
from notifications.mime import HeaderInjection, InvalidAddress, build_notice, message_id_for
from notifications.render import NoticeContext, NoticeRenderer, RenderedNotice, pick_language
from notifications.smtp import Outcome, SmtpPool, backoff_delay
from streams.campaigns.outputs import notice_id
from streams.metrics import Metrics
from streams.runtime.acked import send_acked, set_acked
from streams.wiring import AudienceLookups

BACKOFF_CAP_SECONDS = 30.0


@dataclass
class DeliveryContext:
    """Everything the delivery loop uses, injected by the agent (and by tests)."""

    directory: Any
    shards: Any
    lookups: AudienceLookups
    metrics: Metrics
    topics: Any
    settings: Any
    deliveries: Any
    suppression: Any
    renderer: NoticeRenderer
    pool: SmtpPool
    link_for: Callable[[str, list[str], str, str], str | None]
    in_flight: set[str] = field(default_factory=set)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    @property
    def envelope_sender(self) -> str:
        return parseaddr(self.settings.mail_from)[1]

    @property
    def mail_domain(self) -> str:
        return self.envelope_sender.rpartition("@")[2] or "localhost"


async def deliver(ctx: DeliveryContext, job: NoticeJob, partition: int) -> None:
    """Make the next attempt at ``job`` unless it is settled or superseded.

    Settled: the pair has a final status. Superseded: the deliveries table
    already records a later attempt than this copy knows of (a copy
    redelivered after a crash, whose deferral is already queued as a retry),
    or another task of this worker is delivering the pair right now.
    """
    key = f"{job.campaign_id}|{job.user_id}"
    record = ctx.deliveries.get(key) or {}
    if record.get("status") in FINAL_DELIVERY_STATUSES or key in ctx.in_flight:
        return
    if int(record.get("attempt", 0)) > job.attempt:
        return
    ctx.in_flight.add(key)
    try:
        await _deliver(ctx, job, partition, key)
    finally:
        ctx.in_flight.discard(key)


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What one attempt came to: the fields its delivery status and event carry."""

    status: str
    reason: str
    attempt: int
    message_id: str | None = None
    content_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class _Pair:
    """The job being delivered and where its records go."""

    job: NoticeJob
    partition: int
    key: str


async def _deliver(ctx: DeliveryContext, job: NoticeJob, partition: int, key: str) -> None:
    pair = _Pair(job, partition, key)
    registry = ctx.shards.get(str(partition)) or {}
    campaign = registry.get(job.campaign_id)
    if campaign is None:
        raise InvalidEvent("campaign_id", "no such campaign on this partition")
    change, kind = campaign["change"], campaign["kind"]
    purposes = purposes_of(change, kind)
    entry = ctx.directory.get(job.user_id)
    if entry is None:
        return await _final(ctx, pair, _Outcome("suppressed", "erased", job.attempt))
    email = entry.get("email") or ""
    check = recheck(
        entry,
        objected=ctx.lookups.objected(job.user_id, purposes),
        bounced=ctx.lookups.bounced(job.user_id, entry),
    )
    if check.reason is not None:  # NOTIFY, or SUPPRESS with its reason
        return await _final(ctx, pair, _Outcome("suppressed", check.reason, job.attempt))

    attempt = job.attempt + 1
    locale = entry.get("locale") or "en"
    try:
        notice = ctx.renderer.render(
            NoticeContext(
                campaign_id=job.campaign_id,
                kind=kind,
                change=change,
                locale=locale,
                objection_url=ctx.link_for(
                    job.user_id, purposes, job.campaign_id, pick_language(locale)
                ),
            )
        )
    except InvalidEvent as exc:  # validated at intake; this is a last line of defence
        return await _final(ctx, pair, _Outcome("failed", f"cannot render: {exc}", attempt))
    message_id = message_id_for(job.campaign_id, job.user_id, ctx.mail_domain)
    try:
        message = _message(ctx, notice, email, message_id, job.campaign_id)
    except InvalidAddress:
        return await _final(ctx, pair, _Outcome("suppressed", "invalid_email", attempt))
    except HeaderInjection as exc:  # the campaign's own headers: not the user's fault
        return await _final(ctx, pair, _Outcome("failed", f"bad header: {exc}", attempt))

    while True:
        started = time.perf_counter()
        result = await ctx.pool.send(ctx.envelope_sender, email, message)
        ctx.metrics.smtp_seconds.observe(time.perf_counter() - started)

        def outcome(status: str, reason: str, attempt: int = attempt) -> _Outcome:
            return _Outcome(status, reason, attempt, message_id, notice.content_sha256)

        if result.outcome is Outcome.BOUNCED:
            digests = {*(ctx.suppression.get(job.user_id) or []), suppression_digest(email)}
            await set_acked(ctx.suppression, partition, job.user_id, sorted(digests))
        if result.outcome is not Outcome.DEFERRED:
            return await _final(ctx, pair, outcome(result.outcome.value, result.reply))
        deadline = start_of(change, kind)
        now = ctx.clock()
        if now >= deadline:
            return await _final(ctx, pair, outcome("failed", f"start date passed: {result.reply}"))
        delay = backoff_delay(attempt, cap=BACKOFF_CAP_SECONDS)
        due_at = min(deadline, now + timedelta(seconds=delay))
        if result.recipient_only:
            return await _defer(ctx, pair, outcome("deferred", result.reply), due_at)
        # The relay itself is unavailable: no other notice would get through
        # either, so this one waits here, holding back the rest of the
        # worker's notices (and not churning them through the retry topic).
        await _send_delivery_event(ctx, pair, outcome("deferred", result.reply))
        await ctx.sleep(max(0.0, (due_at - now).total_seconds()))
        attempt += 1


def _message(
    ctx: DeliveryContext, notice: RenderedNotice, email: str, message_id: str, campaign_id: str
) -> bytes:
    return build_notice(
        from_header=ctx.settings.mail_from,
        to_address=email,
        subject=notice.subject,
        text=notice.text,
        html=notice.html,
        language=notice.language,
        message_id=message_id,
        campaign_id=campaign_id,
        date=ctx.clock(),
    )


async def _send_delivery_event(ctx: DeliveryContext, pair: _Pair, outcome: _Outcome) -> None:
    """The attempt's ``notice.delivery`` event: the proof of notice, stored by the broker."""
    ctx.metrics.notices.labels(status=outcome.status).inc()
    event = NoticeDelivery(
        notice_id=notice_id(pair.job.campaign_id, pair.job.user_id),
        campaign_id=pair.job.campaign_id,
        user_id=pair.job.user_id,
        status=outcome.status,
        reason=outcome.reason,
        attempt=outcome.attempt,
        message_id=outcome.message_id,
        content_sha256=outcome.content_sha256,
        at=ctx.clock(),
    )
    await send_acked(
        ctx.topics.delivery,
        key=pair.job.user_id.encode(),
        value=encode(event),
        partition=pair.partition,
    )


async def _store_delivery_status(ctx: DeliveryContext, pair: _Pair, outcome: _Outcome) -> None:
    """The pair's delivery status, written last: it is what stops a second email."""
    entry = {
        "status": outcome.status,
        "reason": outcome.reason,
        "attempt": outcome.attempt,
        "message_id": outcome.message_id,
        "content_sha256": outcome.content_sha256,
        "at": ctx.clock().isoformat(),
    }
    await set_acked(ctx.deliveries, pair.partition, pair.key, entry)


async def _defer(ctx: DeliveryContext, pair: _Pair, outcome: _Outcome, due_at: datetime) -> None:
    """Record a deferred attempt and queue the next one; the slot is free meanwhile.

    The retry is stored before the delivery status: a status that records
    attempt n makes copies of the job that know fewer attempts stale, so the
    retry that carries attempt n must exist first.
    """
    job = pair.job
    retry = NoticeRetry(job=job.model_copy(update={"attempt": outcome.attempt}), due_at=due_at)
    await asyncio.gather(
        _send_delivery_event(ctx, pair, outcome),
        send_acked(
            ctx.topics.retries,
            key=job.user_id.encode(),
            value=encode_internal(retry),
            partition=pair.partition,
        ),
    )
    await _store_delivery_status(ctx, pair, outcome)


async def _final(ctx: DeliveryContext, pair: _Pair, outcome: _Outcome) -> None:
    """A final outcome: its event, the campaign ledger's count, then the deliveries table.

    Each write is acknowledged by the broker before the next step, and the
    job is acknowledged only after the last: a crash in between makes the
    job run again, and the only thing that can repeat is what happened
    before the delivery status was stored (at most the messages in flight).
    """
    job = pair.job
    entry = ctx.directory.get(job.user_id) or {}
    final = FinalOutcome(
        campaign_id=job.campaign_id,
        user_id=job.user_id,
        status=outcome.status,
        reason=outcome.reason if outcome.status == "suppressed" else None,
        country=entry.get("country"),
        language=pick_language(entry["locale"]) if entry.get("locale") else None,
        at=ctx.clock(),
    )
    await asyncio.gather(
        _send_delivery_event(ctx, pair, outcome),
        send_acked(ctx.topics.ledger, key=job.campaign_id.encode(), value=encode_internal(final)),
    )
    await _store_delivery_status(ctx, pair, outcome)
