"""Watching documents: the agent that hands each ``document.version`` to the watch.

What a version does (compare, publish the change, alert and draft on an
AI-training clause) is in :mod:`streams.watch.handlers`; this module builds
its ports from the wiring and runs the agent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from notifications.events import DocumentVersion
from streams.guarded_agents import run_guarded
from streams.runtime.faust_ports import FaustTopic
from streams.watch.drafts import DraftFolder
from streams.watch.handlers import WatchPorts, handle_version

if TYPE_CHECKING:
    from streams.app import PreavisApp
    from streams.wiring import Wiring


def register(app: PreavisApp, wiring: Wiring) -> None:
    """Add the agent that compares document versions."""
    topics, settings = wiring.topics, wiring.settings
    ports = WatchPorts(
        documents=wiring.tables.documents,
        document_changes=FaustTopic(topics.document_changes),
        alerts=FaustTopic(topics.alerts),
        drafts=DraftFolder(Path(settings.drafts_dir)),
        clock=lambda: datetime.now(UTC),
    )

    async def on_version(version: DocumentVersion, raw: Any) -> None:
        await handle_version(ports, version)

    @app.agent(topics.documents, name="document_watch")
    async def document_watch(stream: Any) -> None:
        await run_guarded(stream, on_version, topics.deadletter)
