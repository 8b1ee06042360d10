"""The delivery flow without a broker or a relay: in-memory tables, recording topics, a fake sender.

Each test runs the real handler (``streams.delivery.handlers``) with the real
renderer and MIME builder; only the edges are fakes. A journal shared by the
topics and tables records every acknowledged write in order, so the tests
also hold the durability order of ``streams.delivery.records``: the pair's
delivery status is stored last, after the event and the ledger's count (or
the retry). The subprocess tests (``tests/integration/test_notice_delivery_e2e.py``,
``test_delivery_faults.py``) stay the proof on the real broker.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from notifications import topic_names as names
from notifications.addresses import suppression_digest
from notifications.delivery_policy import BACKOFF_CAP_SECONDS, DeliveryStatus, SuppressedAddresses
from notifications.directory import DirectoryEntry
from notifications.events import NoticeDelivery, decode
from notifications.internal_events import (
    TOPIC_JOBS,
    TOPIC_LEDGER,
    TOPIC_RETRIES,
    FinalOutcome,
    NoticeJob,
    NoticeRetry,
    decode_internal,
)
from notifications.links import LinkKeys, verify_token
from notifications.render import NoticeRenderer
from notifications.smtp_reply import Outcome, SendResult
from streams.delivery.handlers import (
    DeliveryPorts,
    RetryPorts,
    handle_job,
    handle_retry,
    objection_link_maker,
)
from streams.delivery.ports import CampaignRegistry
from streams.metrics import Metrics
from streams.wiring import AudienceLookups
from tests import examples
from tests.support.fakes import MemoryTable, RecordingTopic

PARTITION = 3
RUN_TIMEOUT = 5.0
CAMPAIGN = "purpose:ai-training:v1"
USER = "u-0001"
ADDRESS = "camille.martin@example.org"
NOW = datetime.fromisoformat(examples.LATER)
START = datetime.fromisoformat(examples.STARTS_AT)
SENT = SendResult(Outcome.SENT, "250 2.0.0 Ok: queued", 250)
MAILBOX_FULL = SendResult(Outcome.DEFERRED, "452 4.2.2 Mailbox full", 452, recipient_only=True)
RELAY_DOWN = SendResult(Outcome.DEFERRED, "connection error: ConnectionRefusedError", None)
UNKNOWN_USER = SendResult(
    Outcome.BOUNCED, "550 5.1.1 <address>: User unknown", 550, recipient_only=True
)


@functools.cache
def renderer() -> NoticeRenderer:
    """One renderer for the module: building its Jinja2 environment takes a while."""
    return NoticeRenderer()


@dataclass
class JournaledTopic(RecordingTopic):
    """A recording topic that also notes each acknowledged write in the shared journal."""

    journal: list[str] = field(default_factory=list)

    async def send_acked(
        self, *, key: bytes | None, value: bytes | None, partition: int | None = None
    ) -> None:
        await super().send_acked(key=key, value=value, partition=partition)
        self.journal.append(self.name)


class JournaledTable(MemoryTable[DeliveryStatus]):
    def __init__(self, name: str, journal: list[str]) -> None:
        super().__init__()
        self.name, self.journal = name, journal

    async def put_acked(self, partition: int, key: str, value: DeliveryStatus) -> None:
        await super().put_acked(partition, key, value)
        self.journal.append(self.name)


class JournaledSuppression(MemoryTable[SuppressedAddresses]):
    def __init__(self, journal: list[str]) -> None:
        super().__init__()
        self.journal = journal

    async def put_acked(self, partition: int, key: str, value: SuppressedAddresses) -> None:
        await super().put_acked(partition, key, value)
        self.journal.append("suppression")


@dataclass
class FakeSender:
    """Answers each send with the next scripted result (the last one repeats)."""

    script: list[SendResult] = field(default_factory=lambda: [SENT])
    sent: list[tuple[str, str, bytes]] = field(default_factory=list)
    #: when set, each send waits for it (a relay holding the DATA)
    hold: asyncio.Event | None = None

    async def send(self, sender: str, recipient: str, message: bytes) -> SendResult:
        self.sent.append((sender, recipient, message))
        if self.hold is not None:
            await self.hold.wait()
        return self.script[min(len(self.sent), len(self.script)) - 1]


class Harness:
    """Delivery ports over fakes, and what they recorded."""

    def __init__(self, *, now: datetime = NOW, script: list[SendResult] | None = None) -> None:
        self.journal: list[str] = []
        self.now = now
        self.slept: list[float] = []
        self.directory: MemoryTable[DirectoryEntry] = MemoryTable()
        self.objections: MemoryTable[dict[str, object]] = MemoryTable()
        self.suppression = JournaledSuppression(self.journal)
        self.deliveries = JournaledTable("deliveries", self.journal)
        self.events = JournaledTopic(names.TOPIC_DELIVERY, journal=self.journal)
        self.ledger = JournaledTopic(TOPIC_LEDGER, journal=self.journal)
        self.retries = JournaledTopic(TOPIC_RETRIES, journal=self.journal)
        self.sender = FakeSender(script or [SENT])
        registry: CampaignRegistry = {
            CAMPAIGN: {"kind": "purpose", "change": examples.purpose_declared()}
        }
        self.shards: MemoryTable[CampaignRegistry] = MemoryTable({str(PARTITION): registry})
        self.ports = DeliveryPorts(
            directory=self.directory,
            campaign_shards=self.shards,
            deliveries=self.deliveries,
            suppression=self.suppression,
            delivery_events=self.events,
            ledger=self.ledger,
            retries=self.retries,
            sender=self.sender,
            renderer=renderer(),
            link_for=objection_link_maker("https://preavis.example.org", LinkKeys(b"k" * 32)),
            lookups=AudienceLookups(objections=self.objections, suppression=self.suppression),
            metrics=Metrics(),
            mail_from="Privacy Team <privacy@example.org>",
            clock=lambda: self.now,
            sleep=self.sleep,
        )

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)
        await asyncio.sleep(0)  # a real await: a handler that loops can still time out

    def add_user(self) -> None:
        """Camille, active, in Belgium, reading French: in the campaign's audience."""
        self.directory[USER] = DirectoryEntry(
            user_id=USER,
            email=ADDRESS,
            locale="fr-BE",
            country="BE",
            birth_year=1988,
            account_type="standard",
            status="active",
            updated_at=examples.PUBLISHED_AT,
            partition=PARTITION,
        )

    async def run(self, job: NoticeJob) -> None:
        # a handler that never returns fails its test instead of hanging it
        await asyncio.wait_for(handle_job(self.ports, job, PARTITION), RUN_TIMEOUT)

    def delivery_events(self) -> list[NoticeDelivery]:
        decoded = [decode(names.TOPIC_DELIVERY, s.key, s.value) for s in self.events.sent]
        assert all(isinstance(e, NoticeDelivery) for e in decoded)
        return [e for e in decoded if isinstance(e, NoticeDelivery)]

    def finals(self) -> list[FinalOutcome]:
        return [decode_internal(TOPIC_LEDGER, s.key, s.value) for s in self.ledger.sent]

    def status(self) -> DeliveryStatus | None:
        return self.deliveries.get(f"{CAMPAIGN}|{USER}")


