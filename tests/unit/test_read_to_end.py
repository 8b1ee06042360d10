"""The one read-to-the-end loop (streams.kafka.read_from_start) and the exclusion
list that follows training.exclusions (streams.objections.exclusion_views), on a fake
consumer that behaves like aiokafka's for the calls they make."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka import TopicPartition

from streams import kafka
from streams.objections.exclusion_views import ExclusionList

T = "training.exclusions"
P0, P1, P2 = TopicPartition(T, 0), TopicPartition(T, 1), TopicPartition(T, 2)


@dataclass
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


class FakeConsumer:
    """Logs per partition; ``getmany`` returns up to ``batch`` records of each."""

    def __init__(self, logs: dict[TopicPartition, list[tuple[bytes | None, bytes | None]]]):
        self.logs = {
            tp: [Record(tp.topic, tp.partition, i, *kv) for i, kv in enumerate(log)]
            for tp, log in logs.items()
        }
        self.pos: dict[TopicPartition, int] = {}
        self.batch = 2
        self.stuck: set[TopicPartition] = set()
        self.calls: list[str] = []
        self.on_poll: list[Any] = []

    def append(self, tp: TopicPartition, key: bytes | None, value: bytes | None) -> None:
        log = self.logs.setdefault(tp, [])
        log.append(Record(tp.topic, tp.partition, len(log), key, value))

    def assign(self, tps: list[TopicPartition]) -> None:
        self.calls.append("assign")
        self.pos = dict.fromkeys(tps, -1)

    async def seek_to_beginning(self, *tps: TopicPartition) -> None:
        self.calls.append("seek_to_beginning")
        for tp in tps:
            self.pos[tp] = 0

    async def end_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        self.calls.append("end_offsets")
        return {tp: len(self.logs.get(tp, [])) for tp in tps}

    async def position(self, tp: TopicPartition) -> int:
        return self.pos[tp]

    async def getmany(self, *tps: TopicPartition, timeout_ms: int) -> dict[Any, list[Record]]:
        self.calls.append("getmany")
        for hook in self.on_poll:
            hook()
        out = {}
        for tp in tps:
            if tp in self.stuck:
                continue
            records = self.logs.get(tp, [])[self.pos[tp] : self.pos[tp] + self.batch]
            if records:
                out[tp] = records
                self.pos[tp] = records[-1].offset + 1
        await asyncio.sleep(0)
        return out


async def read_all(consumer: FakeConsumer, tps: list[TopicPartition], **kw: Any) -> list[Any]:
    return [f async for f in kafka.read_from_start(consumer, tps, **kw)]


def offsets(fetches: list[kafka.Fetch]) -> dict[TopicPartition, list[int]]:
    seen: dict[TopicPartition, list[int]] = {}
    for fetch in fetches:
        for tp, records in fetch.records.items():
            seen.setdefault(tp, []).extend(r.offset for r in records)
    return seen


async def test_every_partition_is_read_to_the_end_taken_at_start() -> None:
    consumer = FakeConsumer({P0: [(b"a", b"1")] * 5, P1: [(b"b", None)], P2: []})
    # records appended while reading are past the end taken at start: not read
    consumer.on_poll.append(lambda: consumer.append(P0, b"late", b"x"))
    fetches = await read_all(consumer, [P0, P1, P2])
    assert offsets(fetches) == {P0: [0, 1, 2, 3, 4], P1: [0]}
    assert consumer.calls[:3] == ["assign", "seek_to_beginning", "end_offsets"]
    assert fetches[-1].caught_up and not any(f.caught_up for f in fetches[:-1])
    # a tombstone is handed over like any record
    assert [r.value for r in fetches[0].records[P1]] == [None]


async def test_empty_partitions_read_nothing() -> None:
    consumer = FakeConsumer({P0: [], P1: []})
    fetches = await read_all(consumer, [P0, P1])
    assert [(f.records, f.caught_up) for f in fetches] == [({}, True)]
    assert "getmany" not in consumer.calls
    assert await read_all(consumer, []) == []


async def test_a_partition_that_never_reaches_its_end_fails_the_read() -> None:
    consumer = FakeConsumer({P0: [(b"a", b"1")], P1: [(b"b", b"2")]})
    consumer.stuck = {P1}
    with pytest.raises(kafka.ReadStalled, match=f"{T}/1"):
        await read_all(consumer, [P0, P1], stall_seconds=0.0, poll_ms=1)


async def test_following_reads_on_past_the_end() -> None:
    consumer = FakeConsumer({P0: [(b"a", b"1")] * 3})
    fetches: list[kafka.Fetch] = []
    async for fetch in kafka.read_from_start(consumer, [P0], follow=True):
        fetches.append(fetch)
        if fetch.caught_up and len(consumer.logs[P0]) == 3:
            consumer.append(P0, b"new", b"2")
        if any(r.key == b"new" for r in fetch.records.get(P0, [])):
            break
    assert offsets(fetches) == {P0: [0, 1, 2, 3]}
    assert fetches[-1].positions == {P0: 4}


def exclusion(user: str, purpose: str) -> bytes:
    return f'{{"user_id":"{user}","purposes":["{purpose}"]}}'.encode()


async def test_the_exclusion_list_answers_from_memory_once_read_to_the_end() -> None:
    consumer = FakeConsumer({P0: [(b"u1", exclusion("u1", "ai")), (b"u2", exclusion("u2", "ai"))]})
    consumer.append(P0, b"u1", None)  # u1's exclusion lifted: a tombstone
    exclusions = ExclusionList()
    exclusions._consumer = consumer
    exclusions._partitions = [P0]
    async for fetch in kafka.read_from_start(consumer, [P0]):
        exclusions.take(fetch)
    consumer.calls.clear()
    assert await exclusions.current(timeout=1) == [{"user_id": "u2", "purposes": ["ai"]}]
    assert consumer.calls == ["end_offsets"]  # no scan of the topic

    # written after: the request waits until the follower has read it
    consumer.append(P0, b"u3", exclusion("u3", "ai"))
    answer = asyncio.ensure_future(exclusions.current(timeout=5))
    await asyncio.sleep(0.01)
    assert not answer.done()
    exclusions.take(kafka.Fetch({P0: consumer.logs[P0][3:]}, positions={P0: 4}, caught_up=True))
    assert [r["user_id"] for r in await answer or []] == ["u2", "u3"]


async def test_the_exclusion_list_gives_up_when_the_follower_is_behind() -> None:
    exclusions = ExclusionList()
    assert await exclusions.current(timeout=0.05) is None  # not started
    exclusions._consumer = FakeConsumer({P0: [(b"u", exclusion("u", "ai"))]})
    exclusions._partitions = [P0]
    assert await exclusions.current(timeout=0.05) is None  # never read up to the end
