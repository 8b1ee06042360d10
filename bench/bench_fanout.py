"""Benchmark: fan-out of one campaign over N users with the ``rocksdb://`` store.

One real ``preavis worker`` process (rocksdb store, 8 partitions) ingests N
users into its directory; then one AI-training purpose is published and the
clock runs from the publication until every partition has reported its
fan-out on the campaign ledger. Reported: users/s, the worker's peak RSS
(VmHWM), and the directory ingest rate. Baseline, in the same run: producing
N job-sized records with aiokafka's batch API (the Kafka floor of writing one
record per user).

    .venv/bin/preavis kafka up
    .venv/bin/python -m bench.bench_fanout --users 1000000

It deletes and recreates preavis's topics on the local broker.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import TopicPartition

from bench.gen_users import main as generate
from notifications import topic_names as names
from notifications.internal_events import TOPIC_LEDGER
from streams import kafka
from streams.admin import ensure_topics
from streams.publish import _PartitionBatcher, import_users
from streams.settings import Settings
from streams.topics import TopicSpec
from tests.support.kafka import read_topic, reset_topics, wait_for_partitions
from tests.support.worker import start_worker

BASELINE_TOPIC = "bench.fanout-baseline"


async def group_lag(group: str, topic: str) -> int:
    """How many records of ``topic`` the consumer group has not committed yet."""
    admin = kafka.admin(Settings())
    consumer = kafka.consumer(Settings())
    await admin.start()
    await consumer.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
        partitions = await wait_for_partitions(topic, time.monotonic() + 30)
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        ends = await consumer.end_offsets(tps)
        return sum(
            end - (committed[tp].offset if tp in committed else 0) for tp, end in ends.items()
        )
    finally:
        await consumer.stop()
        await admin.close()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def baseline(settings: Settings, users: int) -> float:
    await ensure_topics(settings, [TopicSpec(BASELINE_TOPIC)])
    producer = kafka.producer(
        settings,
        acks="all",
        linger_ms=5,
        max_batch_size=512 * 1024,
    )
    await producer.start()
    value = json.dumps(
        {
            "type": "notice.job",
            "campaign_id": "purpose:ai-training:v1",
            "user_id": "u00000000",
            "issued_at": datetime.now(UTC).isoformat(),
        }
    ).encode()
    try:
        start = time.perf_counter()
        sender = _PartitionBatcher(producer, BASELINE_TOPIC, settings.topic_partitions)
        for index in range(users):
            await sender.add(f"u{index:08d}".encode(), value)
        await sender.flush()
        return time.perf_counter() - start
    finally:
        await producer.stop()


async def run(users: int) -> None:
    settings = Settings()
    await reset_topics(settings)
    work = Path(tempfile.mkdtemp(prefix="preavis-bench-"))
    try:
        path = work / "users.jsonl"
        generate([str(users), str(path)])
        report = await import_users(settings, path)
        assert report.published == users, report.summary()

        app_id = f"bench-{uuid.uuid4().hex[:8]}"
        env = {
            "PREAVIS_APP_ID": app_id,
            "PREAVIS_STORE": os.environ.get("BENCH_STORE", "rocksdb://"),
            "PREAVIS_DATA_DIR": str(work / "data"),
            "PREAVIS_LINK_SECRET": "bench-link-secret-0123456789",
            "PREAVIS_DEVELOPMENT": "true",
            "PREAVIS_WEB_PORT": "6077",
        }
        worker = start_worker(env, work, "bench-worker")
        try:
            worker.wait_healthy(180)
            if os.environ.get("BENCH_PROFILE"):
                import subprocess

                subprocess.Popen(
                    [
                        ".venv/bin/py-spy",
                        "record",
                        "-d",
                        "20",
                        "-f",
                        "raw",
                        "-o",
                        "/tmp/ingest.txt",
                        "-p",
                        str(worker.process.pid),
                    ]
                )
            ingest_start = time.perf_counter()
            cpu_start = _cpu_seconds(worker.process.pid)
            while await group_lag(app_id, names.TOPIC_USERS) > 0:
                await asyncio.sleep(1)
            ingest = time.perf_counter() - ingest_start
            ingest_cpu = _cpu_seconds(worker.process.pid) - cpu_start
            print(f"ingest: worker CPU {ingest_cpu:.1f} s over {ingest:.1f} s")

            now = datetime.now(UTC)
            purpose = json.loads(Path("examples/purpose-ai-training.json").read_text())
            purpose["published_at"] = now.isoformat()
            purpose["starts_at"] = (now + timedelta(days=45)).isoformat()
            producer = kafka.producer(settings)
            await producer.start()
            start = time.perf_counter()
            await producer.send_and_wait(
                names.TOPIC_PURPOSES, json.dumps(purpose).encode(), key=b"ai-training"
            )
            await producer.stop()
            ledger = await read_topic(
                TOPIC_LEDGER,
                until=lambda rs: (
                    sum(r.json["type"] == "campaign.partition_done" for r in rs)
                    >= settings.topic_partitions
                ),
                timeout=1800,
            )
            fanout = time.perf_counter() - start
            notified = sum(
                r.json.get("notified", 0)
                for r in ledger
                if r.json["type"] == "campaign.partition_done"
            )
            rss = peak_rss_mib(worker.process.pid)
        finally:
            worker.stop()
        base = await baseline(settings, users)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"users: {users} ({notified} notified), store rocksdb://, 8 partitions, 1 worker")
    print(f"directory ingest (after startup): {ingest:7.2f} s  ({users / ingest:,.0f} users/s)")
    print(
        f"fan-out, publish -> all partitions done: {fanout:7.2f} s  ({users / fanout:,.0f} users/s)"
    )
    print(
        f"baseline, raw batch produce of {users} jobs: {base:7.2f} s  ({users / base:,.0f} rec/s)"
    )
    print(f"ratio fan-out/baseline: {fanout / base:.1f}")
    print(f"worker peak RSS (VmHWM): {rss:,.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=1_000_000)
    args = parser.parse_args()
    os.environ.setdefault("PREAVIS_TOPIC_PARTITIONS", "8")
    asyncio.run(run(args.users))


if __name__ == "__main__":
    main()
