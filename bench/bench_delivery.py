"""Benchmark: notices one worker delivers per second, against what the relay alone takes.

Subject: a real ``preavis worker`` (fresh ``PREAVIS_APP_ID``, topics reset)
delivers one campaign to ``--users`` people, all with an address, through
``PREAVIS_SMTP_CONNECTIONS`` (4) connections to Postfix's ``smtp-sink``.
Each notice is rendered, signed, built, sent, and its records (the
``notice.delivery`` event, the campaign ledger's count, the pair's delivery
status in the deliveries table) acknowledged by the broker before the job is. The rate is taken from
the ``at`` of the first and last ``sent`` records, so the fan-out and the
worker's start do not count.

Baseline, in the same run, alternating with the subject: the same number of
messages of the same size sent by the same ``SmtpPool`` with the same number
of connections to the same ``smtp-sink``, with no Kafka at all: what the relay
and the SMTP client alone allow.

    .venv/bin/preavis kafka up
    .venv/bin/python -m bench.bench_delivery            # --users 4000 --runs 3

It deletes and recreates preavis's topics on the local broker, and needs
``smtp-sink`` (Debian package ``postfix``; ``bench/README.md`` says how).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from notifications import topic_names as names
from notifications.mime import build_notice, message_id_for
from notifications.smtp import Outcome, SmtpConfig, SmtpPool
from streams.settings import Settings
from tests import examples
from tests.support.kafka import declare_purpose, produce, read_topic, reset_topics
from tests.support.worker import start_worker

CONNECTIONS = 4
SENDER = "privacy@platform.example"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_sink(port: int) -> Iterator[None]:
    """Postfix's ``smtp-sink``: accepts every message and throws it away."""
    binary = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    process = subprocess.Popen([binary, *user, f"127.0.0.1:{port}", "256"])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield
    finally:
        process.terminate()
        process.wait(10)


def users(count: int, run: str) -> list[tuple[bytes, bytes]]:
    return [
        (
            f"{run}-{i:05d}".encode(),
            json.dumps(
                examples.user_upserted(
                    user_id=f"{run}-{i:05d}",
                    email=f"{run}-{i:05d}@example.org",
                    country="DE",
                    birth_year=1985,
                    locale="de-DE",
                )
            ).encode(),
        )
        for i in range(count)
    ]


async def worker_rate(count: int, sink_port: int, store: str) -> float:
    """Notices per second one worker delivers (first to last ``sent``)."""
    settings = Settings()
    await reset_topics(settings)
    run = f"b{uuid.uuid4().hex[:6]}"
    work = Path(tempfile.mkdtemp(prefix="preavis-bench-"))
    env = {
        "PREAVIS_APP_ID": f"bench-{run}",
        "PREAVIS_STORE": store,
        "PREAVIS_DATA_DIR": str(work / "data"),
        "PREAVIS_LINK_SECRET": f"bench-link-secret-{run}-0123456789",
        "PREAVIS_DEVELOPMENT": "true",
        "PREAVIS_ADMIN_TOKEN": f"bench-admin-{run}",
        "PREAVIS_WEB_PORT": str(free_port()),
        "PREAVIS_SMTP_HOST": "127.0.0.1",
        "PREAVIS_SMTP_PORT": str(sink_port),
        "PREAVIS_SMTP_CONNECTIONS": str(CONNECTIONS),
    }
    worker = start_worker(env, work, "bench-worker")
    try:
        worker.wait_healthy(180)
        await produce(names.TOPIC_USERS, users(count, run))
        await declare_purpose()

        def sent(records: list) -> list[datetime]:  # type: ignore[type-arg]
            return [
                datetime.fromisoformat(r.json["at"]) for r in records if r.json["status"] == "sent"
            ]

        records = await read_topic(
            names.TOPIC_DELIVERY, until=lambda rs: len(sent(rs)) >= count, timeout=600
        )
        times = sorted(sent(records))
        if len(times) < count:
            raise SystemExit(f"only {len(times)} of {count} notices sent; see {worker.log_path}")
        return (len(times) - 1) / (times[-1] - times[0]).total_seconds()
    finally:
        worker.stop()
        shutil.rmtree(work, ignore_errors=True)


async def relay_rate(count: int, sink_port: int) -> float:
    """Messages per second the same pool sends to the same sink, no Kafka."""
    message = build_notice(
        from_header=f"Privacy Team <{SENDER}>",
        to_address="someone@example.org",
        subject="Wir werden Ihre Beiträge zum Training von KI-Modellen verwenden",
        text="x" * 2500,
        html="<p>" + "x" * 5000 + "</p>",
        language="de",
        message_id=message_id_for("purpose:ai-training:v1", "someone", "platform.example"),
        campaign_id="purpose:ai-training:v1",
        date=datetime.now(UTC),
    )
    config = SmtpConfig(host="127.0.0.1", port=sink_port, connections=CONNECTIONS, timeout=10)
    async with SmtpPool(config) as pool:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(count):
            queue.put_nowait(i)

        async def sender() -> None:
            while not queue.empty():
                queue.get_nowait()
                result = await pool.send(SENDER, "someone@example.org", message)
                if result.outcome is not Outcome.SENT:
                    raise SystemExit(f"the sink said {result.reply}")

        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(CONNECTIONS)))
        return count / (time.perf_counter() - started)


async def naive_rate(count: int, sink_port: int) -> float:
    """The naive sender: an ``EmailMessage`` built and sent per notice, one connection."""
    from email.message import EmailMessage

    import aiosmtplib

    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=sink_port, timeout=10)
    await client.connect()
    started = time.perf_counter()
    try:
        for i in range(count):
            message = EmailMessage()
            message["From"] = f"Privacy Team <{SENDER}>"
            message["To"] = f"user-{i}@example.org"
            message["Subject"] = "Wir werden Ihre Beiträge zum Training von KI-Modellen verwenden"
            message.set_content("x" * 2500)
            message.add_alternative("<p>" + "x" * 5000 + "</p>", subtype="html")
            await client.send_message(message)
    finally:
        await client.quit()
    return count / (time.perf_counter() - started)


async def run(count: int, runs: int, store: str) -> None:
    port = free_port()
    subject: list[float] = []
    baseline: list[float] = []
    naive: list[float] = []
    with smtp_sink(port):
        for index in range(runs):
            subject.append(await worker_rate(count, port, store))
            baseline.append(await relay_rate(count, port))
            naive.append(await naive_rate(min(count, 2000), port))
            print(
                f"run {index + 1}: worker {subject[-1]:,.0f} notices/s, "
                f"relay alone {baseline[-1]:,.0f} messages/s, naive sender {naive[-1]:,.0f}/s"
            )
    worker, relay, plain = (statistics.median(v) for v in (subject, baseline, naive))
    print(
        f"{count} notices, {CONNECTIONS} SMTP connections, store {store}: "
        f"worker median {worker:,.0f} notices/s, relay alone median {relay:,.0f} messages/s "
        f"(worker/relay {worker / relay:.2f}, goal >= 0.60), naive sender median "
        f"{plain:,.0f}/s (worker/naive {worker / plain:.2f}, goal >= 3)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=4000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--store", default=os.environ.get("BENCH_STORE", "rocksdb://"))
    args = parser.parse_args()
    os.environ.setdefault("PREAVIS_TOPIC_PARTITIONS", "8")
    asyncio.run(run(args.users, args.runs, args.store))


if __name__ == "__main__":
    main()
