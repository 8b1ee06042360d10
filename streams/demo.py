"""``preavis demo``: the whole loop on this machine, from nothing.

Starts the local broker if needed, creates the topics, imports the sample
users, publishes the sample AI-training purpose with its dates moved so that
processing starts 45 days from now, and runs a worker in the foreground with
a link secret made for this run (the only place a worker may start without
``PREAVIS_LINK_SECRET``).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from streams import localbroker
from streams.admin import ensure_topics
from streams.publish import import_users, publish_document
from streams.settings import Settings

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NOTICE_DAYS = 45


def demo_settings(settings: Settings) -> Settings:
    """The demo's settings: the caller's, with a fresh link secret and a memory store."""
    overrides: dict[str, object] = {"store": "memory://", "app_id": "preavis-demo"}
    if settings.link_secret is None:
        overrides["link_secret"] = secrets.token_urlsafe(32)
    if settings.admin_token is None:
        overrides["admin_token"] = secrets.token_urlsafe(24)
    return settings.model_copy(update=overrides)


def purpose_starting_in(days: int, now: datetime) -> dict[str, object]:
    """The sample purpose, published now, with processing starting in ``days`` days."""
    purpose: dict[str, object] = json.loads((EXAMPLES / "purpose-ai-training.json").read_text())
    purpose["published_at"] = now.isoformat()
    purpose["starts_at"] = (now + timedelta(days=days)).isoformat()
    return purpose


async def seed(settings: Settings) -> list[str]:
    """Topics, users and the purpose; returns what it did, a line each."""
    await ensure_topics(settings)
    said = [(await import_users(settings, EXAMPLES / "users-sample.jsonl")).summary()]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "purpose.json"
        path.write_text(json.dumps(purpose_starting_in(NOTICE_DAYS, datetime.now(UTC))))
        said.append((await publish_document(settings, "purpose", path)).summary())
    return said


def run_demo(settings: Settings) -> int:
    """Seed the broker, then hand over to a worker until Ctrl-C."""
    import faust

    from streams.app import create_app

    print(localbroker.up(echo=print))
    settings = demo_settings(settings)
    for line in asyncio.run(seed(settings)):
        print(line)
    print(f"worker: {settings.public_url}/healthz  (Ctrl-C to stop)")
    faust.Worker(create_app(settings), loglevel="warning").execute_from_commandline()
    return 0
