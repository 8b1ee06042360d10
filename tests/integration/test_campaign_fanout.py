"""Campaigns on the real broker with two worker processes and 8 partitions.

5,000 users of mixed countries, ages, statuses, accounts and categories; one
AI-training purpose. Asserted on what reached Kafka: the notice jobs, the
suppressed deliveries, the exclusions, the dead letters.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from notifications import topic_names as names
from notifications.internal_events import TOPIC_JOBS, TOPIC_LEDGER
from tests import examples
from tests.support.kafka import Record, produce, read_topic
from tests.support.population import AUDIENCE, expected_outcome, make_users
from tests.support.worker import WorkerProcess, start_worker

USERS = 5000


@pytest.fixture
def two_workers(
    clean_topics: None, worker_env: dict[str, str], tmp_path: Path
) -> Iterator[list[WorkerProcess]]:
    from tests.support.smtp_server import free_port

    first = start_worker(worker_env, tmp_path, "worker-1")
    second = start_worker(
        {**worker_env, "PREAVIS_WEB_PORT": str(free_port())}, tmp_path, "worker-2"
    )
    try:
        first.wait_healthy()
        second.wait_healthy()
        yield [first, second]
    finally:
        first.stop()
        second.stop()


def purpose(purpose_id: str = "ai-training", **overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    fields: dict[str, Any] = {
        "purpose_id": purpose_id,
        "audience": AUDIENCE,
        "published_at": now.isoformat(),
        "starts_at": (now + timedelta(days=45)).isoformat(),
    }
    return examples.purpose_declared(**{**fields, **overrides})


def keyed(events: list[dict[str, Any]], key_field: str) -> list[tuple[bytes, bytes]]:
    return [(e[key_field].encode(), json.dumps(e).encode()) for e in events]


def jobs_for(records: list[Record], campaign_id: str) -> Counter[str]:
    """Jobs the fan-out issued, per user (not the copies put back after a deferral)."""
    return Counter(
        r.json["user_id"]
        for r in records
        if r.json["campaign_id"] == campaign_id and r.json.get("attempt", 0) == 0
    )


async def wait_for_directory(app_id: str, count: int) -> None:
    await read_topic(
        f"{app_id}-directory-changelog",
        until=lambda rs: len({r.key for r in rs}) >= count,
        timeout=90,
    )


async def test_campaign_reaches_exactly_the_audience_once(
    two_workers: list[WorkerProcess], worker_env: dict[str, str]
) -> None:
    app_id = worker_env["PREAVIS_APP_ID"]
    users = make_users(USERS)
    await produce(names.TOPIC_USERS, keyed(users, "user_id"))
    await wait_for_directory(app_id, USERS)

    declared = purpose()
    start_year = datetime.fromisoformat(declared["starts_at"]).year
    expected = {u["user_id"]: expected_outcome(u, start_year) for u in users}
    to_notify = {uid for uid, (outcome, _) in expected.items() if outcome == "notify"}
    to_suppress = {uid: r for uid, (o, r) in expected.items() if o == "suppress"}
    to_exclude = {uid for uid, (o, _) in expected.items() if o == "exclude"}
    assert len(to_notify) > 1000 and len(to_suppress) > 50 and len(to_exclude) > 100

    await produce(names.TOPIC_PURPOSES, [(b"ai-training", json.dumps(declared).encode())])
    campaign_id = "purpose:ai-training:v1"

    jobs = await read_topic(
        TOPIC_JOBS,
        until=lambda rs: sum(jobs_for(rs, campaign_id).values()) >= len(to_notify),
        timeout=120,
    )
    jobs = await read_topic(TOPIC_JOBS, settle=3)  # anything extra would show now
    notified = jobs_for(jobs, campaign_id)
    assert set(notified) == to_notify
    assert max(notified.values()) == 1, "a user got two notice jobs"
    # jobs are keyed by user_id, so they sit on the user's partition
    assert all(r.key == r.json["user_id"].encode() for r in jobs)

    # (no SMTP server in this test: the notified users' deliveries are deferred)
    def suppressions(records: list[Record]) -> dict[str, str]:
        return {
            r.json["user_id"]: r.json["reason"] for r in records if r.json["status"] == "suppressed"
        }

    deliveries = await read_topic(
        names.TOPIC_DELIVERY,
        until=lambda rs: len(suppressions(rs)) >= len(to_suppress),
        timeout=60,
    )
    assert suppressions(deliveries) == to_suppress

    exclusions = await read_topic(
        names.TOPIC_EXCLUSIONS, until=lambda rs: len(rs) >= len(to_exclude), timeout=60
    )
    excluded = {r.json["user_id"]: r.json["reasons"] for r in exclusions}
    assert set(excluded) == to_exclude
    assert all(reasons == {"ai-training": "below_min_age"} for reasons in excluded.values())

    # every partition reported its fan-out exactly once
    ledger = await read_topic(TOPIC_LEDGER, settle=2)
    done = [r.json["partition"] for r in ledger if r.json["type"] == "campaign.partition_done"]
    assert sorted(done) == list(range(8))
    totals = sum(r.json["notified"] for r in ledger if r.json["type"] == "campaign.partition_done")
    assert totals == len(to_notify)

    # republishing the same id and version starts nothing new
    await produce(names.TOPIC_PURPOSES, [(b"ai-training", json.dumps(declared).encode())])
    await asyncio.sleep(3)
    assert jobs_for(await read_topic(TOPIC_JOBS, settle=2), campaign_id) == notified
    assert suppressions(await read_topic(names.TOPIC_DELIVERY, settle=1)) == to_suppress

    # late matches before the start date: a new user, and one who moves into the EEA
    newcomer = examples.user_upserted(
        user_id="late-newcomer", country="PL", birth_year=1990, account_type="standard"
    )
    mover_id = next(
        u["user_id"]
        for u in users
        if u["country"] == "US"
        and u["status"] == "active"
        and u.get("email", "").endswith("test")
        and u["account_type"] == "standard"
        and u.get("data_categories") is None
        and (u.get("birth_year") or 1990) < 2000
    )
    mover = dict(
        next(u for u in users if u["user_id"] == mover_id),
        country="FR",
        updated_at="2026-11-02T00:00:00Z",
    )
    await produce(names.TOPIC_USERS, keyed([newcomer, mover], "user_id"))
    expected_total = len(to_notify) + 2
    jobs = await read_topic(
        TOPIC_JOBS,
        until=lambda rs: sum(jobs_for(rs, campaign_id).values()) >= expected_total,
        timeout=60,
    )
    late = jobs_for(jobs, campaign_id)
    assert late["late-newcomer"] == 1 and late[mover_id] == 1
    assert sum(late.values()) == expected_total
    # the mover moving again (out and back in) is not told twice
    away = dict(mover, country="US", updated_at="2026-11-03T00:00:00Z")
    back = dict(mover, country="FR", updated_at="2026-11-04T00:00:00Z")
    await produce(names.TOPIC_USERS, keyed([away, back], "user_id"))
    await asyncio.sleep(3)
    assert jobs_for(await read_topic(TOPIC_JOBS, settle=2), campaign_id)[mover_id] == 1


async def test_rejected_change_alerts_and_sends_nothing(
    two_workers: list[WorkerProcess], worker_env: dict[str, str]
) -> None:
    await produce(names.TOPIC_USERS, keyed(make_users(200, prefix="rej"), "user_id"))
    await wait_for_directory(worker_env["PREAVIS_APP_ID"], 200)
    now = datetime.now(UTC)
    too_soon = purpose("too-soon", starts_at=(now + timedelta(days=10)).isoformat())
    incomplete = examples.without(purpose("incomplete"), "retention", "legitimate_interest")
    await produce(
        names.TOPIC_PURPOSES,
        [
            (b"too-soon", json.dumps(too_soon).encode()),
            (b"incomplete", json.dumps(incomplete).encode()),
        ],
    )

    alerts = await read_topic(names.TOPIC_ALERTS, until=lambda rs: len(rs) >= 2, timeout=60)
    by_campaign = {r.json["campaign_id"]: r.json for r in alerts}
    assert by_campaign["purpose:too-soon:v1"]["code"] == "notice_period_too_short"
    assert by_campaign["purpose:too-soon:v1"]["details"]["days_required"] == 30
    assert by_campaign["purpose:incomplete:v1"]["code"] == "incomplete_notice"
    assert set(by_campaign["purpose:incomplete:v1"]["details"]["missing"]) == {
        "retention",
        "legitimate_interest",
    }
    await asyncio.sleep(3)
    assert await read_topic(TOPIC_JOBS, settle=1) == []
    assert await read_topic(names.TOPIC_DELIVERY, settle=1) == []
    assert await read_topic(names.TOPIC_EXCLUSIONS, settle=1) == []


async def test_malformed_purpose_goes_to_dead_letter_and_the_next_is_processed(
    two_workers: list[WorkerProcess], worker_env: dict[str, str]
) -> None:
    await produce(names.TOPIC_USERS, keyed(make_users(100, prefix="dl"), "user_id"))
    await wait_for_directory(worker_env["PREAVIS_APP_ID"], 100)
    broken = purpose("broken")
    broken["starts_at"] = "next tuesday"
    valid = purpose("after-broken")
    await produce(
        names.TOPIC_PURPOSES,
        [
            (b"broken", json.dumps(broken).encode()),
            (b"broken", b"\xff\xfe not utf-8"),
            (b"after-broken", json.dumps(valid).encode()),
        ],
    )
    dead = await read_topic(names.TOPIC_DEADLETTER, until=lambda rs: len(rs) >= 2, timeout=60)
    errors = sorted(r.json["error"] for r in dead)
    assert any("starts_at" in e for e in errors)
    assert any("UTF-8" in e for e in errors)
    assert all(r.json["topic"] == names.TOPIC_PURPOSES for r in dead)

    ledger = await read_topic(
        TOPIC_LEDGER,
        until=lambda rs: sum(r.json["type"] == "campaign.partition_done" for r in rs) >= 8,
        timeout=60,
    )
    registered = [r.json for r in ledger if r.json["type"] == "campaign.registered"]
    assert [(e["campaign_id"], e["status"]) for e in registered] == [
        ("purpose:after-broken:v1", "running")
    ]
