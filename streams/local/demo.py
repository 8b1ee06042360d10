"""``preavis demo``: the whole loop on this machine, from nothing.

1. starts the local Kafka broker if needed and empties preavis's topics on it
   (the demo owns the local broker: it is not for a shared cluster);
2. starts a mail catcher (aiosmtpd) on PREAVIS_SMTP_PORT that writes every
   email it receives as an ``.eml`` file into ``var/demo-mail/``;
3. starts a worker process, with a link secret and an admin token made for
   this run (the only place a worker starts without PREAVIS_LINK_SECRET);
4. imports a few thousand sample users across EU countries and languages and
   publishes an AI-training purpose that starts in 45 days;
5. waits until every notice has a final outcome and prints a report;
6. keeps the worker and the catcher running (objection links work) until
   Ctrl-C, unless ``--exit``.

``kill PID`` (SIGTERM) or a closed terminal (SIGHUP) stops the demo as Ctrl-C
does: the worker and the mail catcher stop with it, so that no orphan worker
goes on to join whichever broker answers next on the same port.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition

from notifications import topic_names as names
from notifications.internal_events import TOPIC_LEDGER
from streams import kafka
from streams.admin import ensure_topics
from streams.local import broker as localbroker
from streams.local.mail_capture import start_capture
from streams.publish import import_users
from streams.settings import Settings
from streams.topics import TOPIC_SPECS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MAIL_DIR = Path("var/demo-mail")
NOTICE_DAYS = 45
DEMO_USERS = 3000

COUNTRIES = {
    "FR": ["fr"], "BE": ["fr-BE", "nl"], "DE": ["de"], "AT": ["de"], "ES": ["es"],
    "IT": ["it"], "NL": ["nl"], "PL": ["pl"], "IE": ["en"], "PT": ["en"], "SE": ["en"],
}  # fmt: skip


def demo_users(count: int, seed: int = 2026) -> list[dict[str, Any]]:
    """Sample users: mostly active EU adults, with the cases a DPO asks about."""
    rng = random.Random(seed)
    users = []
    for index in range(count):
        country = rng.choice(sorted(COUNTRIES))
        user: dict[str, Any] = {
            "type": "user.upserted",
            "schema_version": 1,
            "user_id": f"demo-{index:05d}",
            "locale": rng.choice(COUNTRIES[country]),
            "country": country,
            "birth_year": rng.randint(1945, 2013),
            "status": "active" if rng.random() > 0.05 else "suspended",
            "updated_at": "2026-11-01T00:00:00Z",
        }
        if rng.random() > 0.02:
            user["email"] = f"user{index}@demo.example"
        users.append(user)
    return users


def demo_env(settings: Settings) -> dict[str, str]:
    """The worker's environment: the caller's, plus secrets made for this run."""
    env = {
        "PREAVIS_APP_ID": f"preavis-demo-{secrets.token_hex(4)}",
        "PREAVIS_STORE": "memory://",
        "PREAVIS_LINK_SECRET": os.environ.get("PREAVIS_LINK_SECRET") or secrets.token_urlsafe(32),
        "PREAVIS_ADMIN_TOKEN": os.environ.get("PREAVIS_ADMIN_TOKEN") or secrets.token_urlsafe(24),
        # a local run: http://127.0.0.1 links and privacy@localhost, with a warning
        "PREAVIS_DEVELOPMENT": "true",
    }
    return {**os.environ, **env}


async def empty_topics(settings: Settings) -> None:
    """Delete preavis's topics on the local broker and create them again, empty."""
    admin = kafka.admin(settings)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        doomed = [s.name for s in TOPIC_SPECS if s.name in existing]
        if doomed:
            await admin.delete_topics(doomed)
        for _ in range(150):
            if not set(doomed) & set(await admin.list_topics()):
                break
            await asyncio.sleep(0.2)
    finally:
        await admin.close()
    for _ in range(50):
        try:
            await ensure_topics(settings)
            return
        except Exception:  # still being deleted
            await asyncio.sleep(0.3)
    await ensure_topics(settings)


async def publish_sample(settings: Settings, work: Path) -> str:
    """Import the users and publish the purpose; return the campaign id."""
    users_file = work / "demo-users.jsonl"
    users_file.write_text("\n".join(json.dumps(u) for u in demo_users(DEMO_USERS)) + "\n")
    print((await import_users(settings, users_file)).summary())
    now = datetime.now(UTC)
    purpose = json.loads((EXAMPLES / "purpose-ai-training.json").read_text())
    purpose["published_at"] = now.isoformat()
    purpose["starts_at"] = (now + timedelta(days=NOTICE_DAYS)).isoformat()
    producer = kafka.producer(settings, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            names.TOPIC_PURPOSES, json.dumps(purpose).encode(), key=purpose["purpose_id"].encode()
        )
    finally:
        await producer.stop()
    print(
        f"published purpose {purpose['purpose_id']} v{purpose['version']}, "
        f"processing starts {purpose['starts_at'][:10]}"
    )
    return f"purpose:{purpose['purpose_id']}:v{purpose['version']}"


