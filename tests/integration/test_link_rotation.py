"""Link keys rotate: links emailed under an earlier key keep working on a real worker.

The worker runs with ``PREAVIS_LINK_SECRET`` (the new key) and
``PREAVIS_LINK_SECRETS_OLD`` (last year's key). A link signed with either
opens its page and records its objection; so does a link in the format
before key ids (``1.{payload}.{tag}``, made here the way the previous release
made it); a link of a key the worker no longer holds answers 404 and records
nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from typing import Any

import aiohttp
import pytest

from notifications import topic_names as names
from notifications.links import TokenClaims, sign_token
from tests.support.kafka import read_topic
from tests.support.worker import WorkerProcess

NEW = "this-year-link-key-" + uuid.uuid4().hex
OLD = "last-year-link-key-" + uuid.uuid4().hex
RETIRED = "retired-link-key-" + uuid.uuid4().hex


@pytest.fixture
def worker_env(worker_env: dict[str, str]) -> dict[str, str]:
    return {**worker_env, "PREAVIS_LINK_SECRET": NEW, "PREAVIS_LINK_SECRETS_OLD": f" {OLD} ,"}


def legacy_token(secret: bytes, claims: TokenClaims) -> str:
    """A link as the release before key ids signed it (version 1, no key id)."""
    fields = [claims.user_id, claims.campaign_id or "", claims.language, *claims.purposes]
    payload = base64.urlsafe_b64encode("\x00".join(fields).encode()).rstrip(b"=").decode()
    signed = f"1.{payload}"
    mac = hmac.new(secret, b"preavis-objection\x00" + signed.encode(), hashlib.sha256).digest()
    return f"{signed}.{base64.urlsafe_b64encode(mac[:16]).rstrip(b'=').decode()}"


def claims(user_id: str) -> TokenClaims:
    return TokenClaims(user_id, ("ai-training",), "purpose:ai-training:v1", "en")


async def test_links_of_the_current_old_and_legacy_formats_work_and_retired_keys_do_not(
    worker: WorkerProcess,
) -> None:
    genuine = {
        "u-new": sign_token(NEW.encode(), claims("u-new")),
        "u-old": sign_token(OLD.encode(), claims("u-old")),
        "u-legacy-new": legacy_token(NEW.encode(), claims("u-legacy-new")),
        "u-legacy-old": legacy_token(OLD.encode(), claims("u-legacy-old")),
    }
    retired = {
        "u-retired": sign_token(RETIRED.encode(), claims("u-retired")),
        "u-legacy-retired": legacy_token(RETIRED.encode(), claims("u-legacy-retired")),
    }
    statuses: dict[str, tuple[int, int]] = {}
    async with aiohttp.ClientSession() as http:
        for user_id, token in {**genuine, **retired}.items():
            async with http.get(f"{worker.url}/o/{token}") as page:
                shown = page.status
            async with http.post(f"{worker.url}/o/{token}", data={"reason": ""}) as confirmed:
                statuses[user_id] = (shown, confirmed.status)

    def done(records: list[Any]) -> bool:
        return {r.json["user_id"] for r in records} >= set(genuine)

    records = await read_topic(names.TOPIC_OBJECTIONS, until=done, timeout=30)
    recorded = sorted(r.json["user_id"] for r in records if r.json["type"] == "objection.recorded")

    assert statuses == {
        **dict.fromkeys(genuine, (200, 200)),
        **dict.fromkeys(retired, (404, 404)),
    }
    assert recorded == sorted(genuine)
    log = worker.log()
    assert all(secret not in log for secret in (NEW, OLD, RETIRED))
