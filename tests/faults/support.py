"""What the fault-injection tests share: a counting relay, users, waits, figures.

The tests assert on what the SMTP server received (the bytes of each DATA,
its ``Message-ID``) and on what is on the topics, never on what a worker says
it did. A 20,000-user campaign is ~300 MB of email, so :class:`Mailbox` keeps
only the ``Message-ID``, the campaign header and the envelope recipients of
each accepted message.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import aiohttp
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiosmtpd.smtp import SMTP, Envelope, Session

from notifications import topic_names as names
from notifications.internal_events import TOPIC_JOBS
from tests import examples
from tests.support.kafka import BOOTSTRAP, Record, produce, read_topic, wait_for_partitions
from tests.support.smtp_server import CapturingHandler

_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)
_CAMPAIGN = re.compile(rb"^X-Preavis-Campaign:[ \t]*([^\r\n]+)", re.IGNORECASE | re.MULTILINE)
_HEADER_END = re.compile(rb"\r?\n\r?\n")

#: Where each fault test's figures are collected for the end-of-run summary.
FIGURES: list[dict[str, Any]] = []


def headers_of(content: bytes) -> bytes:
    match = _HEADER_END.search(content)
    return content[: match.start()] if match else content


def message_id_of(content: bytes) -> str | None:
    found = _MESSAGE_ID.search(headers_of(content))
    return found.group(1).decode("ascii", "replace") if found else None


def campaign_of(content: bytes) -> str | None:
    found = _CAMPAIGN.search(headers_of(content))
    return found.group(1).decode("utf-8", "replace").strip() if found else None


def client_gone(server: SMTP) -> bool:
    """Whether the SMTP client closed the connection (or died) while the relay was busy."""
    transport = server.transport
    reader = getattr(server, "_reader", None)
    return transport is None or transport.is_closing() or bool(reader and reader.at_eof())


@dataclass(frozen=True)
class Accepted:
    """One message the relay answered 250 to: what identifies it, not its body."""

    message_id: str | None
    campaign_id: str | None
    rcpt_tos: tuple[str, ...]
    at: float


@dataclass
class Mailbox(CapturingHandler):
    """A real aiosmtpd handler that keeps the identity of each accepted message.

    The scripts of :class:`CapturingHandler` (``mail_replies``,
    ``rcpt_replies``, ``data_replies``) still apply: a scripted DATA reply
    means the message was *not* accepted, and it is not kept.
    """

    accepted: list[Accepted] = field(default_factory=list)
    scripted: list[str] = field(default_factory=list)
    """Every scripted reply given, in order (what the relay said instead of 250)."""
    keep_content: bool = False
    """Keep each accepted message's bytes too (``contents``): for small tests only."""
    contents: list[bytes] = field(default_factory=list)
    unknown_users: set[str] = field(default_factory=set)
    """Recipients answered ``550 5.1.1`` (a hard bounce) at ``RCPT``."""
    slow_once: dict[str, float] = field(default_factory=dict)
    """Recipient -> seconds the relay takes over its first DATA (a slow relay)."""
    aborted: list[tuple[str, ...]] = field(default_factory=list)
    """Transactions whose client was gone before the relay answered DATA (not accepted)."""

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.mail_replies:
            reply = self.mail_replies.pop(0)
            self.scripted.append(reply)
            return reply.format(address=address)
        return await super().handle_MAIL(server, session, envelope, address, options)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.rcpt_replies:
            reply = self.rcpt_replies.pop(0)
            self.scripted.append(reply)
            return reply.format(address=address)
        if address in self.unknown_users:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        return await super().handle_RCPT(server, session, envelope, address, options)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        slow = [r for r in envelope.rcpt_tos if r in self.slow_once]
        if slow:
            try:
                await asyncio.sleep(max(self.slow_once.pop(r) for r in slow))
            except asyncio.CancelledError:  # aiosmtpd cancels it when the client goes
                self.aborted.append(tuple(envelope.rcpt_tos))
                raise
            if client_gone(server):
                # the client died waiting: the message was never accepted (no 250 sent)
                self.aborted.append(tuple(envelope.rcpt_tos))
                return "451 4.4.2 Connection lost"
        if self.data_replies:
            reply = self.data_replies.pop(0)
            self.scripted.append(reply)
            return reply.format(address=",".join(envelope.rcpt_tos))
        content = envelope.original_content or b""
        item = Accepted(
            message_id_of(content),
            campaign_of(content),
            tuple(envelope.rcpt_tos),
            time.monotonic(),
        )
        with self._lock:
            self.accepted.append(item)
            if self.keep_content:
                self.contents.append(content)
        return "250 2.0.0 Ok: queued as 4F2A"

    def of(self, campaign_id: str) -> list[Accepted]:
        with self._lock:
            return [a for a in self.accepted if a.campaign_id == campaign_id]

    def recipients(self, campaign_id: str) -> set[str]:
        return {r for a in self.of(campaign_id) for r in a.rcpt_tos}

    def messages_to(self, address: str) -> list[EmailMessage]:
        """The kept messages to ``address``, parsed (needs ``keep_content``)."""
        with self._lock:
            pairs = list(zip(self.accepted, self.contents, strict=True))
        return [
            email.message_from_bytes(content, policy=email.policy.default)
            for accepted, content in pairs
            if address in accepted.rcpt_tos
        ]