class Outcomes:
    """Follows the ledger and the deliveries until every notice has a final outcome."""

    def __init__(self, partitions: int) -> None:
        self.partitions = partitions
        self.partitions_done: set[int] = set()
        self.notified = 0
        self.excluded: Counter[str] = Counter()
        self.finals: dict[str, tuple[str, str | None]] = {}
        self.fanout_suppressed: Counter[str] = Counter()

    def take(self, topic: str, value: dict[str, Any]) -> None:
        if topic == TOPIC_LEDGER and value["type"] == "campaign.partition_done":
            if value["partition"] not in self.partitions_done:
                self.partitions_done.add(value["partition"])
                self.notified += value["notified"]
                self.excluded.update(value.get("excluded") or {})
                self.fanout_suppressed.update(value.get("suppressed") or {})
        elif topic == names.TOPIC_DELIVERY and value["status"] != "deferred":
            self.finals.setdefault(value["user_id"], (value["status"], value.get("reason")))

    @property
    def complete(self) -> bool:
        expected = self.notified + sum(self.fanout_suppressed.values())
        return len(self.partitions_done) == self.partitions and len(self.finals) >= expected


async def follow(settings: Settings, timeout: float) -> Outcomes:
    """Read the ledger and notices.delivery from the start until the campaign is done."""
    outcomes = Outcomes(settings.topic_partitions)
    consumer = kafka.consumer(settings)
    await consumer.start()
    try:
        tps = [
            TopicPartition(topic, p)
            for topic in (TOPIC_LEDGER, names.TOPIC_DELIVERY)
            for p in range(settings.topic_partitions)
        ]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not outcomes.complete:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    if record.value is not None:
                        outcomes.take(record.topic, json.loads(record.value))
        return outcomes
    finally:
        await consumer.stop()


def report(outcomes: Outcomes, campaign_id: str, settings: Settings, elapsed: float) -> str:
    statuses = Counter(status for status, _ in outcomes.finals.values())
    reasons = Counter(
        reason for status, reason in outcomes.finals.values() if status == "suppressed"
    )
    audience = outcomes.notified + sum(outcomes.fanout_suppressed.values())
    lines = [
        "",
        f"campaign {campaign_id}: {'completed' if outcomes.complete else 'NOT complete'} "
        f"in {elapsed:.1f} s",
        f"  audience          {audience}",
        f"  sent              {statuses.get('sent', 0)}",
        f"  failed / bounced  {statuses.get('failed', 0)} / {statuses.get('bounced', 0)}",
        "  suppressed        "
        + (", ".join(f"{r}: {n}" for r, n in sorted(reasons.items())) or "none"),
        "  not notified, excluded from training: "
        + (", ".join(f"{r}: {n}" for r, n in sorted(outcomes.excluded.items())) or "none"),
        f"  emails            {MAIL_DIR.resolve()}/*.eml",
        f"  dashboard         {settings.public_url}/dashboard",
    ]
    return "\n".join(lines)


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM and SIGHUP as Ctrl-C: ``run_demo``'s cleanup stops the children."""
    raise KeyboardInterrupt(signal.Signals(signum).name)


def run_demo(settings: Settings, *, exit_when_done: bool = False, timeout: float = 600) -> int:
    """Run the whole loop; return 0 when every notice reached a final outcome."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    # the report is what a person reads: not aiokafka's INFO lines (its
    # warnings and errors still show)
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    print(localbroker.up(echo=print))
    asyncio.run(empty_topics(settings))
    shutil.rmtree(MAIL_DIR, ignore_errors=True)
    controller, _ = start_capture(MAIL_DIR, settings.smtp_host, settings.smtp_port)
    worker: subprocess.Popen[bytes] | None = None
    try:
        print(f"mail catcher on {settings.smtp_host}:{settings.smtp_port}, writing to {MAIL_DIR}/")
        env = demo_env(settings)
        log_path = Path("var/demo-worker.log")
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("wb") as log:
            worker = subprocess.Popen(
                [sys.executable, "-m", "streams.cli", "worker"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        print(f"worker pid {worker.pid}, log {log_path}", flush=True)
        started = time.monotonic()
        campaign_id = asyncio.run(publish_sample(settings, log_path.parent))
        outcomes = asyncio.run(follow(settings, timeout))
        print(report(outcomes, campaign_id, settings, time.monotonic() - started))
        print(f"  admin token       {env['PREAVIS_ADMIN_TOKEN']}")
        if not outcomes.complete:
            print(f"the campaign did not complete in {timeout:.0f} s: see {log_path}")
            return 1
        if not exit_when_done:
            print("\nworker and mail catcher keep running; Ctrl-C to stop.", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                while worker.poll() is None:
                    time.sleep(1)
        return 0
    except KeyboardInterrupt as stop:
        print(f"\ndemo stopped ({stop or 'Ctrl-C'}): stopping the worker and the mail catcher")
        return 130
    finally:
        # a second Ctrl-C or kill must not cut this short and leave an orphan
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        controller.stop()
