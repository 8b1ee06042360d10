"""The fan-out of one partition and the late match, on in-memory tables and recording topics.

The directory is a :class:`MemoryTable` of the entries the directory agent
stores, scanned in the order the worker's partition scan yields them; the
batch writer is :class:`RecordingWriter`, which keeps what was appended and
what a flush made durable. Every record is decoded with the contract's and
the internal models, as a consumer would read it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from notifications import events
from notifications import topic_names as names
from notifications.addresses import suppression_digest
from notifications.campaign import ShardRegistry, change_json
from notifications.directory import DirectoryEntry
from notifications.exclusions import ExclusionEntry
from notifications.internal_events import (
    TOPIC_JOBS,
    TOPIC_LEDGER,
    FanoutRequest,
    NoticeJob,
    PartitionFannedOut,
    PersonDecided,
    decode_internal,
)
from streams.campaigns.fanout import EntryLookups
from streams.campaigns.handlers import FanoutPorts, fan_out_partition, match_late
from streams.campaigns.outputs import CampaignOutputs
from streams.campaigns.registry import DONE, CampaignTexts, Tally
from streams.locks import PartitionLocks
from streams.wiring import AudienceLookups
from tests import examples
from tests.support.fakes import MemoryTable, RecordingTopic

NOW = datetime(2026, 3, 5, 12, tzinfo=UTC)  # after the example's publication, before its start
PURPOSE = events.PurposeDeclared.model_validate(examples.purpose_declared())
CID = PURPOSE.campaign_id


@dataclass
class RecordingWriter:
    """A batch writer for one partition: ``records`` appended, the first ``durable`` flushed."""

    journal: list[str]
    records: list[tuple[str, bytes | None, bytes | None]] = field(default_factory=list)
    durable: int = 0

    async def append(self, topic: str, key: bytes | None, value: bytes | None) -> None:
        self.records.append((topic, key, value))
        self.journal.append(f"append {topic}")

    async def flush(self) -> None:
        self.durable = len(self.records)
        self.journal.append("flush")


class RegistryTable(MemoryTable[ShardRegistry]):
    """The ``campaign_shards`` table, noting in the journal when a progress mark is saved.

    ``kill_at``: the worker dies instead of saving that mark.
    """

    def __init__(self, journal: list[str]) -> None:
        super().__init__()
        self.journal = journal
        self.kill_at: str | None = None

    def __setitem__(self, key: str, value: ShardRegistry) -> None:
        progress = value[CID]["progress"]
        if progress is not None and progress == self.kill_at:
            raise RuntimeError("worker killed")
        super().__setitem__(key, value)
        self.journal.append(f"save {progress}")


def order(key: str) -> bytes:
    """The worker's key order (RocksDB's: the bytes of the key's JSON form)."""
    return json.dumps(key).encode()


def entry(user_id: str, partition: int = 0, **fields: Any) -> DirectoryEntry:
    """An adult French user with an address, as the directory stores them."""
    return {
        "user_id": user_id,
        "email": f"{user_id}@example.org",
        "locale": "fr",
        "country": "FR",
        "birth_year": 1990,
        "account_type": "standard",
        "data_categories": None,
        "status": "active",
        "updated_at": None,
        "partition": partition,
        **fields,  # type: ignore[typeddict-item]
    }


