"""Benchmark: latency from ``POST /o/{token}`` to the user's record on ``training.exclusions``.

One real ``preavis worker`` process (fresh ``PREAVIS_APP_ID``, topics reset)
receives objections at a fixed rate, open loop: the POSTs are scheduled at
``--rate`` per second for ``--seconds`` seconds (3,000 at the defaults), each
from a different user with their own signed token, whatever the answers
take. A consumer started *before* the load reads ``training.exclusions`` and
timestamps each user's record when it gets it; the latency of an objection is
that arrival time minus the time its POST was scheduled (so a client or
server that falls behind counts, no coordinated omission). The users are not
in the directory: an objection is recorded all the same (and no confirmation
email is sent, so no SMTP is involved).

Baseline, in the same run and at the same rate: a bare Kafka round trip
(aiokafka produce with acks=all to a scratch topic, consumed by a consumer
started before), the part of the latency that is Kafka alone. The objection
path makes two such trips (the request topic, then ``training.exclusions``)
plus the HTTP request and the agent.

    .venv/bin/preavis kafka up
    .venv/bin/python -m bench.bench_objections            # --rate 200 --seconds 15

It deletes and recreates preavis's topics on the local broker.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import socket
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiokafka import AIOKafkaConsumer, TopicPartition

from notifications import topic_names as names
from notifications.links import TokenClaims, sign_token
from streams import kafka
from streams.admin import ensure_topics
from streams.settings import Settings
from streams.topics import TopicSpec
from tests import examples
from tests.support.kafka import reset_topics, wait_for_partitions
from tests.support.worker import start_worker

BASELINE_TOPIC = "bench.objections-baseline"
PURPOSE = "ai-training"
CAMPAIGN = f"purpose:{PURPOSE}:v1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Arrivals:
    """A consumer that timestamps the first record of each key, started before the load."""

    topic: str
    settings: Settings
    seen: dict[str, float] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None
    _consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        partitions = await wait_for_partitions(self.topic, time.monotonic() + 30)
        tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        self._consumer = kafka.consumer(self.settings, group_id=None, enable_auto_commit=False)
        await self._consumer.start()
        self._consumer.assign(tps)
        await self._consumer.seek_to_end(*tps)
        for tp in tps:  # resolve the positions now, not when the first record comes
            await self._consumer.position(tp)
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            batch = await self._consumer.getmany(timeout_ms=100)
            now = time.perf_counter()
            for records in batch.values():
                for record in records:
                    if record.key is not None:
                        self.seen.setdefault(record.key.decode(), now)

    async def wait_for(self, keys: set[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not keys <= self.seen.keys() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._consumer is not None:
            await self._consumer.stop()


@dataclass
class Load:
    """When each request was scheduled, started and answered."""

    scheduled: dict[str, float] = field(default_factory=dict)
    started: list[float] = field(default_factory=list)
    answered: dict[str, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


async def open_loop(
    keys: list[str], rate: float, send: Callable[[str], Awaitable[None]], load: Load
) -> None:
    """Call ``send(key)`` for each key at ``rate`` per second, not waiting for answers."""

    async def one(key: str) -> None:
        load.started.append(time.perf_counter())
        try:
            await send(key)
        except Exception as exc:  # counted and reported, the load goes on
            load.failures.append(f"{key}: {exc!r}")
        load.answered[key] = time.perf_counter()

    tasks: list[asyncio.Task[None]] = []
    start = time.perf_counter() + 0.05
    for index, key in enumerate(keys):
        at = start + index / rate
        delay = at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        load.scheduled[key] = at
        tasks.append(asyncio.create_task(one(key)))
    await asyncio.gather(*tasks)


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def rank(q: float) -> float:  # nearest rank
        return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.999999) - 1))]

    return {"p50": rank(0.50), "p90": rank(0.90), "p99": rank(0.99), "max": ordered[-1]}


def latencies(load: Load, arrivals: Arrivals) -> tuple[list[float], int]:
    done = [arrivals.seen[k] - at for k, at in load.scheduled.items() if k in arrivals.seen]
    return done, len(load.scheduled) - len(done)


def achieved_rate(times: list[float]) -> float:
    span = max(times) - min(times)
    return (len(times) - 1) / span if span > 0 else float("nan")


def line(name: str, values: list[float]) -> None:
    figures = percentiles(values) if values else {}
    cells = "  ".join(f"{k} {v * 1000:7.1f} ms" for k, v in figures.items())
    print(f"{name:<40} n={len(values):5d}  {cells}")


TIMELINE = False  # --timeline: the worst latency of each second of load


def timeline(load: Load, arrivals: Arrivals) -> None:
    start = min(load.scheduled.values())
    worst: dict[int, float] = {}
    for key, at in load.scheduled.items():
        if key in arrivals.seen:
            second = int(at - start)
            worst[second] = max(worst.get(second, 0.0), arrivals.seen[key] - at)
    print(
        f"{'':<40} worst per second (ms):",
        " ".join(f"{worst[s] * 1000:.0f}" for s in sorted(worst)),
    )


def report(name: str, answer: str, load: Load, arrivals: Arrivals) -> None:
    done, missing = latencies(load, arrivals)
    line(name, done)
    line(answer, [at - load.scheduled[k] for k, at in load.answered.items()])
    print(
        f"{'':<40} requests started at {achieved_rate(load.started):.1f}/s, "
        f"answered at {achieved_rate(list(load.answered.values())):.1f}/s; "
        f"records missing {missing}, requests failed {len(load.failures)}"
    )
    for failure in load.failures[:5]:
        print(f"{'':<40} failure: {failure}")
    if TIMELINE:
        timeline(load, arrivals)


async def kafka_round_trip(settings: Settings, keys: list[str], rate: float) -> Load:
    """Produce one record per key at ``rate``/s (acks=all) and time its consumption."""
    await ensure_topics(settings, [TopicSpec(BASELINE_TOPIC)])
    arrivals = Arrivals(BASELINE_TOPIC, settings)
    await arrivals.start()
    producer = kafka.producer(settings, acks="all")
    await producer.start()
    value = json.dumps(examples.training_exclusion(user_id="u" * 12)).encode()
    load = Load()
    try:

        async def send(key: str) -> None:
            await producer.send_and_wait(BASELINE_TOPIC, value, key=key.encode())

        await open_loop(keys, rate, send, load)
        await arrivals.wait_for(set(keys), 30)
    finally:
        await producer.stop()
        await arrivals.stop()
    report("baseline: Kafka produce -> consume", "  (produce acknowledged)", load, arrivals)
    return load


async def objections(
    settings: Settings, url: str, secret: bytes, keys: list[str], rate: float, warmup: float
) -> None:
    tokens = {key: sign_token(secret, TokenClaims(key, (PURPOSE,), CAMPAIGN, "en")) for key in keys}
    arrivals = Arrivals(names.TOPIC_EXCLUSIONS, settings)
    await arrivals.start()
    connector = aiohttp.TCPConnector(limit=1000)
    try:
        async with aiohttp.ClientSession(connector=connector) as http:

            async def post(key: str) -> None:
                async with http.post(f"{url}/o/{tokens[key]}", data={"reason": ""}) as answer:
                    await answer.read()
                    if answer.status != 200:
                        raise RuntimeError(f"HTTP {answer.status}")

            # Warm-up: other users, at the same rate, reported apart.
            warm = [f"warm-{i:05d}" for i in range(int(rate * warmup))]
            tokens.update(
                {k: sign_token(secret, TokenClaims(k, (PURPOSE,), CAMPAIGN, "en")) for k in warm}
            )
            warm_load = Load()
            await open_loop(warm, rate, post, warm_load)
            await arrivals.wait_for(set(warm), 60)
            if warm:
                report(
                    f"warm-up, {warmup:g} s (not counted)", "  (HTTP answer)", warm_load, arrivals
                )

            load = Load()
            await open_loop(keys, rate, post, load)
            await arrivals.wait_for(set(keys), 60)
    finally:
        await arrivals.stop()
    report("POST /o/{token} -> training.exclusions", "  (HTTP answer)", load, arrivals)


async def publish_purpose(settings: Settings) -> None:
    now = datetime.now(UTC)
    purpose = examples.purpose_declared(
        published_at=now.isoformat(), starts_at=(now + timedelta(days=45)).isoformat()
    )
    producer = kafka.producer(settings)
    await producer.start()
    try:
        await producer.send_and_wait(
            names.TOPIC_PURPOSES, json.dumps(purpose).encode(), key=PURPOSE.encode()
        )
    finally:
        await producer.stop()


async def run(rate: float, seconds: float, store: str, warmup: float) -> None:
    settings = Settings()
    await reset_topics(settings, extra=[BASELINE_TOPIC])
    await publish_purpose(settings)  # so that the pages name it; it has no audience
    count = int(rate * seconds)
    work = Path(tempfile.mkdtemp(prefix="preavis-bench-"))
    secret = secrets.token_urlsafe(32)
    env = {
        "PREAVIS_APP_ID": f"bench-{uuid.uuid4().hex[:8]}",
        "PREAVIS_STORE": store,
        "PREAVIS_DATA_DIR": str(work / "data"),
        "PREAVIS_LINK_SECRET": secret,
        "PREAVIS_DEVELOPMENT": "true",
        "PREAVIS_ADMIN_TOKEN": secrets.token_urlsafe(16),
        "PREAVIS_WEB_PORT": str(free_port()),
    }
    worker = start_worker(env, work, "bench-worker")
    try:
        worker.wait_healthy(180)
        await asyncio.sleep(3)  # let the catalog read the purpose
        print(
            f"{count} objections at {rate:g}/s for {seconds:g} s, open loop; "
            f"1 worker, store {store}, {settings.topic_partitions} partitions"
        )
        await kafka_round_trip(settings, [f"k-{i:05d}" for i in range(count)], rate)
        await objections(
            settings,
            worker.url,
            secret.encode(),
            [f"bench-u{i:05d}" for i in range(count)],
            rate,
            warmup,
        )
    finally:
        worker.stop()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rate", type=float, default=200.0, help="objections per second")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--store", default=os.environ.get("BENCH_STORE", "rocksdb://"))
    parser.add_argument(
        "--warmup", type=float, default=3.0, help="seconds of objections at --rate before"
    )
    parser.add_argument("--timeline", action="store_true", help="worst latency of each second")
    args = parser.parse_args()
    global TIMELINE
    TIMELINE = args.timeline
    os.environ.setdefault("PREAVIS_TOPIC_PARTITIONS", "8")
    asyncio.run(run(args.rate, args.seconds, args.store, args.warmup))


if __name__ == "__main__":
    main()
