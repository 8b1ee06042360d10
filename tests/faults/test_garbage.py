"""Garbage on every topic a worker reads: each record is dead-lettered, the worker goes on.

For each input topic of the contract (``users``, ``policy.purposes``,
``policy.terms``, ``consent.objections``) and each internal topic an agent
reads (``preavis.campaign-fanout``, ``preavis.notice-jobs``,
``preavis.campaign-ledger``, ``preavis.objection-requests``): a value that is
not JSON, one with wrong types, an unknown event type, one of several MB,
invalid UTF-8, and a null value where the topic has no tombstones. And on
``users``, an address with CR/LF (a header injection attempt).

Each must land in ``preavis.deadletter`` with its topic, partition, offset,
bytes (none for a topic that holds personal data, every email address masked
for the others) and an error naming the problem (or, for the CR/LF address, be
suppressed as ``invalid_email``); the worker must stay up and keep working:
the valid events written after the garbage are processed and a notice is
delivered.
"""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from notifications import topic_names as names
from notifications.errors import InvalidEvent
from notifications.events import decode
from notifications.internal_events import (
    TOPIC_FANOUT,
    TOPIC_JOBS,
    TOPIC_LEDGER,
    TOPIC_OBJECTION_REQUESTS,
    TOPIC_RETRIES,
    decode_internal,
)
from streams.deadletter_redaction import holds_personal_data, mask_addresses
from streams.guarded_agents import MAX_DEAD_VALUE_BYTES
from streams.topics import TOPIC_SPECS
from tests import examples
from tests.faults.conftest import Workers
from tests.faults.support import Mailbox, final_status, purpose, read_all, report, wait_for_mail
from tests.support.kafka import BOOTSTRAP, Record, alter_topic_configs, read_topic
from tests.support.smtp_server import SmtpServer

BIG = 3 * 1024 * 1024  # "a value of several MB"
MAX_MESSAGE_BYTES = 8 * 1024 * 1024  # what the test's topics accept, so that BIG gets in
NOW = datetime.now(UTC).isoformat()
CRLF_EMAIL = "crlf@example.org\r\nBcc: everyone@evil.example"
ADDRESS_LIKE = re.compile(rb"[\w.+-]+@[\w-]+\.[\w.-]+")


@dataclass(frozen=True)
class Garbage:
    topic: str
    kind: str
    value: bytes | None
    expect: tuple[str, ...]  # any of these in the dead letter's error
    key: bytes = b"garbage"


def public_garbage(
    topic: str, valid: dict[str, Any], wrong: dict[str, Any], wrong_field: str, id_field: str
) -> list[Garbage]:
    def as_bytes(**changes: Any) -> bytes:
        return json.dumps({**valid, **changes}, ensure_ascii=False).encode()

    kinds = [
        Garbage(topic, "not JSON", as_bytes()[:-9], ("JSON", "json")),
        Garbage(topic, "wrong types", as_bytes(**wrong), (wrong_field,)),
        Garbage(topic, "unknown type", as_bytes(type="thing.deleted"), ("type",)),
        Garbage(topic, "several MB", as_bytes(**{id_field: "x" * BIG}), (id_field,)),
        Garbage(
            topic,
            "invalid UTF-8",
            as_bytes(**{id_field: "garbage-caf\u00e9"}).replace("\u00e9".encode(), b"\xe9"),
            ("UTF-8",),
        ),
    ]
    if topic != names.TOPIC_USERS:  # on users a null value is an erasure, not garbage
        kinds.append(Garbage(topic, "null value", None, ("null",)))
    return kinds


