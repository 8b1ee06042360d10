"""The loop that matters: from the link in a received email to the exclusion list.

Real worker, real broker, a real SMTP catcher; the link is parsed out of the
``.eml``; HTTP requests go to the worker; assertions read Kafka.
"""

from __future__ import annotations

import asyncio
import html
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from notifications import topic_names as names
from tests import examples
from tests.support.kafka import Record, produce, read_topic
from tests.support.mail import objection_link, received
from tests.support.worker import WorkerProcess


async def publish_purpose_for(users: list[dict[str, Any]], purpose_id: str = "ai-training") -> None:
    await produce(
        names.TOPIC_USERS, [(u["user_id"].encode(), json.dumps(u).encode()) for u in users]
    )
    now = datetime.now(UTC)
    purpose = examples.purpose_declared(
        purpose_id=purpose_id,
        published_at=now.isoformat(),
        starts_at=(now + timedelta(days=45)).isoformat(),
    )
    await produce(names.TOPIC_PURPOSES, [(purpose_id.encode(), json.dumps(purpose).encode())])


def recorded(records: list[Record]) -> list[dict[str, Any]]:
    return [r.json for r in records if r.json["type"] == "objection.recorded"]


async def test_email_link_to_exclusion_list(smtp_worker: WorkerProcess, mail_dir: Path) -> None:
    camille = examples.user_upserted(
        user_id="camille", email="camille@example.fr", locale="fr", country="FR", birth_year=1990
    )
    await publish_purpose_for([camille])
    [notice] = received(mail_dir, 1)
    link = objection_link(notice)

    async with aiohttp.ClientSession() as http:
        async with http.get(link) as response:
            page = html.unescape(await response.text())
            assert response.status == 200
            assert 'lang="fr"' in page
            assert "Entraînement de nos modèles d'IA" in page  # the purpose, in French
            assert "Set-Cookie" not in response.headers
        await asyncio.sleep(1.5)
        assert await read_topic(names.TOPIC_OBJECTIONS, settle=0.5) == []  # GET records nothing

        posted = time.monotonic()
        async with http.post(link, data={"reason": ""}) as response:
            assert response.status == 200
            assert 'lang="fr"' in await response.text()
        exclusions = await read_topic(
            names.TOPIC_EXCLUSIONS, until=lambda rs: len(rs) >= 1, timeout=10, settle=0.1
        )
        latency = time.monotonic() - posted
    assert latency < 2.0, f"exclusion took {latency:.2f}s"
    assert exclusions[0].key == b"camille"
    assert exclusions[0].json["reasons"] == {"ai-training": "objection"}

    objections = recorded(await read_topic(names.TOPIC_OBJECTIONS, settle=0.5))
    assert len(objections) == 1
    assert objections[0]["channel"] == "email_link"
    assert objections[0]["campaign_id"] == "purpose:ai-training:v1"
    assert "reason" not in objections[0]  # none asked, none given

    messages = received(mail_dir, 2)
    assert len(messages) == 2
    confirmation = messages[1]
    assert str(confirmation["To"]) == "camille@example.fr"
    assert confirmation["Content-Language"] == "fr"
    assert confirmation["Message-ID"] != notice["Message-ID"]


async def test_forged_tampered_and_repeated_tokens(
    smtp_worker: WorkerProcess, mail_dir: Path
) -> None:
    ana = examples.user_upserted(
        user_id="ana", email="ana@example.es", locale="es", country="ES", birth_year=1980
    )
    await publish_purpose_for([ana])
    link = objection_link(received(mail_dir, 1)[0])
    prefix, token = link.rsplit("/o/", 1)
    version, payload, tag = token.rsplit(".", 2)  # version: "2.{key id}"
    flipped = "A" if payload[-2] != "A" else "B"
    tampered = f"{prefix}/o/{version}.{payload[:-2]}{flipped}{payload[-1]}.{tag}"
    forged = f"{prefix}/o/{version}.{payload}.{'A' * len(tag)}"

    async with aiohttp.ClientSession() as http:
        for bad in (tampered, forged, f"{prefix}/o/not-a-token"):
            for method in (http.get, http.post):
                async with method(bad) as response:
                    assert response.status == 404, bad
        async with http.post(
            f"{smtp_worker.url}/api/v1/objections", json={"token": forged[len(prefix) + 3 :]}
        ) as response:
            assert response.status == 404
        await asyncio.sleep(1.5)
        assert await read_topic(names.TOPIC_OBJECTIONS, settle=0.5) == []

        for _ in range(2):  # the same person clicks twice
            async with http.post(link) as response:
                assert response.status == 200
    await read_topic(names.TOPIC_EXCLUSIONS, until=lambda rs: len(rs) >= 1, timeout=10)
    await asyncio.sleep(2)
    assert len(recorded(await read_topic(names.TOPIC_OBJECTIONS, settle=0.5))) == 1
    assert len(await read_topic(names.TOPIC_EXCLUSIONS, settle=0.5)) == 1


