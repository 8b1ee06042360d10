"""``/object`` cannot be abused, and an objection by email reaches the account.

Real worker, real broker, a real SMTP server (the mail catcher); requests go
to the worker over HTTP, assertions read the received mail and Kafka.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from notifications import topic_names as names
from tests import examples
from tests.support.kafka import produce, read_topic
from tests.support.mail import objection_link, received
from tests.support.worker import WorkerProcess


@pytest.fixture
def worker_env(worker_env: dict[str, str]) -> dict[str, str]:
    """The test's worker trusts the local peer as a proxy: X-Forwarded-For names the client."""
    return {
        **worker_env,
        "PREAVIS_DEVELOPMENT": "true",
        "PREAVIS_TRUSTED_PROXIES": "127.0.0.1",
        "PREAVIS_OBJECT_CLIENT_PER_MINUTE": "30",
        "PREAVIS_OBJECT_QUEUE_SIZE": "20",
    }


async def publish_purposes(*purpose_ids: str) -> None:
    now = datetime.now(UTC)
    for purpose_id in purpose_ids:
        purpose = examples.purpose_declared(
            purpose_id=purpose_id,
            published_at=now.isoformat(),
            starts_at=(now + timedelta(days=45)).isoformat(),
        )
        await produce(names.TOPIC_PURPOSES, [(purpose_id.encode(), json.dumps(purpose).encode())])


async def upsert(*users: dict[str, Any]) -> None:
    await produce(
        names.TOPIC_USERS, [(u["user_id"].encode(), json.dumps(u).encode()) for u in users]
    )


async def until_offered(http: aiohttp.ClientSession, url: str, *purpose_ids: str) -> None:
    """Wait until the worker's catalog has read the purposes (the form lists them)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        async with http.get(f"{url}/object") as response:
            page = await response.text()
        if all(f'value="{p}"' in page for p in purpose_ids):
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"the form never offered {purpose_ids}")


async def object_by_email(
    http: aiohttp.ClientSession, url: str, address: str, purpose_id: str, client: str
) -> tuple[int, str]:
    form = {"email": address, "purpose_id": purpose_id, "lang": "en"}
    async with http.post(
        f"{url}/object", data=form, headers={"X-Forwarded-For": client}
    ) as response:
        return response.status, await response.text()


def requests_to(
    mail_dir: Path, address: str, count: int, settle: float = 1.5
) -> list[EmailMessage]:
    """The /object emails received for ``address`` (waits for ``count`` of all kinds first)."""
    return [
        m
        for m in received(mail_dir, count, timeout=30, settle=settle)
        if m["X-Preavis-Campaign"] == "objection-request" and str(m["To"]) == address
    ]


def recorded(records: list[Any]) -> list[dict[str, Any]]:
    return [r.json for r in records if r.json and r.json["type"] == "objection.recorded"]


def sent_for(records: list[Any], campaign_id: str) -> set[str]:
    """Who was sent the campaign's notice."""
    return {
        r.json["user_id"]
        for r in records
        if r.json["campaign_id"] == campaign_id and r.json["status"] == "sent"
    }


def exclusion_keys(records: list[Any]) -> set[bytes]:
    return {r.key for r in records if r.value is not None}


async def test_twenty_requests_send_one_email_with_identical_answers(
    smtp_worker: WorkerProcess, mail_dir: Path
) -> None:
    await publish_purposes("ai-training")
    async with aiohttp.ClientSession() as http:
        await until_offered(http, smtp_worker.url, "ai-training")
        answers = [
            await object_by_email(
                http, smtp_worker.url, "target@example.org", "ai-training", "198.51.100.1"
            )
            for _ in range(20)
        ]
        # an address that never gets a mail (over its hourly limit or not) reads the same page
        other = await object_by_email(
            http, smtp_worker.url, "other@example.org", "ai-training", "198.51.100.2"
        )
    assert {status for status, _ in answers} == {200}
    assert len({body for _, body in answers}) == 1
    assert other == answers[0]
    time.sleep(3)  # the queue is drained in the background: give any extra mail time to come
    assert len(requests_to(mail_dir, "target@example.org", 2, settle=2)) == 1


async def test_client_limit_follows_forwarded_for_from_the_trusted_proxy(
    smtp_worker: WorkerProcess,
) -> None:
    await publish_purposes("ai-training")
    async with aiohttp.ClientSession() as http:
        await until_offered(http, smtp_worker.url, "ai-training")
        statuses = [
            (
                await object_by_email(
                    http, smtp_worker.url, f"c{i}@example.org", "ai-training", "203.0.113.5"
                )
            )[0]
            for i in range(32)
        ]
        # the spoofed left-most hop is not believed: the proxy's right-most hop is the client
        spoofed, _ = await object_by_email(
            http, smtp_worker.url, "d@example.org", "ai-training", "9.9.9.9, 203.0.113.5"
        )
        fresh, _ = await object_by_email(
            http, smtp_worker.url, "e@example.org", "ai-training", "203.0.113.6"
        )
    assert statuses[:30] == [200] * 30
    assert statuses[30:] == [429, 429]
    assert spoofed == 429
    assert fresh == 200