@dataclass(frozen=True)
class MailTally:
    """What the relay received for one campaign, against who should have."""

    expected: int
    received: int  # messages accepted (250 to DATA)
    distinct: int  # distinct Message-IDs
    duplicates: int  # messages beyond the first with the same Message-ID
    lost: int  # expected recipients who received nothing
    unexpected: int  # recipients who should have received nothing
    duplicated_ids: tuple[str, ...]

    def figures(self) -> dict[str, int]:
        """The counts, for :func:`report`."""
        return {
            "received": self.received,
            "distinct": self.distinct,
            "duplicates": self.duplicates,
            "lost": self.lost,
            "unexpected": self.unexpected,
        }

    def line(self) -> str:
        return (
            f"expected={self.expected} received={self.received} distinct={self.distinct} "
            f"duplicates={self.duplicates} lost={self.lost} unexpected={self.unexpected}"
        )


def tally(mailbox: Mailbox, campaign_id: str, expected_recipients: set[str]) -> MailTally:
    messages = mailbox.of(campaign_id)
    ids = Counter(m.message_id for m in messages)
    got = {r for m in messages for r in m.rcpt_tos}
    return MailTally(
        expected=len(expected_recipients),
        received=len(messages),
        distinct=len(ids),
        duplicates=sum(n - 1 for n in ids.values()),
        lost=len(expected_recipients - got),
        unexpected=len(got - expected_recipients),
        duplicated_ids=tuple(sorted(str(i) for i, n in ids.items() if n > 1)),
    )


def check_one_id_per_recipient(mailbox: Mailbox, campaign_id: str) -> None:
    """A (campaign, user) always has the same Message-ID, and no two users share one."""
    by_id: dict[str | None, set[str]] = {}
    by_rcpt: dict[str, set[str | None]] = {}
    for message in mailbox.of(campaign_id):
        assert message.message_id is not None, "an email without a Message-ID"
        for rcpt in message.rcpt_tos:
            by_id.setdefault(message.message_id, set()).add(rcpt)
            by_rcpt.setdefault(rcpt, set()).add(message.message_id)
    assert all(len(r) == 1 for r in by_id.values()), "two recipients share a Message-ID"
    assert all(len(i) == 1 for i in by_rcpt.values()), "a recipient got two Message-IDs"


# ----------------------------------------------------------------------------- users


LOCALES = ("en", "fr", "de", "es", "it", "nl", "pl")
COUNTRIES = ("FR", "DE", "ES", "IT", "NL", "PL", "BE", "AT", "IE", "SE")


def audience(count: int, prefix: str) -> list[dict[str, Any]]:
    """``count`` active adults in the EEA with a valid address: every one must be told."""
    return [
        examples.user_upserted(
            user_id=f"{prefix}-{i:05d}",
            email=f"{prefix}-{i:05d}@example.test",
            locale=LOCALES[i % len(LOCALES)],
            country=COUNTRIES[i % len(COUNTRIES)],
            birth_year=1950 + i % 50,
            updated_at="2026-11-01T00:00:00Z",
        )
        for i in range(count)
    ]


