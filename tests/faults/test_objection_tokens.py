"""Forged and replayed objection tokens, against two real workers.

Eve is a user with a genuine notice and link; Ana is the user Eve would like
to object for. Every token Eve can make for Ana without the key (her own tag
on Ana's payload, a guessed tag, another key's signature, altered bytes,
another version, junk) must answer 404 on both workers, on ``GET /o/``,
``POST /o/`` and ``POST /api/v1/objections``, and record nothing anywhere.
Eve's genuine link, used again and again on both workers at once and through
the API, and her objection replayed on ``consent.objections``, must record
one objection, one exclusion and send one confirmation.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

import aiohttp

from notifications import topic_names as names
from notifications.internal_events import TOPIC_LEDGER, TOPIC_OBJECTION_REQUESTS
from notifications.links import TokenClaims, key_id, sign_token
from tests import examples
from tests.faults.conftest import Workers
from tests.faults.support import (
    Mailbox,
    publish_purpose,
    read_all,
    report,
    wait_for_mail,
    wait_until,
)
from tests.support.kafka import Record, produce, read_topic
from tests.support.mail import objection_link
from tests.support.smtp_server import SmtpServer

REPLAYS_PER_WORKER = 10
API_REPLAYS = 5


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def forgeries(eve_token: str, ana: str, campaign_id: str, purpose_id: str) -> dict[str, str]:
    """Tokens for Ana (or broken ones) that anyone holding Eve's link can make."""
    version, kid, payload, tag = eve_token.split(".")
    ana_payload = b64(f"{ana}\x00{campaign_id}\x00en\x00{purpose_id}")
    other_secret = b"not-the-deployment-secret-0123456789"
    other_key = sign_token(other_secret, TokenClaims(ana, (purpose_id,), campaign_id, "en"))
    flipped = payload[:5] + ("A" if payload[5] != "A" else "B") + payload[6:]
    # the tag's last base64 character carries 2 spare bits: another spelling of the same bytes
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    spare = alphabet[alphabet.index(tag[-1]) ^ 1]
    return {
        "eve's tag on ana's payload": f"{version}.{kid}.{ana_payload}.{tag}",
        "guessed tag": f"{version}.{kid}.{ana_payload}.{'A' * len(tag)}",
        "signed with another key": other_key,
        "another key's tag under the deployment's key id": other_key.replace(
            key_id(other_secret), kid
        ),
        "eve's payload altered": f"{version}.{kid}.{flipped}.{tag}",
        "tag spelled differently": f"{version}.{kid}.{payload}.{tag[:-1]}{spare}",
        "tag truncated": f"{version}.{kid}.{payload}.{tag[:-1]}",
        "no tag": f"{version}.{kid}.{payload}",
        "no key id": f"{version}.{payload}.{tag}",
        "unknown key id": f"{version}.AAAAAAAA.{payload}.{tag}",
        "eve's tag in the format before key ids": f"1.{payload}.{tag}",
        "ana's payload in the format before key ids": f"1.{ana_payload}.{tag}",
        "version 3": f"3.{kid}.{payload}.{tag}",
        "junk": "not-a-token",
        "too long": f"{version}.{kid}.{payload}{'A' * 2000}.{tag}",
        "non-ASCII": f"{version}.{kid}.{payload}\u00e9.{tag}",
    }


def recorded(records: list[Record]) -> list[dict[str, Any]]:
    return [r.json for r in records if r.json["type"] == "objection.recorded"]