def job(attempt: int = 0, campaign_id: str = CAMPAIGN) -> NoticeJob:
    return NoticeJob(campaign_id=campaign_id, user_id=USER, issued_at=NOW, attempt=attempt)


async def test_a_job_for_an_active_user_sends_one_email_and_stores_its_status_last() -> None:
    h = Harness()
    h.add_user()
    await h.run(job())

    [(envelope_sender, recipient, message)] = h.sender.sent
    assert (envelope_sender, recipient) == ("privacy@example.org", ADDRESS)
    mail = email.message_from_bytes(message, policy=email.policy.default)
    assert mail["To"] == ADDRESS
    assert "Entraînement de nos modèles d'IA" in str(mail["Subject"])  # fr-BE: in French
    assert (mail["X-Preavis-Campaign"], mail["Content-Language"]) == (CAMPAIGN, "fr")
    text = mail.get_body(("plain",))
    assert text is not None and "https://preavis.example.org/o/" in text.get_content()

    [event] = h.delivery_events()
    assert (event.status, event.reason, event.attempt) == ("sent", SENT.reply, 1)
    assert (event.user_id, event.campaign_id, event.message_id) == (
        USER,
        CAMPAIGN,
        mail["Message-ID"],
    )
    [final] = h.finals()
    assert (final.status, final.reason, final.country, final.language) == ("sent", None, "BE", "fr")
    assert h.status() == DeliveryStatus(
        status="sent",
        reason=SENT.reply,
        attempt=1,
        message_id=event.message_id,
        content_sha256=event.content_sha256,
        at=NOW.isoformat(),
    )
    # every write acknowledged, and the status (what stops a second email) last
    assert sorted(h.journal[:2]) == sorted([names.TOPIC_DELIVERY, TOPIC_LEDGER])
    assert h.journal[2:] == ["deliveries"]
    assert all(s.acked and s.partition == PARTITION for s in h.events.sent)


