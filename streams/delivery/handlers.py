"""A notice job, from the checks to its final status; a deferred job, put back when due.

A job goes through four steps, each a function of its own so that a handler
keeping many jobs in flight can run them apart (decide and render at once for
a batch, send through the pool, record in groups):

1. :func:`decide`: is the pair settled already, which campaign, is the user
   still to be told (:mod:`notifications.delivery_policy`);
2. :func:`render`: the notice in the user's language and its MIME bytes;
3. :func:`send`: one transaction with the relay, timed;
4. :func:`record`: the durable writes, in the order :mod:`streams.delivery.records`
   documents (the pair's delivery status always last).

What a reply means is decided by :func:`notifications.delivery_policy.judge`;
the handler only carries it out. A relay that is down keeps the job in its
slot, sending again after each backoff, until it answers or the campaign's
start date has passed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from notifications.campaign import ChangeJson, Kind, purposes_of, start_of
from notifications.delivery_policy import (
    ERASED,
    AttemptRecord,
    Deferral,
    FinalAttempt,
    SendVerdict,
    is_settled,
    judge,
    suppression_reason,
)
from notifications.directory import DirectoryEntry
from notifications.errors import InvalidEvent
from notifications.internal_events import NoticeJob, NoticeRetry, encode_internal
from notifications.links import LinkKeys, TokenClaims, objection_url, sign_token
from notifications.mime import (
    HeaderInjection,
    InvalidAddress,
    build_notice,
    message_id_for,
    sender,
)
from notifications.render import NoticeContext
from notifications.smtp_reply import Outcome, SendResult
from streams.delivery.ports import DeliveryPorts, KnownCampaign, LinkMaker, RetryPorts
from streams.delivery.records import (
    JobInPartition,
    record_attempt,
    record_deferral,
    record_final,
    suppress_address,
)

__all__ = ["DeliveryPorts", "RetryPorts", "handle_job", "handle_retry"]


@dataclass(frozen=True, slots=True)
class Recipient:
    """A user still to be told of a campaign: :func:`decide`'s "send"."""

    entry: DirectoryEntry
    kind: Kind
    change: ChangeJson
    purposes: list[str]
    #: the campaign's start date: no attempt after it
    deadline: datetime


@dataclass(frozen=True, slots=True)
class ReadyNotice:
    """A notice ready for the relay, and what its attempt's record will carry."""

    email: str
    message: bytes
    message_id: str
    content_sha256: str
    #: the number of the attempt this send is (``>= 1``)
    attempt: int
    #: the campaign's start date: no attempt after it
    deadline: datetime


async def handle_job(ports: DeliveryPorts, job: NoticeJob, partition: int) -> None:
    """Make the next attempt at ``job`` unless it is settled or another task has its pair."""
    work = JobInPartition(job, partition)
    if work.key in ports.in_flight or is_settled(ports.deliveries.get(work.key), job.attempt):
        return
    ports.in_flight.add(work.key)
    try:
        await deliver(ports, work)
    finally:
        ports.in_flight.discard(work.key)


async def deliver(ports: DeliveryPorts, work: JobInPartition) -> None:
    """Decide, render, then send and record until the pair is settled or queued for later."""
    recipient = decide(ports, work)
    if isinstance(recipient, AttemptRecord):
        return await record_final(ports, work, recipient)
    ready = render(ports, work, recipient)
    if isinstance(ready, AttemptRecord):
        return await record_final(ports, work, ready)
    while True:
        result = await send(ports, ready)
        now = ports.clock()
        verdict = judge(
            result,
            ready.attempt,
            message_id=ready.message_id,
            content_sha256=ready.content_sha256,
            deadline=ready.deadline,
            now=now,
        )
        await record(ports, work, ready, verdict)
        if not (isinstance(verdict, Deferral) and verdict.wait_in_slot):
            return
        # The relay itself is unavailable: no other notice would get through
        # either, so this one waits here (and does not churn through the retry topic).
        await ports.sleep(max(0.0, (verdict.due_at - now).total_seconds()))
        ready = replace(ready, attempt=ready.attempt + 1)


def decide(ports: DeliveryPorts, work: JobInPartition) -> Recipient | AttemptRecord:
    """The user to send to, or the suppression to record instead.

    Raises :class:`InvalidEvent` for a job whose campaign this partition's
    registry does not hold (a dead letter: retrying cannot help).
    """
    job = work.job
    campaign = known_campaign(ports, work)
    purposes = campaign.purposes
    entry = ports.directory.get(job.user_id)
    if entry is None:
        return AttemptRecord(Outcome.SUPPRESSED, ERASED, job.attempt)
    reason = suppression_reason(
        entry,
        objected=ports.lookups.objected(job.user_id, purposes),
        # AudienceLookups.bounced still takes the untyped dict of the old directory
        bounced=ports.lookups.bounced(job.user_id, entry),
    )
    if reason is not None:
        return AttemptRecord(Outcome.SUPPRESSED, reason, job.attempt)
    return Recipient(entry, campaign.kind, campaign.change, purposes, campaign.deadline)


