"""One notice job, from the checks to the final status: the delivery loop.

The rules, in order:
- at most one email per (campaign, user): the delivery ledger (table
  ``deliveries``, co-partitioned with the jobs) is checked first; a pair with
  a final status is never sent again, and a pair already being delivered by
  another actor of this worker is left to it;
- what may have changed since the fan-out is checked again: an erased user
  gets nothing (``erased``), nor one who objected meanwhile
  (``already_objected``), nor an address that is invalid or bounced before;
- a 4xx reply or a connection error is ``deferred`` and retried with capped
  exponential backoff and full jitter, for as long as it takes, until the
  campaign's start date: after it a notice is pointless, and the job is
  ``failed`` with the reason;
- a 5xx is ``failed``, a 5.1.x is ``bounced`` and puts the address (hashed) on
  the user's suppression list.

Every attempt's outcome is one ``notice.delivery`` event; every final one is
also reported to the campaign ledger.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Any

from notifications.audience import is_deliverable_address
from notifications.campaign import purposes_of, start_of
from notifications.errors import InvalidEvent
from notifications.mime import HeaderInjection, InvalidAddress, build_notice, message_id_for
from notifications.render import NoticeContext, NoticeRenderer, RenderedNotice, pick_language
from notifications.smtp import Outcome, SmtpPool, backoff_delay
from streams.campaigns.outputs import notice_id
from streams.events import NoticeDelivery, encode
from streams.internal_events import FinalOutcome, NoticeJob, encode_internal

FINAL_STATUSES = frozenset({"sent", "failed", "bounced", "suppressed"})
BACKOFF_CAP_SECONDS = 30.0


def address_digest(address: str) -> str:
    """How the suppression list remembers an address without keeping it."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


@dataclass
class DeliveryContext:
    """Everything the delivery loop uses, injected by the agent (and by tests)."""

    app: Any
    topics: Any
    settings: Any
    ledger: Any
    suppression: Any
    renderer: NoticeRenderer
    pool: SmtpPool
    link_for: Callable[[str, list[str], str, str], str | None]
    in_flight: set[str] = field(default_factory=set)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    def bounced_before(self, user_id: str, entry: dict[str, Any]) -> bool:
        email = entry.get("email")
        if not email:
            return False
        return address_digest(email) in (self.suppression.get(user_id) or [])

    @property
    def envelope_sender(self) -> str:
        return parseaddr(self.settings.mail_from)[1]

    @property
    def mail_domain(self) -> str:
        return self.envelope_sender.rpartition("@")[2] or "localhost"


async def deliver(ctx: DeliveryContext, job: NoticeJob, partition: int) -> None:
    """Deliver ``job`` unless its (campaign, user) already has a final status."""
    key = f"{job.campaign_id}|{job.user_id}"
    record = ctx.ledger.get(key)
    if (record and record.get("status") in FINAL_STATUSES) or key in ctx.in_flight:
        return
    ctx.in_flight.add(key)
    try:
        await _deliver(ctx, job, partition, key, record)
    finally:
        ctx.in_flight.discard(key)