async def test_a_repeated_job_sends_nothing() -> None:
    h = Harness()
    h.add_user()
    await h.run(job())
    await h.run(job())  # redelivered after a crash, or a second fan-out's job
    assert len(h.sender.sent) == 1
    assert len(h.delivery_events()) == 1 and len(h.finals()) == 1


async def test_a_copy_of_a_pair_in_flight_is_left_to_the_first() -> None:
    h = Harness()
    h.add_user()
    h.sender.hold = asyncio.Event()
    first = asyncio.create_task(h.run(job()))
    while not h.sender.sent:
        await asyncio.sleep(0)
    await h.run(job())  # returns at once: the first copy has the pair
    h.sender.hold.set()
    await first
    assert len(h.sender.sent) == 1 and len(h.finals()) == 1


async def test_an_objected_user_gets_no_email_and_a_suppressed_delivery() -> None:
    h = Harness()
    h.add_user()
    h.objections[USER] = {"ai-training": {"objection_id": "o-1"}}  # objected since the fan-out
    await h.run(job())
    assert h.sender.sent == []
    [event] = h.delivery_events()
    assert (event.status, event.reason, event.attempt, event.message_id) == (
        "suppressed",
        "already_objected",
        0,
        None,
    )
    [final] = h.finals()
    assert (final.status, final.reason) == ("suppressed", "already_objected")
    status = h.status()
    assert status is not None and (status["status"], status["reason"]) == (
        "suppressed",
        "already_objected",
    )
    assert h.journal[-1] == "deliveries"


async def test_an_erased_user_is_suppressed_as_erased() -> None:
    h = Harness()  # no directory entry: erased since the fan-out
    await h.run(job())
    assert h.sender.sent == []
    [event] = h.delivery_events()
    assert (event.status, event.reason) == ("suppressed", "erased")
    [final] = h.finals()
    assert (final.status, final.reason, final.country, final.language) == (
        "suppressed",
        "erased",
        None,
        None,
    )


async def test_a_recipients_4xx_goes_to_the_retry_topic_before_the_status() -> None:
    h = Harness(script=[MAILBOX_FULL, SENT])
    h.add_user()
    await h.run(job())

    assert len(h.sender.sent) == 1 and h.slept == []  # the slot is free at once
    [event] = h.delivery_events()
    assert (event.status, event.reason, event.attempt) == ("deferred", MAILBOX_FULL.reply, 1)
    assert h.finals() == []  # not final: the ledger is not told
    [sent] = h.retries.sent
    retry = decode_internal(TOPIC_RETRIES, sent.key, sent.value)
    assert isinstance(retry, NoticeRetry)
    assert (sent.key, sent.partition, retry.job.attempt) == (USER.encode(), PARTITION, 1)
    assert NOW <= retry.due_at <= NOW + timedelta(seconds=1)  # first backoff: up to 1 s
    assert sorted(h.journal[:2]) == sorted([names.TOPIC_DELIVERY, TOPIC_RETRIES])
    assert h.journal[2:] == ["deliveries"]
    status = h.status()
    assert status is not None and (status["status"], status["attempt"]) == ("deferred", 1)

    await h.run(job(attempt=0))  # a stale copy, older than the recorded attempt
    assert len(h.sender.sent) == 1
    await h.run(retry.job)  # the retry, put back on the jobs topic
    assert len(h.sender.sent) == 2
    assert [e.attempt for e in h.delivery_events()] == [1, 2]
    assert [f.status for f in h.finals()] == ["sent"]


