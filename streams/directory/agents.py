"""The directory: ``users`` materialized into a table keyed by user_id.

The table is partitioned like ``users`` (by user_id), so each worker holds the
users of its own partitions: a campaign must therefore reach every partition
(see the campaigns domain), never iterate this table from one place.

What an upsert or an erasure does is in :mod:`streams.directory.handlers`;
this module only builds their ports from the wiring and runs the agent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from notifications.events import Event, UserErased, UserUpserted
from streams.directory.handlers import DirectoryPorts, handle_erasure, handle_upsert
from streams.directory.ledger_purge import LedgerPurge
from streams.guarded_agents import run_guarded

if TYPE_CHECKING:
    from streams.app import PreavisApp
    from streams.wiring import Wiring


def register(app: PreavisApp, wiring: Wiring) -> None:
    """Add the agent that keeps the directory table."""
    topics, settings = wiring.topics, wiring.settings
    ledger_purge = LedgerPurge(
        settings=settings,
        group_id=settings.app_id,
        delay=float(app.conf.broker_commit_interval) + 1.0,
    )
    ports = DirectoryPorts(
        directory=wiring.tables.directory,
        locks=wiring.locks,
        on_change=wiring.hooks.on_change,
        on_erase=wiring.hooks.on_erase,
        purge_ledger=ledger_purge.request,
    )

    async def apply(event: Event | None, raw: Any) -> None:
        if isinstance(event, UserUpserted):
            await handle_upsert(ports, event, raw.message.partition)
        elif isinstance(event, UserErased):
            await handle_erasure(ports, event)

    @app.agent(topics.users, name="directory")
    async def directory_agent(stream: Any) -> None:
        await run_guarded(stream, apply, topics.deadletter)
