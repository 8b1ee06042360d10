"""The directory's flows without a broker: ``streams.directory.handlers`` on in-memory tables.

Events are the contract's examples decoded by the real models; the table is a
``MemoryTable``; the hooks record what they were told. The subprocess tests
(tests/faults/test_erasure.py, the fan-out tests) stay the proof on Kafka.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from notifications import topic_names as topics
from notifications.directory import DirectoryEntry, entry_from_upsert
from notifications.events import UserErased, UserUpserted, decode
from streams.directory.handlers import (
    ChangeHook,
    DirectoryPorts,
    EraseHook,
    handle_erasure,
    handle_upsert,
)
from streams.locks import PartitionLocks
from tests import examples
from tests.support.fakes import MemoryTable

PARTITION = 3


def upsert(**overrides: Any) -> UserUpserted:
    value = json.dumps(examples.user_upserted(**overrides)).encode()
    event = decode(topics.TOPIC_USERS, b"u-0001", value)
    assert isinstance(event, UserUpserted)
    return event


def erasure(user_id: str = "u-0001") -> UserErased:
    event = decode(topics.TOPIC_USERS, user_id.encode(), None)
    assert isinstance(event, UserErased)
    return event


Change = tuple[str, DirectoryEntry | None, DirectoryEntry, int]


@dataclass
class World:
    """The ports, and what the hooks and the ledger purge were told."""

    table: MemoryTable[DirectoryEntry] = field(default_factory=MemoryTable)
    locks: PartitionLocks = field(default_factory=PartitionLocks)
    changes: list[Change] = field(default_factory=list)
    erased: list[str] = field(default_factory=list)
    purges: int = 0
    on_change: list[ChangeHook] = field(default_factory=list)
    on_erase: list[EraseHook] = field(default_factory=list)

    def __post_init__(self) -> None:
        async def record_change(
            user_id: str, old: DirectoryEntry | None, new: DirectoryEntry, partition: int
        ) -> None:
            self.changes.append((user_id, old, new, partition))

        self.on_change.append(record_change)
        self.on_erase.append(self.erased.append)

    def purge(self) -> None:
        self.purges += 1

    @property
    def ports(self) -> DirectoryPorts:
        return DirectoryPorts(
            directory=self.table,
            locks=self.locks,
            on_change=self.on_change,
            on_erase=self.on_erase,
            purge_ledger=self.purge,
        )


async def test_a_new_user_is_kept_with_its_partition_and_the_hooks_are_told() -> None:
    world = World()

    await handle_upsert(world.ports, upsert(), PARTITION)

    entry = world.table.get("u-0001")
    assert entry is not None
    assert entry["email"] == "camille.martin@example.org" and entry["partition"] == PARTITION
    assert world.changes == [("u-0001", None, entry, PARTITION)]


async def test_the_hooks_get_the_entry_before_and_after_in_registration_order() -> None:
    world = World()
    ports = world.ports
    await handle_upsert(ports, upsert(), PARTITION)
    before = world.table.get("u-0001")
    order: list[str] = []

    async def registered_later(
        user_id: str, old: DirectoryEntry | None, new: DirectoryEntry, partition: int
    ) -> None:
        order.append(f"later:{len(world.changes)}")

    world.on_change.append(registered_later)  # after the ports were built: still told
    await handle_upsert(ports, upsert(country="FR", updated_at=examples.LATER), PARTITION)

    after = world.table.get("u-0001")
    assert after is not None and after["country"] == "FR"
    assert world.changes[-1] == ("u-0001", before, after, PARTITION)
    assert order == ["later:2"]  # run after the first hook had recorded the change


async def test_an_older_upsert_is_a_replay_and_changes_nothing() -> None:
    world = World()
    await handle_upsert(world.ports, upsert(updated_at=examples.LATER), PARTITION)
    kept = world.table.get("u-0001")

    await handle_upsert(world.ports, upsert(country="FR"), PARTITION)  # PUBLISHED_AT < LATER

    assert world.table.get("u-0001") == kept
    assert len(world.changes) == 1


async def test_an_upsert_without_a_time_is_never_stale() -> None:
    world = World()
    await handle_upsert(world.ports, upsert(updated_at=examples.LATER), PARTITION)

    await handle_upsert(world.ports, upsert(country="FR", updated_at=None), PARTITION)

    entry = world.table.get("u-0001")
    assert entry is not None and entry["country"] == "FR" and entry["updated_at"] is None
    assert len(world.changes) == 2


async def test_the_entry_is_what_the_model_dumps_as_json_and_nothing_more() -> None:
    """The stored text of each field is unchanged since entries were built from the dump."""
    event = upsert(updated_at="2026-03-02T10:00:00.5+02:00", data_categories=["user.content"])

    entry = entry_from_upsert(event, PARTITION)

    dumped = event.model_dump(mode="json")
    assert dict(entry) == {**{k: dumped[k] for k in entry if k != "partition"}, "partition": 3}
    assert "type" not in entry and "schema_version" not in entry
    assert entry["updated_at"] == "2026-03-02T10:00:00.500000+02:00"


async def test_an_upsert_waits_for_the_partition_lock() -> None:
    """A fan-out holding the partition's lock sees the user before or after, never half-way."""
    world = World()
    async with world.locks.hold(PARTITION):
        pending = asyncio.ensure_future(handle_upsert(world.ports, upsert(), PARTITION))
        await asyncio.sleep(0.01)
        assert "u-0001" not in world.table and not world.changes
    await pending
    assert "u-0001" in world.table and len(world.changes) == 1


async def test_an_erasure_deletes_the_entry_runs_the_erase_hooks_and_purges_the_ledger() -> None:
    world = World()
    await handle_upsert(world.ports, upsert(), PARTITION)

    await handle_erasure(world.ports, erasure())

    assert "u-0001" not in world.table
    assert world.erased == ["u-0001"] and world.purges == 1


async def test_an_erasure_of_an_unknown_user_still_reaches_every_domain() -> None:
    """Other domains may hold data of a user the directory never saw (an objection by API)."""
    world = World()

    await handle_erasure(world.ports, erasure("u-0002"))

    assert world.erased == ["u-0002"] and world.purges == 1
    assert not world.changes