async def test_a_relay_outage_waits_in_the_slot_and_sends_again() -> None:
    h = Harness(script=[RELAY_DOWN, RELAY_DOWN, SENT])
    h.add_user()
    await h.run(job())

    assert len(h.sender.sent) == 3
    assert len({message for _, _, message in h.sender.sent}) == 1  # the same bytes each time
    assert len(h.slept) == 2 and all(0 <= s <= BACKOFF_CAP_SECONDS for s in h.slept)
    assert h.retries.sent == []  # nothing churned through the retry topic
    assert [(e.status, e.attempt) for e in h.delivery_events()] == [
        ("deferred", 1),
        ("deferred", 2),
        ("sent", 3),
    ]
    [final] = h.finals()
    status = h.status()
    assert final.status == "sent" and status is not None and status["attempt"] == 3
    assert h.journal.count("deliveries") == 1 and h.journal[-1] == "deliveries"


async def test_a_5_1_x_bounce_suppresses_the_address_before_the_final_outcome() -> None:
    h = Harness(script=[UNKNOWN_USER])
    h.add_user()
    await h.run(job())

    assert h.suppression.get(USER) == [suppression_digest(ADDRESS)]
    assert h.journal[0] == "suppression" and h.journal[-1] == "deliveries"
    [event] = h.delivery_events()
    assert (event.status, event.reason) == ("bounced", UNKNOWN_USER.reply)
    assert [f.status for f in h.finals()] == ["bounced"]

    # the next campaign to this user records the bounce, and sends nothing
    terms = "terms:terms-of-service:2026-04"
    h.shards[str(PARTITION)] = {
        **(h.shards.get(str(PARTITION)) or {}),
        terms: {"kind": "terms", "change": examples.terms_published()},
    }
    await h.run(job(campaign_id=terms))
    assert len(h.sender.sent) == 1
    assert h.delivery_events()[-1].reason == "bounced_before"


async def test_a_deferral_after_the_start_date_is_failed() -> None:
    h = Harness(now=START, script=[MAILBOX_FULL])
    h.add_user()
    await h.run(job())

    [event] = h.delivery_events()
    assert (event.status, event.reason) == ("failed", f"start date passed: {MAILBOX_FULL.reply}")
    assert [(f.status, f.reason) for f in h.finals()] == [("failed", None)]
    assert h.retries.sent == [] and h.slept == []
    status = h.status()
    assert status is not None and status["status"] == "failed"


async def test_a_relay_outage_never_waits_past_the_start_date() -> None:
    h = Harness(now=START - timedelta(seconds=0.5), script=[RELAY_DOWN])
    h.add_user()
    await h.run(job())

    assert sum(h.slept) <= 0.5  # the backoff is cut at the start date
    last = h.delivery_events()[-1]
    assert (last.status, last.reason) == ("failed", f"start date passed: {RELAY_DOWN.reply}")
    assert [f.status for f in h.finals()] == ["failed"]


async def test_a_due_retry_puts_its_job_back_in_its_partition() -> None:
    jobs = RecordingTopic(TOPIC_JOBS)
    now = NOW
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    retry = NoticeRetry(job=job(attempt=1), due_at=NOW + timedelta(seconds=7))
    await handle_retry(RetryPorts(jobs=jobs, clock=lambda: now, sleep=sleep), retry, PARTITION)
    assert slept == [7.0]
    [sent] = jobs.sent
    assert (sent.key, sent.partition, sent.acked) == (USER.encode(), PARTITION, True)
    assert decode_internal(TOPIC_JOBS, sent.key, sent.value) == retry.job


async def test_the_notice_comes_from_the_controller_and_replies_go_to_its_contact() -> None:
    h = Harness()
    h.add_user()
    await h.run(job())
    [(envelope_sender, _, message)] = h.sender.sent
    mail = email.message_from_bytes(message, policy=email.policy.default)
    [sender] = mail["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Example Platform SAS", envelope_sender)
    assert str(mail["Reply-To"]) == "privacy@example.com"
    # the objection page speaks the notice's language
    text = mail.get_body(("plain",))
    assert text is not None
    token = text.get_content().split("https://preavis.example.org/o/")[1].split()[0]
    claims = verify_token(LinkKeys(b"k" * 32), token)
    assert claims.language == "fr"


async def test_a_controller_address_unfit_for_reply_to_fails_the_notice_not_the_reader() -> None:
    h = Harness()
    h.add_user()
    change = examples.purpose_declared(
        controller=examples.controller(contact_email="privé@example.com")
    )
    h.shards[str(PARTITION)] = {CAMPAIGN: {"kind": "purpose", "change": change}}
    await h.run(job())
    assert h.sender.sent == []
    [event] = h.delivery_events()
    assert event.status == "failed" and "Reply-To" in (event.reason or "")
    assert USER not in h.suppression
