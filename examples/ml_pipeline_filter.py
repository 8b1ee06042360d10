"""Drop from a training dataset every record of a user excluded from a purpose.

How an ML data pipeline honours objections: just before training, read the
compacted ``training.exclusions`` topic from the beginning, keep the last
record per user (a null value, a tombstone, means "no longer excluded"), and
drop the excluded users' records from the dataset.

    python examples/ml_pipeline_filter.py --bootstrap 127.0.0.1:9092 \\
        --purpose ai-training dataset.jsonl > kept.jsonl

The dataset is JSON lines (a file, or stdin without one), each record with a
``user_id`` field. Kept lines go to stdout unchanged; the count of dropped
ones goes to stderr. Plain aiokafka, nothing from preavis: copy it.

The topic is read without a consumer group (no committed offsets: every run
reads the whole list) and up to the end offsets taken when reading starts,
so the script stops instead of waiting for more. Each ``training.exclusion``
record carries the user's whole list (``purposes``), so the last record of a
user decides alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterable
from typing import IO

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

TOPIC = "training.exclusions"


async def partitions_of(bootstrap: str, topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    if described.get("error_code", 0) != 0:
        raise SystemExit(f"topic {topic!r} not found on {bootstrap}")
    return sorted(p["partition"] for p in described["partitions"])


async def excluded_users(bootstrap: str, purpose: str, topic: str = TOPIC) -> set[str]:
    """The users whose last record on ``topic`` excludes them from ``purpose``."""
    tps = [TopicPartition(topic, p) for p in await partitions_of(bootstrap, topic)]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,  # no group: nothing committed, every run reads it all
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        consumer.assign(tps)  # every partition, by hand
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)  # read up to here, then stop

        last: dict[str, bytes | None] = {}  # user_id -> last value (None: tombstone)
        pending = {tp for tp in tps if ends[tp] > 0}
        while pending:
            batch = await consumer.getmany(*pending, timeout_ms=1000)
            for records in batch.values():
                for record in records:
                    if record.key is not None:
                        last[record.key.decode()] = record.value
            # Compare positions, not offsets seen: compaction leaves gaps.
            pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
    finally:
        await consumer.stop()
    return {
        user_id
        for user_id, value in last.items()
        if value is not None and purpose in json.loads(value).get("purposes", [])
    }


def filter_dataset(lines: Iterable[str], excluded: set[str], out: IO[str]) -> tuple[int, int]:
    """Write the lines of users not in ``excluded`` to ``out``; (kept, dropped)."""
    kept = dropped = 0
    for line in lines:
        if not line.strip():
            continue
        if str(json.loads(line).get("user_id")) in excluded:
            dropped += 1
        else:
            out.write(line if line.endswith("\n") else line + "\n")
            kept += 1
    return kept, dropped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Drop the records of users excluded from a purpose from a JSON lines dataset."
    )
    parser.add_argument("--bootstrap", default="127.0.0.1:9092", help="Kafka bootstrap servers")
    parser.add_argument("--purpose", required=True, help="purpose_id, e.g. ai-training")
    parser.add_argument("--topic", default=TOPIC, help=f"exclusion topic ({TOPIC})")
    parser.add_argument("dataset", nargs="?", default="-", help="JSON lines file (- = stdin)")
    args = parser.parse_args(argv)

    excluded = asyncio.run(excluded_users(args.bootstrap, args.purpose, args.topic))
    if args.dataset == "-":
        kept, dropped = filter_dataset(sys.stdin, excluded, sys.stdout)
    else:
        with open(args.dataset, encoding="utf-8") as dataset:
            kept, dropped = filter_dataset(dataset, excluded, sys.stdout)
    print(
        f"dropped {dropped} record(s) of users excluded from {args.purpose!r} "
        f"({len(excluded)} excluded user(s)); kept {kept}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