async def test_forged_tokens_record_nothing_and_replays_record_one_objection(
    relay: SmtpServer, workers: Workers, worker_env: dict[str, str]
) -> None:
    started = time.monotonic()
    mailbox = relay.handler
    assert isinstance(mailbox, Mailbox)
    mailbox.keep_content = True
    smtp = {"PREAVIS_SMTP_PORT": str(relay.port)}
    pair = [workers.start("worker-a", **smtp), workers.start("worker-b", **smtp)]
    for worker in pair:
        worker.wait_healthy(120)
    eve = examples.user_upserted(user_id="eve", email="eve@example.org", country="DE")
    ana = examples.user_upserted(user_id="ana", email="ana@example.org", country="DE")
    await produce(names.TOPIC_USERS, [(b"eve", json.dumps(eve).encode()),
                                      (b"ana", json.dumps(ana).encode())])  # fmt: skip
    campaign_id = await publish_purpose("ai-training")
    assert wait_for_mail(mailbox, campaign_id, {"eve@example.org", "ana@example.org"}, 90)
    [notice] = mailbox.messages_to("eve@example.org")
    link = objection_link(notice)
    token = link.rsplit("/o/", 1)[1]
    forged = forgeries(token, "ana", campaign_id, "ai-training")

    answers: dict[str, set[int]] = {}
    async with aiohttp.ClientSession() as http:
        for name, bad in forged.items():
            for worker in pair:
                for method in ("GET", "POST"):
                    async with http.request(method, f"{worker.url}/o/{bad}") as response:
                        answers.setdefault(name, set()).add(response.status)
                async with http.post(
                    f"{worker.url}/api/v1/objections", json={"token": bad}
                ) as response:
                    answers[name].add(response.status)
        await asyncio.sleep(2)
        nothing_yet = {
            topic: len(await read_all(topic, settle=0.5))
            for topic in (names.TOPIC_OBJECTIONS, TOPIC_OBJECTION_REQUESTS, names.TOPIC_EXCLUSIONS)
        }

        # the genuine link, again and again, on both workers at once, and through the API
        async def post(url: str) -> int:
            async with http.post(url, data={"reason": ""}) as response:
                return response.status

        async def api(url: str) -> int:
            async with http.post(url, json={"token": token}) as response:
                return response.status

        statuses = await asyncio.gather(
            *(post(f"{w.url}/o/{token}") for w in pair for _ in range(REPLAYS_PER_WORKER)),
            *(api(f"{w.url}/api/v1/objections") for w in pair for _ in range(API_REPLAYS)),
        )
    await read_topic(names.TOPIC_EXCLUSIONS, until=lambda rs: len(rs) >= 1, timeout=20)
    await asyncio.sleep(3)  # every replay has been handled by now
    objections = recorded(await read_all(names.TOPIC_OBJECTIONS))
    # the platform replays the recorded objection on consent.objections
    replayed = [
        (r.key, r.value)
        for r in await read_all(names.TOPIC_OBJECTIONS)
        if r.json["type"] == "objection.recorded"
    ]
    await produce(names.TOPIC_OBJECTIONS, replayed)
    await asyncio.sleep(4)
    requests = await read_all(TOPIC_OBJECTION_REQUESTS)
    after_replay = recorded(await read_all(names.TOPIC_OBJECTIONS))
    exclusions = await read_all(names.TOPIC_EXCLUSIONS)
    ledger = [r.json for r in await read_all(TOPIC_LEDGER)]
    counted = [e for e in ledger if e["type"] == "campaign.objection"]
    wait_until(lambda: len(mailbox.messages_to("eve@example.org")) >= 2, 20)
    time.sleep(2)  # a second confirmation would arrive now
    confirmations = [
        m for m in mailbox.messages_to("eve@example.org") if m["Message-ID"] != notice["Message-ID"]
    ]
    report(
        "7-forged-and-replayed-tokens",
        forged_kinds=len(forged),
        forged_requests=len(forged) * len(pair) * 3,
        forged_recorded=sum(nothing_yet.values()),
        replays=len(statuses),
        objections_recorded=len(objections),
        exclusion_records=len(exclusions),
        confirmations=len(confirmations),
        seconds=round(time.monotonic() - started, 1),
    )

    assert {name: codes for name, codes in answers.items() if codes != {404}} == {}
    assert nothing_yet == dict.fromkeys(nothing_yet, 0), "a forged token reached Kafka"
    assert set(statuses[: 2 * REPLAYS_PER_WORKER]) == {200}
    assert set(statuses[2 * REPLAYS_PER_WORKER :]) == {202}
    assert len(requests) == len(statuses)  # every replay was asked for...
    assert [(o["user_id"], o["purpose_id"]) for o in objections] == [("eve", "ai-training")]
    assert after_replay == objections * 2  # the original and our replay: nothing new from preavis
    assert [(r.key, r.json["reasons"]) for r in exclusions] == [
        (b"eve", {"ai-training": "objection"})
    ]  # ...one was recorded
    assert [(c["user_id"], c["campaign_id"]) for c in counted] == [("eve", campaign_id)]
    assert len(confirmations) == 1, "one confirmation email, not one per replay"
    assert all(r.json.get("user_id") != "ana" for r in requests)
