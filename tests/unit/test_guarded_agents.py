"""streams.guarded_agents: in-order acknowledgement with several events in progress, and
what a dead letter may copy of its record (no personal data, no address)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from notifications.events import encode
from streams.guarded_agents import dead_letter_for, run_guarded_concurrently


@dataclass
class FakeMessage:
    offset: int
    topic: str = "t"
    partition: int = 0
    key: bytes | None = None
    value: bytes | None = b"{}"


@dataclass
class FakeEvent:
    message: FakeMessage
    acked_log: list[int]

    def ack(self) -> None:
        self.acked_log.append(self.message.offset)


@dataclass
class FakeStream:
    events_: list[FakeEvent]

    def noack(self) -> FakeStream:
        return self

    async def events(self) -> AsyncIterator[FakeEvent]:
        for event in self.events_:
            yield event


@dataclass
class DeadLetters:
    sent: list[Any] = field(default_factory=list)

    async def send(self, key: Any, value: Any) -> None:
        self.sent.append(value)


async def test_events_finishing_out_of_order_are_acknowledged_in_arrival_order() -> None:
    acked: list[int] = []
    gates = {offset: asyncio.Event() for offset in range(6)}
    running_now: set[int] = set()
    most_at_once = 0

    async def handle(decoded: Any, event: FakeEvent) -> None:
        nonlocal most_at_once
        running_now.add(event.message.offset)
        most_at_once = max(most_at_once, len(running_now))
        await gates[event.message.offset].wait()
        running_now.discard(event.message.offset)

    stream = FakeStream([FakeEvent(FakeMessage(o), acked) for o in range(6)])
    runner = asyncio.create_task(
        run_guarded_concurrently(stream, handle, DeadLetters(), lambda t, k, v: v, limit=3)
    )
    await asyncio.sleep(0.01)
    assert running_now == {0, 1, 2}  # the limit holds the rest back
    gates[2].set()
    gates[1].set()
    await asyncio.sleep(0.01)
    assert acked == []  # 0 is still in progress: nothing after it may be acknowledged
    gates[0].set()
    await asyncio.sleep(0.01)
    assert acked == [0, 1, 2]
    for offset in (5, 4, 3):
        gates[offset].set()
    await runner
    await asyncio.sleep(0.01)
    assert acked == [0, 1, 2, 3, 4, 5]
    assert most_at_once == 3


async def test_a_failing_handler_is_dead_lettered_and_still_acknowledged_in_order() -> None:
    acked: list[int] = []

    async def handle(decoded: Any, event: FakeEvent) -> None:
        if event.message.offset == 1:
            raise RuntimeError("a bug")

    dead = DeadLetters()
    stream = FakeStream([FakeEvent(FakeMessage(o), acked) for o in range(3)])
    await run_guarded_concurrently(stream, handle, dead, lambda t, k, v: v, limit=2)
    await asyncio.sleep(0.01)
    assert acked == [0, 1, 2]
    assert len(dead.sent) == 1


# ----------------------------------------------------------------- dead letters copy no address


def letter_of(topic: str, value: bytes | None, key: bytes | None = b"u-1") -> dict[str, Any]:
    message = FakeMessage(offset=41, topic=topic, partition=3, key=key, value=value)
    letter: dict[str, Any] = json.loads(encode(dead_letter_for(message, "invalid event: x")))
    return letter


def test_a_dead_letter_from_a_personal_topic_keeps_only_the_pointer_to_the_source() -> None:
    raw = b'{"type":"user.upserted","user_id":"u-1","email":"ana@example.org","country":7}'
    for topic in ("users", "consent.objections", "preavis.objection-requests"):
        letter = letter_of(topic, raw)
        assert (letter["topic"], letter["partition"], letter["offset"]) == (topic, 3, 41)
        assert "value_b64" not in letter
        assert letter["value_redacted"] is True
        assert f"{topic}[3]@41" in letter["error"]
        assert "ana@" not in json.dumps(letter)
        assert letter["key"] == "u-1"  # the user id: pseudonymous, kept to find the record


def test_a_dead_letter_from_another_topic_is_copied_with_every_address_masked() -> None:
    raw = (
        b'{"purpose_id":"p","controller":{"contact_email":"dpo@platform.example",'
        b'"x":"mail ana.b+1@ex-ample.org, or \\u0040"},"bad":"\xff\xfe"}'
    )
    letter = letter_of("policy.purposes", raw, key=b"bob@example.net")
    copied = base64.b64decode(letter["value_b64"])
    assert b"@" not in copied.replace(b"\\u0040", b"")
    assert copied.count(b"<address>") == 2
    assert b'"bad":"\xff\xfe"' in copied  # the rest of the bytes as they were
    assert letter["value_redacted"] is True
    assert letter["key"] == "<address>"


def test_a_dead_letter_without_an_address_is_the_original_bytes() -> None:
    raw = b'{"purpose_id":"p","version":"one"}'
    letter = letter_of("policy.purposes", raw)
    assert base64.b64decode(letter["value_b64"]) == raw
    assert "value_redacted" not in letter


def test_the_error_of_a_dead_letter_never_names_an_address() -> None:
    message = FakeMessage(offset=1, topic="policy.terms", value=b"{}")
    letter = dead_letter_for(message, "internal error: KeyError: 'eve@evil.example'")
    assert "eve@" not in letter.error and "<address>" in letter.error