def internal_garbage(topic: str, wrong: dict[str, Any], wrong_field: str) -> list[Garbage]:
    return [
        Garbage(topic, "not JSON", b'{"type": "', ("JSON", "json")),
        Garbage(topic, "wrong types", json.dumps(wrong).encode(), (wrong_field,)),
        Garbage(topic, "unknown type", json.dumps({**wrong, "type": "x.y"}).encode(), ("type",)),
        Garbage(topic, "several MB", b"\x00junk" * (BIG // 5), ("JSON", "json")),
        Garbage(topic, "invalid UTF-8", b'{"type": "caf\xe9"}', ("UTF-8", "utf-8", "unicode")),
        Garbage(topic, "null value", None, ("null",)),
    ]


GARBAGE: list[Garbage] = [
    *public_garbage(
        names.TOPIC_USERS,
        examples.user_upserted(user_id="garbage-user", email="garbage-user@example.org"),
        {"birth_year": "nineteen eighty"},
        "birth_year",
        "user_id",
    ),
    *public_garbage(
        names.TOPIC_PURPOSES,
        purpose("garbage-purpose"),
        {"version": "one"},
        "version",
        "purpose_id",
    ),
    *public_garbage(
        names.TOPIC_TERMS,
        examples.terms_published(document_id="garbage-terms"),
        {"audience": "everyone"},
        "audience",
        "document_id",
    ),
    *public_garbage(
        names.TOPIC_OBJECTIONS,
        examples.objection_recorded(user_id="garbage-objector"),
        {"channel": 7},
        "channel",
        "user_id",
    ),
    *internal_garbage(
        TOPIC_FANOUT,
        {"type": "campaign.fanout", "campaign_id": "c", "kind": "purpose", "partition": "x",
         "change": {}},
        "partition",
    ),
    *internal_garbage(
        TOPIC_JOBS,
        {"type": "notice.job", "campaign_id": "c", "user_id": "u", "issued_at": "yesterday"},
        "issued_at",
    ),
    *internal_garbage(
        TOPIC_RETRIES,
        {"type": "notice.retry", "job": {"type": "notice.job", "campaign_id": "c",
         "user_id": "u", "issued_at": NOW, "attempt": 1}, "due_at": "soon"},
        "due_at",
    ),
    *internal_garbage(
        TOPIC_LEDGER,
        {"type": "campaign.partition_done", "campaign_id": "c", "partition": 0,
         "notified": "many", "at": NOW},
        "notified",
    ),
    *internal_garbage(
        TOPIC_OBJECTION_REQUESTS,
        {"type": "objection.request", "request_id": "r", "user_id": "u",
         "purposes": "ai-training", "channel": "api", "received_at": NOW},
        "purposes",
    ),
]  # fmt: skip


async def accept_big_values(topics: set[str]) -> None:
    """Let the test's topics take a BIG record, as a platform's cluster may."""
    specs = {s.name: s for s in TOPIC_SPECS}
    await alter_topic_configs(
        {
            topic: {**specs[topic].config(), "max.message.bytes": str(MAX_MESSAGE_BYTES)}
            for topic in topics
        }
    )


async def produce_located(items: list[tuple[str, bytes, bytes | None]]) -> list[tuple[int, int]]:
    """Write (topic, key, value) in order; (partition, offset) of each."""
    producer = AIOKafkaProducer(
        bootstrap_servers=BOOTSTRAP, acks="all", max_request_size=MAX_MESSAGE_BYTES
    )
    await producer.start()
    try:
        where = []
        for topic, key, value in items:
            meta = await producer.send_and_wait(topic, key=key, value=value)
            where.append((meta.partition, meta.offset))
        return where
    finally:
        await producer.stop()


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


async def test_garbage_on_every_input_topic_is_dead_lettered_and_the_worker_keeps_working(
    relay: SmtpServer, workers: Workers
) -> None:
    started = time.monotonic()
    mailbox = relay.handler
    assert isinstance(mailbox, Mailbox)
    await accept_big_values({g.topic for g in GARBAGE})
    worker = workers.start_healthy("worker", PREAVIS_SMTP_PORT=str(relay.port))

    crlf_user = examples.user_upserted(user_id="crlf-user", email=CRLF_EMAIL, country="DE")
    items = [(g.topic, g.key, g.value) for g in GARBAGE]
    items.append((names.TOPIC_USERS, b"crlf-user", json.dumps(crlf_user).encode()))
    where = await produce_located(items)
    located = {(g.topic, *place): g for g, place in zip(GARBAGE, where, strict=False)}

    def ours(records: list[Record]) -> list[dict[str, Any]]:
        return [r.json for r in records if r.json]

    dead = ours(
        await read_topic(
            names.TOPIC_DEADLETTER, until=lambda rs: len(rs) >= len(GARBAGE), timeout=45
        )
    )
    # then the valid: a user and a campaign, written after all the garbage
    fine = examples.user_upserted(user_id="fine-user", email="fine@example.org", country="DE")
    await produce_located(
        [
            (names.TOPIC_USERS, b"fine-user", json.dumps(fine).encode()),
            (
                names.TOPIC_PURPOSES,
                b"after-garbage",
                json.dumps(purpose("after-garbage")).encode(),
            ),
        ]
    )
    campaign_id = "purpose:after-garbage:v1"
    delivered = wait_for_mail(mailbox, campaign_id, {"fine@example.org"}, 90)
    deliveries = await read_topic(
        names.TOPIC_DELIVERY,
        until=lambda rs: len(final_status(rs, campaign_id)) >= 2,
        timeout=60,
    )
    dead = ours(await read_all(names.TOPIC_DEADLETTER, settle=2))
    alive = worker.process.poll() is None and healthy(worker.url)

    by_place = {(d["topic"], d["partition"], d["offset"]): d for d in dead}
    missing = [f"{g.topic}/{g.kind}" for place, g in located.items() if place not in by_place]
    unclear = [
        f"{g.topic}/{g.kind}: {by_place[place]['error'][:200]}"
        for place, g in located.items()
        if place in by_place and not any(word in by_place[place]["error"] for word in g.expect)
    ]
    internal_errors = [d["error"][:200] for d in dead if "internal error" in d["error"]]
    finals = final_status(deliveries, campaign_id)
    crlf_dead = any(d["key"] == "crlf-user" for d in dead)
    report(
        "6-garbage",
        garbage=len(GARBAGE) + 1,
        topics=len({g.topic for g in GARBAGE}),
        dead_lettered=len(dead),
        missing=len(missing),
        unclear=len(unclear),
        crlf=("dead-lettered" if crlf_dead else finals.get("crlf-user", "nothing")),
        worker_alive=alive,
        seconds=round(time.monotonic() - started, 1),
    )
    assert alive, f"the worker died or stopped answering\n{worker.log()[-6000:]}"
    assert not missing, f"no dead letter for {missing}\n{worker.log()[-6000:]}"
    assert not unclear, unclear
    assert not internal_errors, internal_errors
    assert len(dead) == len(GARBAGE) + crlf_dead, "a valid record was dead-lettered"
    for place, garbage in located.items():
        letter = by_place[place]
        assert letter["key"] == garbage.key.decode()
        if garbage.value is None:
            assert letter.get("value_b64") is None
        elif holds_personal_data(garbage.topic):  # personal data: only the pointer
            assert "value_b64" not in letter
            assert letter["value_redacted"] is True
            assert f"{garbage.topic}[{letter['partition']}]@{letter['offset']}" in letter["error"]
        elif len(garbage.value) <= MAX_DEAD_VALUE_BYTES:
            masked, redacted = mask_addresses(garbage.value)
            assert base64.b64decode(letter["value_b64"]) == masked
            assert letter.get("value_redacted") is (True if redacted else None)
        else:  # too large to copy: the letter says where the original stays
            assert "value_b64" not in letter
            assert f"@{letter['offset']}" in letter["error"]
        assert "evil.example" not in letter["error"] and "crlf@" not in letter["error"]
    # no dead letter copies an address, whatever its topic
    for letter in dead:
        copied = base64.b64decode(letter.get("value_b64") or "")
        assert not ADDRESS_LIKE.search(copied), (letter["topic"], copied[:200])
        assert "@" not in (letter["key"] or ""), letter["key"]

    # the worker kept working: the valid user got the notice, the CR/LF address nothing
    assert delivered, f"no notice after the garbage\n{worker.log()[-6000:]}"
    everyone = {r for a in mailbox.accepted for r in a.rcpt_tos}
    assert everyone == {"fine@example.org"}, everyone
    assert finals.get("fine-user") == "sent"
    if not crlf_dead:
        assert finals.get("crlf-user") == "suppressed"
        [suppressed] = [
            r.json
            for r in deliveries
            if r.json["user_id"] == "crlf-user" and r.json["campaign_id"] == campaign_id
        ]
        assert suppressed["reason"] == "invalid_email"


def test_every_garbage_record_is_really_garbage() -> None:
    """Guard against a test that proves nothing: the workers' decoders refuse each one."""
    for garbage in GARBAGE:
        decoder = decode if garbage.topic in names.ALL_TOPICS else decode_internal
        with pytest.raises(InvalidEvent) as refused:
            decoder(garbage.topic, garbage.key, garbage.value)
        assert any(word in str(refused.value) for word in garbage.expect), (
            garbage.topic,
            garbage.kind,
            str(refused.value)[:200],
        )
