"""Delivery when the relay misbehaves: down then up, and refusing some recipients.

Real worker, real broker, a real aiosmtpd relay that we stop, start and script.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from notifications import topic_names as names
from notifications.internal_events import TOPIC_RETRIES
from tests import examples
from tests.support.kafka import Record, produce, read_topic
from tests.support.smtp_server import CapturingHandler, SmtpServer
from tests.support.worker import WorkerProcess, start_worker


@dataclass
class PickyHandler(CapturingHandler):
    """Refuses recipients by name: ``gone`` hard-bounces, ``policy`` is refused,
    ``full`` is told to try later (452), every time."""

    refused: list[str] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.startswith("gone"):
            self.refused.append(address)
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if address.startswith("policy"):
            self.refused.append(address)
            return "554 5.7.1 Message rejected by policy"
        if address.startswith("full"):
            self.refused.append(address)
            return "452 4.2.2 Mailbox full, try again later"
        return await super().handle_RCPT(server, session, envelope, address, options)


@dataclass
class Relay:
    server: SmtpServer
    worker: WorkerProcess


def make_relay(
    handler: CapturingHandler, worker_env: dict[str, str], tmp_path: Path, *, running: bool
) -> Iterator[Relay]:
    server = SmtpServer(handler)
    if running:
        server.start()
    worker = start_worker({**worker_env, "PREAVIS_SMTP_PORT": str(server.port)}, tmp_path)
    try:
        worker.wait_healthy()
        yield Relay(server, worker)
    finally:
        worker.stop()
        server.stop()


@pytest.fixture
def relay_down(clean_topics: None, worker_env: dict[str, str], tmp_path: Path) -> Iterator[Relay]:
    yield from make_relay(CapturingHandler(), worker_env, tmp_path, running=False)


@pytest.fixture
def picky_relay(clean_topics: None, worker_env: dict[str, str], tmp_path: Path) -> Iterator[Relay]:
    yield from make_relay(PickyHandler(), worker_env, tmp_path, running=True)


def users_named(names_: list[str]) -> list[tuple[bytes, bytes]]:
    return [
        (
            name.encode(),
            json.dumps(
                examples.user_upserted(
                    user_id=name, email=f"{name}@example.org", country="DE", birth_year=1985
                )
            ).encode(),
        )
        for name in names_
    ]


def purpose(purpose_id: str) -> bytes:
    now = datetime.now(UTC)
    return json.dumps(
        examples.purpose_declared(
            purpose_id=purpose_id,
            published_at=now.isoformat(),
            starts_at=(now + timedelta(days=40)).isoformat(),
        )
    ).encode()


def wait_for(check: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not check():
        time.sleep(0.3)


def finals(records: list[Record], campaign_id: str) -> dict[str, dict[str, Any]]:
    return {
        r.json["user_id"]: r.json
        for r in records
        if r.json["campaign_id"] == campaign_id and r.json["status"] != "deferred"
    }


async def test_notices_wait_while_the_relay_is_down_and_go_out_once_it_is_back(
    relay_down: Relay,
) -> None:
    people = [f"patient-{i}" for i in range(12)]
    await produce(names.TOPIC_USERS, users_named(people))
    await produce(names.TOPIC_PURPOSES, [(b"ai-training", purpose("ai-training"))])

    deferred = await read_topic(
        names.TOPIC_DELIVERY,
        until=lambda rs: (
            len({r.json["user_id"] for r in rs if r.json["status"] == "deferred"}) >= len(people)
        ),
        timeout=60,
    )
    assert all(r.json["reason"].startswith("connection error") for r in deferred)
    assert not relay_down.server.handler.received

    relay_down.server.start()
    handler = relay_down.server.handler
    wait_for(lambda: len(handler.received) >= len(people), 120)
    time.sleep(2)  # a duplicate would arrive now

    recipients = Counter(rcpt for message in handler.received for rcpt in message.rcpt_tos)
    assert recipients == Counter({f"{p}@example.org": 1 for p in people})
    records = await read_topic(
        names.TOPIC_DELIVERY,
        until=lambda rs: len(finals(rs, "purpose:ai-training:v1")) >= len(people),
        timeout=30,
    )
    final = finals(records, "purpose:ai-training:v1")
    assert {f["status"] for f in final.values()} == {"sent"}
    retried = {u for u, f in final.items() if f["attempt"] > 1}
    assert retried == {r.json["user_id"] for r in deferred}


async def test_refused_recipients_are_counted_and_bounces_suppressed_next_time(
    picky_relay: Relay,
) -> None:
    people = ["gone-1", "gone-2", "policy-1", "fine-1", "fine-2", "fine-3"]
    await produce(names.TOPIC_USERS, users_named(people))
    await produce(names.TOPIC_PURPOSES, [(b"first", purpose("first"))])
    records = await read_topic(
        names.TOPIC_DELIVERY,
        until=lambda rs: len(finals(rs, "purpose:first:v1")) >= len(people),
        timeout=60,
    )
    first = finals(records, "purpose:first:v1")
    assert {u: f["status"] for u, f in first.items()} == {
        "gone-1": "bounced",
        "gone-2": "bounced",
        "policy-1": "failed",
        "fine-1": "sent",
        "fine-2": "sent",
        "fine-3": "sent",
    }
    assert "example.org" not in first["gone-1"]["reason"]  # the relay echoed it; we did not keep it

    await produce(names.TOPIC_PURPOSES, [(b"second", purpose("second"))])
    records = await read_topic(
        names.TOPIC_DELIVERY,
        until=lambda rs: len(finals(rs, "purpose:second:v1")) >= len(people),
        timeout=60,
    )
    second = finals(records, "purpose:second:v1")
    assert {
        u: (f["status"], f.get("reason")) for u, f in second.items() if u.startswith("gone")
    } == {
        "gone-1": ("suppressed", "bounced_before"),
        "gone-2": ("suppressed", "bounced_before"),
    }
    assert second["policy-1"]["status"] == "failed"  # a refusal is not a bounce: tried again
    assert all(second[f"fine-{i}"]["status"] == "sent" for i in (1, 2, 3))


async def test_recipients_who_keep_deferring_do_not_hold_up_the_others(
    picky_relay: Relay,
) -> None:
    # Three times as many mailboxes answering "try later" as the worker has
    # SMTP connections (4): were a deferred notice to wait out its backoff in
    # a delivery slot, the first four of them would stop the worker for good.
    full = [f"full-{i}" for i in range(12)]
    fine = [f"fine-{i}" for i in range(40)]
    await produce(names.TOPIC_USERS, users_named(full + fine))
    await produce(names.TOPIC_PURPOSES, [(b"busy", purpose("busy"))])

    handler = picky_relay.server.handler
    wait_for(lambda: len(handler.received) >= len(fine), 60)
    recipients = Counter(rcpt for message in handler.received for rcpt in message.rcpt_tos)
    assert recipients == Counter({f"{name}@example.org": 1 for name in fine})

    records = await read_topic(
        names.TOPIC_DELIVERY,
        until=lambda rs: (
            len(
                {
                    r.json["user_id"]
                    for r in rs
                    if r.json["status"] == "deferred" and r.json["attempt"] >= 2
                }
            )
            >= len(full)
        ),
        timeout=60,
    )
    final = finals(records, "purpose:busy:v1")
    assert {u: f["status"] for u, f in final.items()} == {name: "sent" for name in fine}
    deferred = [r.json for r in records if r.json["status"] == "deferred"]
    assert {d["user_id"] for d in deferred} == set(full)
    assert all(d["reason"].startswith("452") for d in deferred)
    retries = await read_topic(
        TOPIC_RETRIES,
        until=lambda rs: len({r.json["job"]["user_id"] for r in rs}) >= len(full),
        timeout=10,
    )
    assert {r.json["job"]["user_id"] for r in retries} == set(full)