@dataclass
class World:
    """One worker's campaign ports, on fakes, with what they wrote."""

    journal: list[str] = field(default_factory=list)
    directory: MemoryTable[DirectoryEntry] = field(default_factory=MemoryTable)
    objections: MemoryTable[dict[str, Any]] = field(default_factory=MemoryTable)
    suppression: MemoryTable[list[str]] = field(default_factory=MemoryTable)
    exclusions: MemoryTable[ExclusionEntry] = field(default_factory=MemoryTable)
    exclusions_topic: RecordingTopic = field(default_factory=lambda: RecordingTopic("exclusions"))
    ledger: RecordingTopic = field(default_factory=lambda: RecordingTopic(TOPIC_LEDGER))
    late_decisions: MemoryTable[str] = field(default_factory=MemoryTable)
    writers: list[RecordingWriter] = field(default_factory=list)
    now: datetime = NOW

    def __post_init__(self) -> None:
        self.shards = RegistryTable(self.journal)
        self.ports = FanoutPorts(
            shards=self.shards,
            late_decisions=self.late_decisions,
            outputs=CampaignOutputs(
                exclusions_topic=self.exclusions_topic,
                exclusions_table=self.exclusions,
                ledger=self.ledger,
                clock=lambda: self.now,
            ),
            lookups=EntryLookups(AudienceLookups(self.objections, self.suppression)),
            locks=PartitionLocks(),
            texts=CampaignTexts(),
            scan=self.scan,
            open_writer=self.open_writer,
            flush_producer=self.flush_producer,
            chunk_size=2,
        )

    def add(self, *entries: DirectoryEntry) -> None:
        for value in entries:
            self.directory[value["user_id"]] = value

    def scan(self, partition: int, after: str | None) -> Iterable[tuple[str, DirectoryEntry]]:
        """As ``streams.runtime.partition_scan``: one partition, in key order, after a mark."""
        return sorted(
            (
                (key, value)
                for key, value in self.directory.items()
                if value["partition"] == partition and (after is None or order(key) > order(after))
            ),
            key=lambda item: order(item[0]),
        )

    def open_writer(self, partition: int) -> RecordingWriter:
        writer = RecordingWriter(self.journal)
        self.writers.append(writer)
        return writer

    async def flush_producer(self) -> None:
        self.journal.append("producer flush")

    def appended(self, topic: str) -> list[tuple[bytes | None, bytes | None]]:
        return [(k, v) for w in self.writers for t, k, v in w.records if t == topic]

    def jobs(self) -> list[NoticeJob]:
        decoded = [decode_internal(TOPIC_JOBS, k, v) for k, v in self.appended(TOPIC_JOBS)]
        assert all(isinstance(job, NoticeJob) for job in decoded)
        return decoded

    def suppressed(self) -> dict[str, str | None]:
        records = [
            events.decode(names.TOPIC_DELIVERY, k, v)
            for k, v in self.appended(names.TOPIC_DELIVERY)
        ]
        assert all(
            isinstance(r, events.NoticeDelivery) and r.status == "suppressed" for r in records
        )
        return {r.user_id: r.reason for r in records if isinstance(r, events.NoticeDelivery)}

    def ledger_records(self) -> list[Any]:
        return [decode_internal(TOPIC_LEDGER, s.key, s.value) for s in self.ledger.sent]


def request(partition: int = 0) -> FanoutRequest:
    return FanoutRequest(
        campaign_id=CID, kind="purpose", partition=partition, change=change_json(PURPOSE)
    )


def population(world: World) -> None:
    """Six users of partition 0, one of partition 1: every outcome of the audience rules once."""
    world.add(
        entry("u1"),
        entry("u2"),  # objected already
        entry("u3", country="DE", locale="de", email=None),
        entry("u4", birth_year=2012),  # 14 at the start: below the audience's min_age of 18
        entry("u5", country="US"),
        entry("u6"),  # their address bounced before
        entry("u7", partition=1),
    )
    world.objections["u2"] = {"ai-training": {"objection_id": "o1"}}
    world.suppression["u6"] = [suppression_digest("u6@example.org")]


# --- fan-out -----------------------------------------------------------------------------------


async def test_the_fanout_writes_one_record_per_person_of_its_partition() -> None:
    world = World()
    population(world)

    await fan_out_partition(world.ports, request(0), 0)

    assert [(job.campaign_id, job.user_id, job.late) for job in world.jobs()] == [
        (CID, "u1", False)
    ]
    assert world.suppressed() == {
        "u2": "already_objected",
        "u3": "no_email",
        "u6": "bounced_before",
    }
    [exclusion] = [
        events.decode(names.TOPIC_EXCLUSIONS, s.key, s.value) for s in world.exclusions_topic.sent
    ]
    assert isinstance(exclusion, events.TrainingExclusion)
    assert (exclusion.user_id, exclusion.reasons) == ("u4", {"ai-training": "below_min_age"})
    assert world.exclusions.get("u4") is not None
    decided = {job.user_id for job in world.jobs()} | set(world.suppressed()) | {"u4"}
    assert decided == {"u1", "u2", "u3", "u4", "u6"}  # u5 (US) and u7 (partition 1): nothing
    [done] = world.ledger_records()
    assert isinstance(done, PartitionFannedOut)
    assert (done.partition, done.notified) == (0, 1)
    assert done.suppressed == {"already_objected": 1, "no_email": 1, "bounced_before": 1}
    assert done.excluded == {"below_min_age": 1}
    assert done.by_country == {"FR": 3, "DE": 1}
    assert done.suppressed_by_country == {"FR": 2, "DE": 1}
    assert done.by_language == {"fr": 3, "de": 1}


