"""``GET /api/v1/exclusions`` follows ``training.exclusions``: what is written after
the worker started shows up, and a lifted exclusion goes, without a re-scan per
request (the unit tests in tests/unit/test_read_to_end.py show a request only
asks for the end offsets)."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from notifications import topic_names as names
from tests import examples
from tests.support.kafka import produce, read_topic
from tests.support.worker import WorkerProcess


async def exclusion_list(
    http: aiohttp.ClientSession, url: str, token: str, purpose_id: str | None = None
) -> list[dict[str, Any]]:
    query = f"?purpose_id={purpose_id}" if purpose_id else ""
    headers = {"Authorization": f"Bearer {token}"}
    async with http.get(f"{url}/api/v1/exclusions{query}", headers=headers) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("application/x-ndjson")
        return [json.loads(line) for line in (await response.text()).splitlines()]


async def test_exclusions_written_after_the_start_appear_and_lifted_ones_go(
    smtp_worker: WorkerProcess, worker_env: dict[str, str]
) -> None:
    url, token = smtp_worker.url, worker_env["PREAVIS_ADMIN_TOKEN"]
    admin = {"Authorization": f"Bearer {worker_env['PREAVIS_ADMIN_TOKEN']}"}
    async with aiohttp.ClientSession() as http:
        assert await exclusion_list(http, url, token) == []  # the worker has read the topic

        for user_id in ("ana", "bo"):
            body = {"user_id": user_id, "purpose_id": "ai-training"}
            async with http.post(f"{url}/api/v1/objections", json=body, headers=admin) as response:
                assert response.status == 202
        await read_topic(names.TOPIC_EXCLUSIONS, until=lambda rs: len(rs) >= 2, timeout=20)
        # as soon as the record is on the topic, the API has it (no polling here)
        listed = await exclusion_list(http, url, token, "ai-training")
        assert sorted((x["user_id"], x["reasons"]) for x in listed) == [
            ("ana", {"ai-training": "objection"}),
            ("bo", {"ai-training": "objection"}),
        ]
        assert await exclusion_list(http, url, token, "other-purpose") == []

        withdrawn = examples.objection_withdrawn(user_id="ana", purpose_id="ai-training")
        await produce(names.TOPIC_OBJECTIONS, [(b"ana", json.dumps(withdrawn).encode())])
        await read_topic(names.TOPIC_EXCLUSIONS, until=lambda rs: len(rs) >= 3, timeout=20)
        assert [x["user_id"] for x in await exclusion_list(http, url, token)] == ["bo"]