def known_campaign(ports: DeliveryPorts, work: JobInPartition) -> KnownCampaign:
    """The job's campaign, from this partition's registry the first time, then kept."""
    key = (work.partition, work.job.campaign_id)
    known = ports.known_campaigns.get(key)
    if known is None:
        registry = ports.campaign_shards.get(str(work.partition)) or {}
        campaign = registry.get(work.job.campaign_id)
        if campaign is None:
            raise InvalidEvent("campaign_id", "no such campaign on this partition")
        kind, change = campaign["kind"], campaign["change"]
        known = KnownCampaign(kind, change, purposes_of(change, kind), start_of(change, kind))
        ports.known_campaigns[key] = known
    return known


def render(
    ports: DeliveryPorts, work: JobInPartition, recipient: Recipient
) -> ReadyNotice | AttemptRecord:
    """The notice's bytes for ``recipient``, or the final record of why there are none."""
    job = work.job
    attempt = job.attempt + 1
    locale = recipient.entry.get("locale") or "en"
    email = recipient.entry.get("email") or ""
    try:
        # The objection page speaks the notice's language: the one whole language
        # the operator wrote that suits this reader (notifications.languages).
        unlinked = NoticeContext(
            campaign_id=job.campaign_id,
            kind=recipient.kind,
            change=recipient.change,
            locale=locale,
            objection_url=None,
            country=recipient.entry.get("country"),
        )
        language = ports.renderer.language_for(unlinked)
        notice = ports.renderer.render(
            NoticeContext(
                campaign_id=job.campaign_id,
                kind=recipient.kind,
                change=recipient.change,
                locale=locale,
                objection_url=ports.link_for(
                    job.user_id, recipient.purposes, job.campaign_id, language
                ),
                country=recipient.entry.get("country"),
            )
        )
    except InvalidEvent as exc:  # validated at intake; this is a last line of defence
        return AttemptRecord(Outcome.FAILED, f"cannot render: {exc}", attempt)
    controller = recipient.change.get("controller")
    controller = controller if isinstance(controller, Mapping) else {}
    name, contact = controller.get("name"), controller.get("contact_email")
    message_id = message_id_for(job.campaign_id, job.user_id, ports.mail_domain)
    try:
        message = build_notice(
            from_header=sender(name if isinstance(name, str) else None, ports.mail_from),
            to_address=email,
            subject=notice.subject,
            text=notice.text,
            html=notice.html,
            language=notice.language,
            message_id=message_id,
            campaign_id=job.campaign_id,
            date=ports.clock(),
            reply_to=contact if isinstance(contact, str) else None,
        )
    except InvalidAddress:
        return AttemptRecord(Outcome.SUPPRESSED, "invalid_email", attempt)
    except HeaderInjection as exc:  # the campaign's own headers: not the user's fault
        return AttemptRecord(Outcome.FAILED, f"bad header: {exc}", attempt)
    return ReadyNotice(
        email, message, message_id, notice.content_sha256, attempt, recipient.deadline
    )


async def send(ports: DeliveryPorts, ready: ReadyNotice) -> SendResult:
    """One relay transaction for ``ready`` (never raises for the network's faults)."""
    started = time.perf_counter()
    result = await ports.sender.send(ports.envelope_sender, ready.email, ready.message)
    ports.metrics.smtp_seconds.observe(time.perf_counter() - started)
    return result


async def record(
    ports: DeliveryPorts, work: JobInPartition, ready: ReadyNotice, verdict: SendVerdict
) -> None:
    """Carry out ``verdict``'s writes (see :mod:`streams.delivery.records` for their order)."""
    if isinstance(verdict, FinalAttempt):
        if verdict.suppress_address:
            await suppress_address(ports, work, ready.email)
        await record_final(ports, work, verdict.record)
    elif verdict.wait_in_slot:
        await record_attempt(ports, work, verdict.record)
    else:
        await record_deferral(ports, work, verdict.record, verdict.due_at)


async def handle_retry(ports: RetryPorts, retry: NoticeRetry, partition: int) -> None:
    """Wait until ``retry.due_at``, then store its job on the jobs topic in ``partition``.

    The partition is the retry's own: the one holding the user's directory
    entry and deliveries. A job put back twice (a crash after putting it back,
    before the retry's acknowledgement) is harmless: the deliveries table lets
    one copy through.
    """
    wait = (retry.due_at - ports.clock()).total_seconds()
    if wait > 0:
        await ports.sleep(wait)
    await ports.jobs.send_acked(
        key=retry.job.user_id.encode(), value=encode_internal(retry.job), partition=partition
    )


def forget_addresses(ports: DeliveryPorts, user_id: str) -> None:
    """Erasure: even the hash of an address is personal data (pseudonymous)."""
    if user_id in ports.suppression:
        del ports.suppression[user_id]


def objection_link_maker(public_url: str, keys: LinkKeys | None) -> LinkMaker:
    """Signed objection links under ``public_url``; none without keys or purposes."""

    def link_for(user_id: str, purposes: list[str], campaign_id: str, language: str) -> str | None:
        if not purposes or keys is None:
            return None
        claims = TokenClaims(user_id, tuple(purposes), campaign_id, language)
        return objection_url(public_url, sign_token(keys, claims))

    return link_for
