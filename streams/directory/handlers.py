"""The directory's two flows as plain functions of typed ports.

An upsert replaces the user's entry unless it is older than the one kept (a
replay of the compacted topic), under the partition's lock so that a fan-out
of the same partition sees the user before or after it, never half-way; then
every domain that follows the directory is told, in registration order.

An erasure deletes the entry, runs every domain's erase hook in the user's
partition, and asks for the folded records of the campaign ledger to be
deleted (:mod:`streams.directory.ledger_purge`), since some of them name the
person's country and language.

No Faust here: the worker passes its tables wrapped as ports
(:mod:`streams.directory.agents`), a unit test passes in-memory fakes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from notifications.directory import DirectoryEntry, entry_from_upsert, is_stale
from notifications.events import UserErased, UserUpserted
from streams.locks import PartitionLocks
from streams.ports import Table

#: Told after an upsert: (user_id, the entry before or None, the entry now, partition).
ChangeHook = Callable[[str, DirectoryEntry | None, DirectoryEntry, int], Awaitable[None]]
#: Told on erasure, in the user's partition: (user_id).
EraseHook = Callable[[str], None]


@dataclass(frozen=True)
class DirectoryPorts:
    """What the directory's flows read and write.

    The hook sequences are the live lists other domains append to when they
    register (in any order, possibly after this domain): they are read at
    each event, never copied.
    """

    directory: Table[DirectoryEntry]
    locks: PartitionLocks
    on_change: Sequence[ChangeHook]
    on_erase: Sequence[EraseHook]
    #: ask for the campaign ledger's folded records to be deleted (returns at once)
    purge_ledger: Callable[[], None]


async def handle_upsert(ports: DirectoryPorts, event: UserUpserted, partition: int) -> None:
    """Keep the user's entry, unless ``event`` is older than it; then run the change hooks."""
    async with ports.locks.hold(partition):
        current = ports.directory.get(event.user_id)
        if is_stale(current, event):
            return
        entry = entry_from_upsert(event, partition)
        ports.directory[event.user_id] = entry
        for hook in ports.on_change:
            await hook(event.user_id, current, entry, partition)


async def handle_erasure(ports: DirectoryPorts, event: UserErased) -> None:
    """Forget the user: the entry, every domain's data of them, the ledger's folded records."""
    if event.user_id in ports.directory:
        del ports.directory[event.user_id]
    for forget in ports.on_erase:
        forget(event.user_id)
    ports.purge_ledger()
