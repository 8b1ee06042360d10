"""What the compliance team sees equals what really happened.

A real campaign on the broker, a real SMTP catcher: the API's statistics are
compared with the emails the catcher received; the API's auth, the proof of
notice, the metrics, and the worker's own log lines are checked too.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from notifications import topic_names as names
from tests import examples
from tests.support.kafka import declare_purpose, produce
from tests.support.mail import objection_link, received
from tests.support.worker import WorkerProcess

CID = "purpose:ai-training:v1"


def population() -> list[dict[str, Any]]:
    users = []
    for i in range(20):
        country, locale = ("FR", "fr") if i % 2 else ("DE", "de")
        users.append(
            examples.user_upserted(
                user_id=f"cmp-{i:02d}",
                email=None if i in (4, 9) else f"cmp{i}@example.net",
                country=country,
                locale=locale,
                birth_year=1985,
            )
        )
    return users


async def get_json(http: aiohttp.ClientSession, url: str, token: str | None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.get(url, headers=headers) as response:
        body = await response.text()
        return response.status, json.loads(body) if body.startswith(("{", "[")) else body


async def campaign_when(
    http: aiohttp.ClientSession, url: str, token: str, ready: Any, timeout: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    body: Any = None
    while time.monotonic() < deadline:
        status, body = await get_json(http, url, token)
        if status == 200 and ready(body):
            return dict(body)
        await asyncio.sleep(0.5)
    raise AssertionError(f"campaign never got there: {body}")


async def test_statistics_equal_what_the_smtp_server_received(
    smtp_worker: WorkerProcess, mail_dir: Path, worker_env: dict[str, str]
) -> None:
    users = population()
    await produce(
        names.TOPIC_USERS, [(u["user_id"].encode(), json.dumps(u).encode()) for u in users]
    )
    await declare_purpose()
    messages = received(mail_dir, 18)
    admin = worker_env["PREAVIS_ADMIN_TOKEN"]
    api = f"{smtp_worker.url}/api/v1"

    async with aiohttp.ClientSession() as http:
        campaign = await campaign_when(
            http, f"{api}/campaigns/{CID}", admin, lambda c: c["status"] == "completed"
        )
        assert campaign["sent"] == len(messages) == 18
        assert campaign["audience"] == 20
        assert campaign["suppressed"] == {"no_email": 2}
        assert (campaign["failed"], campaign["bounced"], campaign["deferred"]) == (0, 0, 0)
        languages = Counter(str(m["Content-Language"]) for m in messages)
        assert {k: v["sent"] for k, v in campaign["by_language"].items()} == dict(languages)
        assert campaign["by_country"]["FR"]["audience"] == 10
        assert sum(row["suppressed"] for row in campaign["by_country"].values()) == 2
        assert campaign["time_left_seconds"] > 44 * 86400

        # an objection shows up in the campaign's statistics
        async with http.post(objection_link(messages[0])) as response:
            assert response.status == 200
        campaign = await campaign_when(
            http, f"{api}/campaigns/{CID}", admin, lambda c: c["objections"] == 1
        )
        assert campaign["objection_rate"] == 1 / 20

        # proof of notice: what the user received, by Message-ID and content hash
        first = messages[0]
        user_id = next(u["user_id"] for u in users if u.get("email") == str(first["To"]))
        status, proof = await get_json(http, f"{api}/users/{user_id}/notices", admin)
        assert status == 200
        [notice] = proof["notices"]
        assert notice["campaign_id"] == CID and notice["status"] == "sent"
        assert notice["message_id"] == first["Message-ID"]
        assert re.fullmatch(r"[0-9a-f]{64}", notice["content_sha256"])

        status, listing = await get_json(http, f"{api}/campaigns", admin)
        assert status == 200 and [c["campaign_id"] for c in listing["campaigns"]] == [CID]

        async with http.get(f"{smtp_worker.url}/metrics") as response:
            metrics = await response.text()
        assert re.search(r'preavis_notices_total\{status="sent"\} 18\.0', metrics)
        assert "preavis_smtp_send_seconds_count 18.0" in metrics


async def test_api_answers_401_without_the_right_token(
    smtp_worker: WorkerProcess, worker_env: dict[str, str]
) -> None:
    paths = [
        "/api/v1/campaigns",
        f"/api/v1/campaigns/{CID}",
        "/api/v1/users/someone/notices",
        "/api/v1/exclusions?purpose_id=ai-training",
        "/dashboard",
    ]
    admin = worker_env["PREAVIS_ADMIN_TOKEN"]
    async with aiohttp.ClientSession() as http:
        for path in paths:
            # no credentials at all: the API refuses, a person is sent to sign in
            async with http.get(smtp_worker.url + path, allow_redirects=False) as response:
                if path == "/dashboard":
                    assert response.status == 303, path
                    assert response.headers["Location"].startswith("/signin"), path
                else:
                    assert response.status == 401, path
        # a wrong token is refused; after a few, the client is locked out (429)
        statuses = []
        for path in paths:
            for token in ("wrong-token", admin + "x"):
                status, body = await get_json(http, smtp_worker.url + path, token)
                assert "campaigns" not in str(body) and "user_id" not in str(body)
                statuses.append(status)
        assert statuses[0] == 401 and set(statuses) <= {401, 429}, statuses


async def test_worker_logs_are_json_without_addresses_tokens_or_secrets(
    smtp_worker: WorkerProcess, mail_dir: Path, worker_env: dict[str, str]
) -> None:
    users = population()
    await produce(
        names.TOPIC_USERS, [(u["user_id"].encode(), json.dumps(u).encode()) for u in users]
    )
    await declare_purpose()
    messages = received(mail_dir, 18)
    link = objection_link(messages[0])
    async with aiohttp.ClientSession() as http, http.post(link) as response:
        assert response.status == 200
    received(mail_dir, 19)  # the confirmation
    await asyncio.sleep(1)

    log = smtp_worker.log()
    token = link.rsplit("/o/", 1)[1]
    for secret in (
        token,
        worker_env["PREAVIS_LINK_SECRET"],
        worker_env["PREAVIS_ADMIN_TOKEN"],
        *[u["email"] for u in users if u.get("email")],
    ):
        assert secret not in log
    assert not re.search(r"[\w.+-]+@example\.net", log)
    json_lines = [line for line in log.splitlines() if line.startswith("{")]
    assert len(json_lines) > 10
    for line in json_lines:
        record = json.loads(line)
        assert {"at", "level", "logger", "message"} <= set(record)


async def test_deadline_at_risk_alert_when_notices_are_stuck_close_to_the_start(
    clean_topics: None, worker_env: dict[str, str], tmp_path: Path
) -> None:
    from tests.support.kafka import read_topic
    from tests.support.worker import start_worker

    # no SMTP relay listens on this port: every notice stays deferred; the
    # start is 31 days away, inside a 40-day risk window
    env = {**worker_env, "PREAVIS_SMTP_PORT": "9", "PREAVIS_DEADLINE_RISK_DAYS": "40"}
    worker = start_worker(env, tmp_path)
    try:
        worker.wait_healthy()
        users = population()[:5]
        await produce(
            names.TOPIC_USERS, [(u["user_id"].encode(), json.dumps(u).encode()) for u in users]
        )
        now = datetime.now(UTC)
        purpose = examples.purpose_declared(
            published_at=now.isoformat(), starts_at=(now + timedelta(days=31)).isoformat()
        )
        await produce(names.TOPIC_PURPOSES, [(b"ai-training", json.dumps(purpose).encode())])
        alerts = await read_topic(
            names.TOPIC_ALERTS,
            until=lambda rs: any(r.json["code"] == "deadline_at_risk" for r in rs),
            timeout=60,
        )
        await asyncio.sleep(2)  # raised once, not at every ledger event
        alerts = await read_topic(names.TOPIC_ALERTS, settle=0.5)
    finally:
        worker.stop()
    risky = [r.json for r in alerts if r.json["code"] == "deadline_at_risk"]
    assert len(risky) == 1
    assert risky[0]["campaign_id"] == CID and risky[0]["severity"] == "critical"
    assert risky[0]["details"]["starts_at"].startswith(purpose["starts_at"][:10])
