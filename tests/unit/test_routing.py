"""In-order acknowledgement with several events in progress (streams.routing)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from streams.routing import run_guarded_concurrently


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