async def test_progress_is_saved_only_after_the_chunks_records_are_durable() -> None:
    world = World()
    population(world)

    await fan_out_partition(world.ports, request(0), 0)

    # chunks of 2 users, in key order: u1 u2 | u3 u4 | u5 u6 | done
    saves = [line for line in world.journal if line.startswith("save")]
    assert saves == ["save None", "save u2", "save u4", "save u6", f"save {DONE}"]
    for index, line in enumerate(world.journal):
        if line.startswith("save"):
            before = world.journal[:index]
            last_append = max(
                (i for i, x in enumerate(before) if x.startswith("append")), default=-1
            )
            assert "flush" in before[last_append + 1 :], world.journal
            assert before[-1] == "producer flush"  # exclusions too, before the mark
    state = world.shards.data["0"][CID]
    assert state["progress"] == DONE and state["tally"]["notified"] == 1
    assert state["change"] == change_json(PURPOSE)  # the text as published, for delivery


async def test_a_fanout_killed_mid_way_resumes_after_its_last_mark() -> None:
    world = World()
    population(world)
    world.shards.kill_at = "u4"  # dies after the chunk u3 u4 is flushed, before its mark
    with pytest.raises(RuntimeError, match="killed"):
        await fan_out_partition(world.ports, request(0), 0)
    assert world.shards.data["0"][CID]["progress"] == "u2"
    world.shards.kill_at = None
    world.writers.clear()

    await fan_out_partition(world.ports, request(0), 0)  # the partition's next owner

    assert world.jobs() == []  # u1 was before the mark: one job, from the first run
    assert world.suppressed() == {"u3": "no_email", "u6": "bounced_before"}
    [done] = world.ledger_records()
    assert isinstance(done, PartitionFannedOut)  # the whole partition, each person once
    assert (done.notified, done.excluded) == (1, {"below_min_age": 1})
    assert done.suppressed == {"already_objected": 1, "no_email": 1, "bounced_before": 1}


async def fanned_out_world() -> World:
    world = World()
    population(world)
    await fan_out_partition(world.ports, request(0), 0)
    world.writers.clear()
    world.ledger.sent.clear()
    return world


async def test_a_finished_partition_redelivered_writes_nothing() -> None:
    world = await fanned_out_world()

    await fan_out_partition(world.ports, request(0), 0)

    assert world.writers == [] and world.ledger.sent == []


async def test_each_partition_decides_for_its_own_users_only() -> None:
    world = World()
    population(world)

    await fan_out_partition(world.ports, request(1), 1)

    assert [job.user_id for job in world.jobs()] == ["u7"]
    assert set(world.shards.data) == {"1"}


# --- late matches ------------------------------------------------------------------------------


async def test_a_user_who_starts_to_match_is_notified_once() -> None:
    world = await fanned_out_world()
    old, new = entry("u5", country="US"), entry("u5", country="FR")  # moved into the EEA

    await match_late(world.ports, "u5", old, new, 0)
    await match_late(world.ports, "u5", new, new, 0)  # the same upsert again

    assert [(job.user_id, job.late) for job in world.jobs()] == [("u5", True)]
    [decided] = world.ledger_records()
    assert isinstance(decided, PersonDecided)
    assert (decided.user_id, decided.outcome, decided.country) == ("u5", "notify", "FR")
    assert world.late_decisions.get(f"{CID}|u5") == "notify"
    assert world.writers[0].durable == 1  # the job is on the broker when the hook returns


async def test_a_new_user_below_the_minimum_age_is_excluded_not_notified() -> None:
    world = await fanned_out_world()

    await match_late(world.ports, "u9", None, entry("u9", birth_year=2013), 0)

    assert world.jobs() == []
    assert world.exclusions.get("u9") is not None
    [decided] = world.ledger_records()
    assert isinstance(decided, PersonDecided) and decided.reason == "below_min_age"


async def test_no_late_match_after_the_start_or_before_the_fanout_reached_the_user() -> None:
    world = await fanned_out_world()
    world.now = PURPOSE.starts_at
    await match_late(world.ports, "u9", None, entry("u9"), 0)
    assert world.jobs() == [] and world.ledger.sent == []

    world = World()
    population(world)
    tally = Tally().as_counts()
    world.shards.data["0"] = {
        CID: {"kind": "purpose", "change": change_json(PURPOSE), "progress": "u2", "tally": tally}
    }
    await match_late(world.ports, "u3", None, entry("u3"), 0)  # the fan-out will decide for u3
    assert world.jobs() == [] and world.ledger.sent == []
    await match_late(world.ports, "u1", entry("u1", email=None), entry("u1"), 0)
    assert [job.user_id for job in world.jobs()] == ["u1"]  # was no_email, now reachable