def keyed(events: Iterable[dict[str, Any]], key_field: str) -> list[tuple[bytes, bytes]]:
    return [(e[key_field].encode(), json.dumps(e).encode()) for e in events]


def purpose(purpose_id: str, **overrides: Any) -> dict[str, Any]:
    """A valid AI-training purpose, published now, starting in 45 days, for the EEA."""
    now = datetime.now(UTC)
    fields: dict[str, Any] = {
        "purpose_id": purpose_id,
        "published_at": now.isoformat(),
        "starts_at": (now + timedelta(days=45)).isoformat(),
    }
    return examples.purpose_declared(**{**fields, **overrides})


async def publish_purpose(purpose_id: str, **overrides: Any) -> str:
    event = purpose(purpose_id, **overrides)
    await produce(names.TOPIC_PURPOSES, [(purpose_id.encode(), json.dumps(event).encode())])
    return f"purpose:{purpose_id}:v{event['version']}"


async def import_users(users: list[dict[str, Any]]) -> None:
    """Write users to ``users`` in big batches (the Java client's partitioner, like aiokafka's)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=BOOTSTRAP, acks="all", linger_ms=20, max_batch_size=256 * 1024
    )
    await producer.start()
    try:
        futures = [
            await producer.send(names.TOPIC_USERS, key=k, value=v)
            for k, v in keyed(users, "user_id")
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def wait_for_directory(app_id: str, count: int, timeout: float = 120) -> None:
    """Until the workers' directory holds ``count`` users (read on its changelog)."""
    records = await read_topic(
        f"{app_id}-directory-changelog",
        until=lambda rs: len({r.key for r in rs}) >= count,
        timeout=timeout,
    )
    assert len({r.key for r in records}) >= count, "the directory did not take every user"


# ----------------------------------------------------------------------------- waits


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()


def wait_for_mail(
    mailbox: Mailbox, campaign_id: str, expected: set[str], timeout: float, stall: float = 45
) -> bool:
    """Until every expected recipient got the campaign's email; gives up early on a stall.

    A stall is ``stall`` seconds without a single new message while some are
    missing: longer than the longest retry delay (30 s), so nothing that is
    still coming is cut short.
    """
    deadline = time.monotonic() + timeout
    count, changed = -1, time.monotonic()
    while time.monotonic() < deadline:
        if mailbox.recipients(campaign_id) >= expected:
            return True
        now = len(mailbox.of(campaign_id))
        if now != count:
            count, changed = now, time.monotonic()
        elif time.monotonic() - changed > stall:
            return False
        time.sleep(0.5)
    return mailbox.recipients(campaign_id) >= expected


# ----------------------------------------------------------------------------- topics


def deliveries_of(records: list[Record], campaign_id: str) -> list[dict[str, Any]]:
    return [r.json for r in records if r.json and r.json.get("campaign_id") == campaign_id]


def final_status(records: list[Record], campaign_id: str) -> dict[str, str]:
    """user_id -> the last final status on ``notices.delivery`` (deferrals are not final)."""
    result: dict[str, str] = {}
    for event in deliveries_of(records, campaign_id):
        if event["status"] != "deferred":
            result[event["user_id"]] = event["status"]
    return result


def sent_counts(records: list[Record], campaign_id: str) -> Counter[str]:
    """How many ``sent`` records each user has (more than one: a second email was recorded)."""
    return Counter(
        e["user_id"] for e in deliveries_of(records, campaign_id) if e["status"] == "sent"
    )