async def test_campaign_delivers_while_object_is_hammered(
    smtp_worker: WorkerProcess, mail_dir: Path
) -> None:
    users = [
        examples.user_upserted(user_id=f"h-{i:03d}", email=f"h-{i:03d}@example.de", country="DE")
        for i in range(40)
    ]
    await publish_purposes("ads-profiling")
    async with aiohttp.ClientSession() as http:
        await until_offered(http, smtp_worker.url, "ads-profiling")

        async def hammer(client: int) -> list[int]:
            return [
                (
                    await object_by_email(
                        http,
                        smtp_worker.url,
                        f"victim-{client}-{n}@example.org",
                        "ads-profiling",
                        f"198.18.{client}.1",
                    )
                )[0]
                for n in range(25)
            ]

        started = time.monotonic()
        hammering = asyncio.gather(*(hammer(c) for c in range(16)))
        await upsert(*users)
        await publish_purposes("ai-training")
        deliveries = await read_topic(
            names.TOPIC_DELIVERY,
            until=lambda rs: len(sent_for(rs, "purpose:ai-training:v1")) >= len(users),
            timeout=90,
            settle=0.1,
        )
        campaign_seconds = time.monotonic() - started
        answered = [status for statuses in await hammering for status in statuses]
        async with http.get(f"{smtp_worker.url}/metrics") as response:
            metrics = await response.text() if response.status == 200 else ""
    assert sent_for(deliveries, "purpose:ai-training:v1") == {u["user_id"] for u in users}
    assert set(answered) == {200} and len(answered) == 400
    print(f"40 notices sent in {campaign_seconds:.1f}s while /object took 400 requests")
    if metrics:  # the admin surface may listen elsewhere (PREAVIS_ADMIN_PORT)
        dropped = re.search(r'preavis_object_mail_total\{outcome="dropped"\} (\d+)', metrics)
        assert dropped and int(dropped.group(1)) > 0, "a queue of 20 must have dropped some"


async def test_object_by_email_excludes_the_account(
    smtp_worker: WorkerProcess, mail_dir: Path
) -> None:
    marie = examples.user_upserted(
        user_id="marie", email="marie@example.fr", locale="fr", country="FR", birth_year=1985
    )
    await upsert(marie)
    await publish_purposes("ai-training", "ads-profiling")
    async with aiohttp.ClientSession() as http:
        await until_offered(http, smtp_worker.url, "ai-training", "ads-profiling")
        status, _ = await object_by_email(
            http, smtp_worker.url, " Marie@Example.FR ", "ai-training", "198.51.100.9"
        )
        assert status == 200
        [request] = requests_to(mail_dir, "Marie@Example.FR", 3)  # 2 notices and this one
        async with http.post(objection_link(request)) as response:
            assert response.status == 200
        exclusions = await read_topic(
            names.TOPIC_EXCLUSIONS, until=lambda rs: b"marie" in exclusion_keys(rs), timeout=20
        )
    assert exclusion_keys(exclusions) == {b"marie"}  # the account, and no pseudonym
    [mine] = [r.json for r in exclusions if r.key == b"marie"]
    assert mine["reasons"] == {"ai-training": "objection"}
    objections = recorded(await read_topic(names.TOPIC_OBJECTIONS, settle=0.5))
    assert [(o["user_id"], o["channel"]) for o in objections] == [("marie", "email_link")]

    # erased, the address belongs to nobody any more: an objection stays pseudonymous
    await produce(
        names.TOPIC_USERS, [(b"marie", json.dumps(examples.user_erased(user_id="marie")).encode())]
    )
    await asyncio.sleep(3)
    async with aiohttp.ClientSession() as http:
        await object_by_email(
            http, smtp_worker.url, "marie@example.fr", "ads-profiling", "198.51.100.9"
        )
        requests = requests_to(mail_dir, "marie@example.fr", 5)
        assert len(requests) == 1
        async with http.post(objection_link(requests[0])) as response:
            assert response.status == 200
    objections = recorded(
        await read_topic(names.TOPIC_OBJECTIONS, until=lambda rs: len(recorded(rs)) >= 2)
    )
    [after] = [o for o in objections if o["purpose_id"] == "ads-profiling"]  # any partition
    assert after["user_id"].startswith("email-hmac:")
    assert await read_topic(names.TOPIC_DEADLETTER, settle=0.5) == []


async def test_an_address_of_nobody_objects_then_joins(
    smtp_worker: WorkerProcess, mail_dir: Path
) -> None:
    await publish_purposes("ai-training")
    async with aiohttp.ClientSession() as http:
        await until_offered(http, smtp_worker.url, "ai-training")
        await object_by_email(
            http, smtp_worker.url, "newbie@example.org", "ai-training", "198.51.100.3"
        )
        [request] = requests_to(mail_dir, "newbie@example.org", 1)
        async with http.post(objection_link(request), data={"reason": "no thanks"}) as response:
            assert response.status == 200
        first = await read_topic(
            names.TOPIC_EXCLUSIONS, until=lambda rs: len(exclusion_keys(rs)) >= 1, timeout=20
        )
        [pseudonym] = exclusion_keys(first)
        assert pseudonym.startswith(b"email-hmac:") and b"newbie" not in pseudonym

        newbie = examples.user_upserted(user_id="newbie", email="NewBie@example.org", country="DE")
        await upsert(newbie)
        exclusions = await read_topic(
            names.TOPIC_EXCLUSIONS, until=lambda rs: b"newbie" in exclusion_keys(rs), timeout=20
        )
    [joined] = [r.json for r in exclusions if r.key == b"newbie"]
    assert joined["reasons"] == {"ai-training": "objection"}
    objections = recorded(await read_topic(names.TOPIC_OBJECTIONS, settle=0.5))
    by_user = {o["user_id"]: o for o in objections}
    assert sorted(by_user) == sorted(["newbie", pseudonym.decode()])
    assert "reason" not in by_user["newbie"]  # the index keeps no free text
    assert await read_topic(names.TOPIC_DEADLETTER, settle=0.5) == []