async def _deliver(
    ctx: DeliveryContext, job: NoticeJob, partition: int, key: str, record: dict[str, Any] | None
) -> None:
    registry = ctx.app.tables["campaign_shards"].get(str(partition)) or {}
    campaign = registry.get(job.campaign_id)
    if campaign is None:
        raise InvalidEvent("campaign_id", "no such campaign on this partition")
    change, kind = campaign["change"], campaign["kind"]
    purposes = purposes_of(change, kind)
    entry = ctx.app.tables["directory"].get(job.user_id)
    if entry is None:
        return await _final(ctx, job, partition, key, "suppressed", "erased", 0)
    email = entry.get("email") or ""
    if ctx.app.preavis_lookups.objected(job.user_id, purposes):
        return await _final(ctx, job, partition, key, "suppressed", "already_objected", 0)
    if not email:
        return await _final(ctx, job, partition, key, "suppressed", "no_email", 0)
    if not is_deliverable_address(email):
        return await _final(ctx, job, partition, key, "suppressed", "invalid_email", 0)
    if ctx.bounced_before(job.user_id, entry):
        return await _final(ctx, job, partition, key, "suppressed", "bounced_before", 0)

    try:
        notice = ctx.renderer.render(
            NoticeContext(
                campaign_id=job.campaign_id,
                kind=kind,
                change=change,
                locale=entry.get("locale") or "en",
                objection_url=ctx.link_for(
                    job.user_id,
                    purposes,
                    job.campaign_id,
                    pick_language(entry.get("locale") or "en"),
                ),
            )
        )
    except InvalidEvent as exc:  # validated at intake; this is a last line of defence
        return await _final(ctx, job, partition, key, "failed", f"cannot render: {exc}", 0)
    message_id = message_id_for(job.campaign_id, job.user_id, ctx.mail_domain)
    deadline = start_of(change, kind)
    attempt = int((record or {}).get("attempt", 0))
    while True:
        attempt += 1
        try:
            message = _message(ctx, notice, email, message_id, job.campaign_id)
        except InvalidAddress:
            return await _final(ctx, job, partition, key, "suppressed", "invalid_email", attempt)
        except HeaderInjection as exc:  # the campaign's own headers: not the user's fault
            return await _final(ctx, job, partition, key, "failed", f"bad header: {exc}", attempt)
        started = time.perf_counter()
        result = await ctx.pool.send(ctx.envelope_sender, email, message)
        ctx.app.preavis_metrics.smtp_seconds.observe(time.perf_counter() - started)
        if result.outcome is not Outcome.DEFERRED:
            if result.outcome is Outcome.BOUNCED:
                digests = list(ctx.suppression.get(job.user_id) or [])
                ctx.suppression[job.user_id] = sorted({*digests, address_digest(email)})
            return await _final(
                ctx,
                job,
                partition,
                key,
                result.outcome.value,
                result.reply,
                attempt,
                message_id=message_id,
                content_sha256=notice.content_sha256,
            )
        if ctx.clock() >= deadline:
            return await _final(
                ctx,
                job,
                partition,
                key,
                "failed",
                f"start date passed: {result.reply}",
                attempt,
                message_id=message_id,
                content_sha256=notice.content_sha256,
            )
        await _record(
            ctx,
            job,
            partition,
            key,
            "deferred",
            result.reply,
            attempt,
            message_id=message_id,
            content_sha256=notice.content_sha256,
        )
        await ctx.sleep(backoff_delay(attempt, cap=BACKOFF_CAP_SECONDS))


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


async def _record(
    ctx: DeliveryContext,
    job: NoticeJob,
    partition: int,
    key: str,
    status: str,
    reason: str,
    attempt: int,
    *,
    message_id: str | None = None,
    content_sha256: str | None = None,
) -> None:
    """One attempt's outcome: a ``notice.delivery`` event and the ledger's entry."""
    ctx.app.preavis_metrics.notices.labels(status=status).inc()
    now = ctx.clock()
    event = NoticeDelivery(
        notice_id=notice_id(job.campaign_id, job.user_id),
        campaign_id=job.campaign_id,
        user_id=job.user_id,
        status=status,
        reason=reason,
        attempt=attempt,
        message_id=message_id,
        content_sha256=content_sha256,
        at=now,
    )
    await ctx.topics.delivery.send(
        key=job.user_id.encode(), value=encode(event), partition=partition
    )
    ctx.ledger[key] = {
        "status": status,
        "reason": reason,
        "attempt": attempt,
        "message_id": message_id,
        "content_sha256": content_sha256,
        "at": now.isoformat(),
    }


async def _final(
    ctx: DeliveryContext,
    job: NoticeJob,
    partition: int,
    key: str,
    status: str,
    reason: str,
    attempt: int,
    *,
    message_id: str | None = None,
    content_sha256: str | None = None,
) -> None:
    """A final outcome: recorded like an attempt, and reported to the campaign ledger."""
    await _record(
        ctx,
        job,
        partition,
        key,
        status,
        reason,
        attempt,
        message_id=message_id,
        content_sha256=content_sha256,
    )
    entry = ctx.app.tables["directory"].get(job.user_id) or {}
    outcome = FinalOutcome(
        campaign_id=job.campaign_id,
        user_id=job.user_id,
        status=status,
        reason=reason if status == "suppressed" else None,
        country=entry.get("country"),
        language=pick_language(entry["locale"]) if entry.get("locale") else None,
        at=ctx.clock(),
    )
    await ctx.topics.ledger.send(key=job.campaign_id.encode(), value=encode_internal(outcome))
