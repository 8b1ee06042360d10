"""The directory: ``users`` materialized into a table keyed by user_id.

The table is partitioned like ``users`` (by user_id), so each worker holds the
users of its own partitions: a campaign must therefore reach every partition
(see the campaigns domain), never iterate this table from one place.

Erasure (``user.erased``, or a null value) deletes the entry (a tombstone on
the changelog), runs every domain's erase hook (suppression list, objection
reasons...) in the user's partition, and has the folded records of the
campaign ledger deleted (``streams.directory.ledger_purge``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from notifications.directory import entry_from_upsert, is_stale
from notifications.events import Event, UserErased, UserUpserted
from streams.directory.ledger_purge import LedgerPurge
from streams.guarded_agents import run_guarded

if TYPE_CHECKING:
    from streams.app import PreavisApp
    from streams.wiring import Wiring

TABLE_NAME = "directory"


def register(app: PreavisApp, wiring: Wiring) -> None:
    """Add the directory table and the agent that keeps it."""
    topics, settings = wiring.topics, wiring.settings
    directory = wiring.tables.directory.raw
    ledger_purge = LedgerPurge(
        settings=settings,
        group_id=settings.app_id,
        delay=float(app.conf.broker_commit_interval) + 1.0,
    )

    async def apply(event: Event | None, raw: Any) -> None:
        partition = raw.message.partition
        if isinstance(event, UserUpserted):
            async with wiring.locks.hold(partition):
                current = directory.get(event.user_id)
                if is_stale(current, event.updated_at):
                    return
                entry = entry_from_upsert(event.model_dump(mode="json"), partition)
                directory[event.user_id] = entry
                for hook in wiring.hooks.on_change:
                    await hook(event.user_id, current, entry, partition)
        elif isinstance(event, UserErased):
            if event.user_id in directory:
                del directory[event.user_id]
            for forget in wiring.hooks.on_erase:
                forget(event.user_id)
            # the user's country and language on the campaign ledger (folded by now)
            ledger_purge.request()

    @app.agent(topics.users, name="directory")
    async def directory_agent(stream: Any) -> None:
        await run_guarded(stream, apply, topics.deadletter)