async def read_all(topic: str, timeout: float = 60, settle: float = 1.5) -> list[Record]:
    """Every record of ``topic``, up to the end offsets taken when the read starts.

    Unlike a read that stops after ``settle`` quiet seconds, a slow first
    fetch can not cut it short. (``settle`` is kept for the callers' sake.)
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, enable_auto_commit=False)
    await consumer.start()
    records: list[Record] = []
    try:
        deadline = time.monotonic() + timeout
        partitions = await wait_for_partitions(topic, deadline)
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return records
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        pending = {tp for tp in tps if ends[tp] > 0}
        while pending and time.monotonic() < deadline:
            batch = await consumer.getmany(*pending, timeout_ms=500)
            for tp_records in batch.values():
                for r in tp_records:
                    records.append(Record(r.topic, r.partition, r.offset, r.key, r.value))
            pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
        assert not pending, f"could not read {topic} to its end in {timeout} s"
        return records
    finally:
        await consumer.stop()


def last_values(records: list[Record]) -> dict[bytes | None, bytes | None]:
    """The last value of each key: what a compacted topic (a table's changelog) converges to."""
    last: dict[bytes | None, bytes | None] = {}
    for record in records:
        last[record.key] = record.value
    return last


async def check_counted_once(base_url: str, admin_token: str, campaign_id: str, users: int) -> None:
    """What the compliance team reads: the campaign completed, each person counted once."""
    status = await campaign_status(base_url, admin_token, campaign_id)
    assert status.get("status") == "completed", status
    assert (status["audience"], status["sent"]) == (users, users)


async def campaign_status(
    base_url: str, admin_token: str, campaign_id: str, timeout: float = 90
) -> dict[str, Any]:
    """The compliance API's view of the campaign, once ``completed`` (or at ``timeout``)."""
    url = f"{base_url}/api/v1/campaigns/{campaign_id}"
    headers = {"Authorization": f"Bearer {admin_token}"}
    deadline = time.monotonic() + timeout
    last: dict[str, Any] = {}
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            async with http.get(url, headers=headers) as response:
                if response.status == 200:
                    last = await response.json()
                    if last.get("status") == "completed":
                        return last
            await asyncio.sleep(0.5)
    return last


def report(scenario: str, **figures: Any) -> None:
    """Print a test's figures and keep them for the summary at the end of the run."""
    FIGURES.append({"scenario": scenario, **figures})
    print(f"\nFAULTS {scenario}: " + " ".join(f"{k}={v}" for k, v in figures.items()), flush=True)


# ----------------------------------------------------------------------------- offsets


async def committed_offsets(group_id: str, topic: str) -> dict[int, int]:
    """The consumer group's committed offset (the next record to read) per partition."""
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group_id)
    finally:
        await admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic}


async def job_positions(campaign_id: str) -> dict[str, list[tuple[int, int]]]:
    """user_id -> (partition, offset) of each of the campaign's notice jobs."""
    positions: dict[str, list[tuple[int, int]]] = {}
    for record in await read_all(TOPIC_JOBS, settle=1.0):
        job = record.json
        if job and job.get("campaign_id") == campaign_id:
            positions.setdefault(job["user_id"], []).append((record.partition, record.offset))
    return positions


async def jobs_passed_unsent(
    group_id: str, campaign_id: str, unsent_users: set[str]
) -> list[tuple[str, int, int, int]]:
    """Users without an email whose every job lies behind the group's committed offset.

    After a worker dies, nobody will ever read those jobs again: they are lost.
    Returns (user_id, partition, offset, committed) for each.
    """
    committed = await committed_offsets(group_id, TOPIC_JOBS)
    behind = []
    for user_id, places in (await job_positions(campaign_id)).items():
        if user_id not in unsent_users:
            continue
        if all(offset < committed.get(partition, -1) for partition, offset in places):
            partition, offset = places[-1]
            behind.append((user_id, partition, offset, committed[partition]))
    return sorted(behind)


async def explain_lost(group_id: str, campaign_id: str, user_ids: set[str]) -> list[str]:
    """For users who never got their email: where their jobs are, what the topics say."""
    if not user_ids:
        return []
    committed = await committed_offsets(group_id, TOPIC_JOBS)
    positions = await job_positions(campaign_id)
    statuses: dict[str, list[str]] = {}
    for event in deliveries_of(await read_all(names.TOPIC_DELIVERY), campaign_id):
        if event["user_id"] in user_ids:
            statuses.setdefault(event["user_id"], []).append(
                f"{event['status']}#{event['attempt']}"
            )
    return [
        f"{user}: jobs (partition, offset) {positions.get(user, [])}, "
        f"committed now {[committed.get(p) for p, _ in positions.get(user, [])]}, "
        f"notices.delivery {statuses.get(user, [])}"
        for user in sorted(user_ids)
    ]
