"""Any platform can write our topics: kcat (librdkafka, a client nobody here
wrote) produces to ``users``, and a real ``preavis worker`` consumes it.

Proof that the worker understood the valid records is the directory table's
changelog on Kafka; proof that it refused the broken one, with a reason that
names the field, is ``preavis.deadletter``.
"""

from __future__ import annotations

import json
import subprocess

from notifications import topic_names as names
from streams.publish import partition_for
from tests import examples
from tests.support.kafka import BOOTSTRAP, read_topic
from tests.support.worker import WorkerProcess


def kcat_produce(topic: str, lines: list[str]) -> None:
    """Produce ``key|value`` lines with kcat; ``-Z`` turns an empty value into null."""
    subprocess.run(
        [
            "kcat",
            "-P",
            "-b",
            BOOTSTRAP,
            "-t",
            topic,
            "-K",
            "|",
            "-Z",
            "-X",
            "partitioner=murmur2_random",
        ],
        input="\n".join(lines).encode() + b"\n",
        check=True,
        timeout=30,
    )


async def test_worker_consumes_users_written_by_kcat(worker: WorkerProcess) -> None:
    app_id = worker.env["PREAVIS_APP_ID"]
    alice = examples.user_upserted(user_id="kcat-alice", email="alice@example.test", country="FR")
    bruno = examples.user_upserted(user_id="kcat-bruno", email="bruno@example.test", country="BE")
    broken = examples.user_upserted(user_id="kcat-broken", country="Atlantis")
    kcat_produce(
        names.TOPIC_USERS,
        [
            "kcat-alice|" + json.dumps(alice),
            "kcat-garbage|{not json",
            "kcat-broken|" + json.dumps(broken),
            "kcat-bruno|" + json.dumps(bruno),
            "kcat-bruno|",  # a null tombstone: bruno is erased
        ],
    )

    changelog = f"{app_id}-directory-changelog"
    entries = await read_topic(
        changelog,
        until=lambda rs: {r.key for r in rs} >= {b'"kcat-alice"', b'"kcat-bruno"'} and len(rs) >= 3,
        timeout=60,
    )
    latest = {r.key: r for r in entries}
    alice_entry = latest[b'"kcat-alice"'].json
    assert alice_entry["email"] == "alice@example.test"
    assert alice_entry["country"] == "FR"
    # the tombstone erased bruno: the table's last word on him is a deletion
    assert latest[b'"kcat-bruno"'].value is None

    dead = await read_topic(names.TOPIC_DEADLETTER, until=lambda rs: len(rs) >= 2, timeout=30)
    by_key = {r.key: r.json for r in dead}
    assert set(by_key) == {b"kcat-garbage", b"kcat-broken"}
    assert by_key[b"kcat-garbage"]["error"].startswith("invalid event: <root>: ")
    assert "country" in by_key[b"kcat-broken"]["error"]
    # `users` holds personal data: the dead letter copies none of it, it points
    # at the record, which is still on `users`
    garbage = by_key[b"kcat-garbage"]
    assert garbage.get("value_b64") is None and garbage["value_redacted"] is True
    assert by_key[b"kcat-broken"]["topic"] == names.TOPIC_USERS
    source = await read_topic(names.TOPIC_USERS, until=lambda rs: len(rs) >= 5, timeout=30)
    [pointed] = [
        r for r in source if (r.partition, r.offset) == (garbage["partition"], garbage["offset"])
    ]
    assert pointed.value == b"{not json"


async def test_librdkafka_murmur2_partitions_like_our_tools(worker: WorkerProcess) -> None:
    """Co-partitioning needs every producer to put a key where ours do. librdkafka's
    default (consistent_random, CRC32) does not; its murmur2_random does, which is
    what the README tells platforms using librdkafka to configure."""
    keys = [f"part-{i}" for i in range(40)]
    kcat_produce(
        names.TOPIC_USERS, [f"{k}|" + json.dumps(examples.user_upserted(user_id=k)) for k in keys]
    )
    records = await read_topic(names.TOPIC_USERS, until=lambda rs: len(rs) >= 40, timeout=30)

    partitions = int(worker.env["PREAVIS_TOPIC_PARTITIONS"])
    placed = {r.key: r.partition for r in records}
    assert placed == {k.encode(): partition_for(k.encode(), partitions) for k in keys}
    assert len(set(placed.values())) == partitions  # the keys really spread