async def test_withdrawal_lifts_the_exclusion(smtp_worker: WorkerProcess, mail_dir: Path) -> None:
    jan = examples.user_upserted(
        user_id="jan", email="jan@example.nl", locale="nl", country="NL", birth_year=1970
    )
    await publish_purpose_for([jan])
    link = objection_link(received(mail_dir, 1)[0])
    async with aiohttp.ClientSession() as http, http.post(link) as response:
        assert response.status == 200
    await read_topic(names.TOPIC_EXCLUSIONS, until=lambda rs: len(rs) >= 1, timeout=10)

    withdrawn = examples.objection_withdrawn(user_id="jan", purpose_id="ai-training")
    await produce(names.TOPIC_OBJECTIONS, [(b"jan", json.dumps(withdrawn).encode())])
    records = await read_topic(names.TOPIC_EXCLUSIONS, until=lambda rs: len(rs) >= 2, timeout=10)
    assert records[-1].key == b"jan" and records[-1].value is None  # a tombstone: not excluded


async def test_admin_api_and_objection_before_the_campaign(
    smtp_worker: WorkerProcess, mail_dir: Path, worker_env: dict[str, str]
) -> None:
    api = f"{smtp_worker.url}/api/v1"
    admin = {"Authorization": f"Bearer {worker_env['PREAVIS_ADMIN_TOKEN']}"}
    async with aiohttp.ClientSession() as http:
        body = {"user_id": "early", "purpose_id": "ai-training"}
        async with http.post(f"{api}/objections", json=body) as response:
            assert response.status == 401
        async with http.post(
            f"{api}/objections", json=body, headers={"Authorization": "Bearer nope"}
        ) as response:
            assert response.status == 401
        async with http.post(f"{api}/objections", json=body, headers=admin) as response:
            assert response.status == 202
        await read_topic(names.TOPIC_EXCLUSIONS, until=lambda rs: len(rs) >= 1, timeout=10)

        early = examples.user_upserted(user_id="early", email="early@example.de", country="DE")
        other = examples.user_upserted(user_id="other", email="other@example.de", country="DE")
        await publish_purpose_for([early, other])
        deliveries = await read_topic(
            names.TOPIC_DELIVERY,
            until=lambda rs: {r.json["user_id"] for r in rs} >= {"early", "other"},
            timeout=60,
        )
        by_user = {r.json["user_id"]: r.json for r in deliveries}
        assert (by_user["early"]["status"], by_user["early"]["reason"]) == (
            "suppressed",
            "already_objected",
        )
        assert by_user["other"]["status"] == "sent"

        async with http.get(f"{api}/exclusions?purpose_id=ai-training") as response:
            assert response.status == 401
        async with http.get(f"{api}/exclusions?purpose_id=ai-training", headers=admin) as response:
            assert response.status == 200
            lines = [json.loads(line) for line in (await response.text()).splitlines()]
        assert [(x["user_id"], x["reasons"]) for x in lines] == [
            ("early", {"ai-training": "objection"})
        ]
        async with http.get(
            f"{api}/exclusions?purpose_id=other-purpose", headers=admin
        ) as response:
            assert await response.text() == ""


async def test_object_page_for_people_without_a_notice(
    smtp_worker: WorkerProcess, mail_dir: Path
) -> None:
    await publish_purpose_for([])
    async with aiohttp.ClientSession() as http:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # until the worker's catalog has read the purpose
            async with http.get(
                f"{smtp_worker.url}/object", headers={"Accept-Language": "de"}
            ) as response:
                page = await response.text()
                assert response.status == 200 and 'lang="de"' in page
            if 'value="ai-training"' in page:
                break
            await asyncio.sleep(0.5)
        assert 'value="ai-training"' in page
        form = {"email": "someone@example.org", "purpose_id": "ai-training", "lang": "de"}
        async with http.post(f"{smtp_worker.url}/object", data=form) as response:
            assert response.status == 200
        [request_email] = received(mail_dir, 1)
        assert str(request_email["To"]) == "someone@example.org"
        link = objection_link(request_email)
        await asyncio.sleep(1.5)
        assert await read_topic(names.TOPIC_OBJECTIONS, settle=0.5) == []  # not before the click

        async with http.post(link) as response:
            assert response.status == 200
    objections = recorded(
        await read_topic(names.TOPIC_OBJECTIONS, until=lambda rs: len(rs) >= 1, timeout=10)
    )
    assert len(objections) == 1
    assert objections[0]["user_id"].startswith("email-hmac:")
    assert "someone" not in objections[0]["user_id"]
