"""Benchmark: ``preavis import-users`` of N users against a raw-produce baseline.

The baseline sends the same lines to the same topic with the same batching
but without validation or re-encoding, so the ratio is the price of checking
every record against the contract. Both run alternately in one process, on
the same machine, several times; medians are reported, as these machines are
shared and noisy.

    .venv/bin/preavis kafka up
    .venv/bin/python -m bench.bench_import --users 1000000 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bench.gen_users import main as generate
from streams import kafka
from streams.admin import ensure_topics
from streams.publish import _PartitionBatcher, import_users
from streams.settings import Settings
from streams.topics import TopicSpec

BENCH_TOPIC = "bench.users-baseline"
IMPORT_TOPIC = "bench.users-import"


async def baseline(settings: Settings, path: Path) -> int:
    """Produce every line as is, keyed by its position, batched like the tool."""
    producer = kafka.producer(
        settings,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=512 * 1024,
    )
    await producer.start()
    try:
        sender = _PartitionBatcher(producer, BENCH_TOPIC, settings.topic_partitions)
        with path.open("rb") as lines:
            for number, line in enumerate(lines):
                await sender.add(str(number).encode(), line.rstrip(b"\n"))
        return await sender.flush()
    finally:
        await producer.stop()


async def run(users: int, runs: int) -> None:
    settings = Settings()
    await ensure_topics(settings, [TopicSpec(BENCH_TOPIC), TopicSpec(IMPORT_TOPIC)])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "users.jsonl"
        generate([str(users), str(path)])
        await baseline(settings, path)  # creates the topics, warms the broker
        await import_users(settings, path, topic=IMPORT_TOPIC)
        tool_times: list[float] = []
        base_times: list[float] = []
        for _ in range(runs):
            start = time.perf_counter()
            report = await import_users(settings, path, topic=IMPORT_TOPIC)
            tool_times.append(time.perf_counter() - start)
            assert report.published == users and report.invalid == 0, report.summary()
            start = time.perf_counter()
            await baseline(settings, path)
            base_times.append(time.perf_counter() - start)
    tool, base = statistics.median(tool_times), statistics.median(base_times)
    print(f"users: {users}, runs: {runs}")
    print(f"import-users : median {tool:6.2f} s  ({users / tool:,.0f} users/s)  runs {tool_times}")
    print(f"raw baseline : median {base:6.2f} s  ({users / base:,.0f} records/s)")
    print(f"ratio import/baseline: {tool / base:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.users, args.runs))


if __name__ == "__main__":
    main()
