"""Signing in to the dashboard, roles and the slow-down of wrong tokens, on a running worker.

Black-box over HTTP: the cookie's attributes as the browser receives them,
the read-only compliance role against the admin role on the Art. 21(5) API,
the CSRF defence (a form or an action posted from another site), the staff
proxy's header (trusted only from the configured proxy address), and a
guesser shut out after a few wrong tokens.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import aiohttp
import pytest

from notifications import topic_names as names
from tests.integration.test_web_surface import assert_security_headers, wait_for
from tests.support.kafka import read_topic
from tests.support.smtp_server import free_port
from tests.support.worker import WorkerProcess, start_worker

COOKIE = "preavis_session"
SECURE_COOKIE = "__Host-preavis_session"


@pytest.fixture
def worker_env(worker_env: dict[str, str]) -> dict[str, str]:
    """The integration environment, with a compliance token and a staff proxy on 127.0.0.4."""
    return {
        **worker_env,
        "PREAVIS_COMPLIANCE_TOKEN": "test-compliance-" + uuid.uuid4().hex,
        "PREAVIS_TRUSTED_USER_HEADER": "X-Staff-User",
        "PREAVIS_TRUSTED_PROXIES": "127.0.0.4/32",
        "PREAVIS_SESSION_MINUTES": "20",
    }


@pytest.fixture
def https_worker(
    clean_topics: None, worker_env: dict[str, str], tmp_path: Path
) -> Iterator[tuple[WorkerProcess, str]]:
    """A worker whose public URL is https, its internal face on an admin port."""
    admin_port = free_port()
    env = {
        **worker_env,
        "PREAVIS_ADMIN_PORT": str(admin_port),
        "PREAVIS_PUBLIC_URL": "https://preavis.example",
    }
    process = start_worker(env, tmp_path, "https-worker")
    internal = f"http://127.0.0.1:{admin_port}"
    try:
        wait_for(internal + "/healthz", process)
        yield process, internal
    finally:
        process.stop()


def session_cookie(response: aiohttp.ClientResponse) -> tuple[str, str, str]:
    """(name, value, the Set-Cookie header as sent) of the response's session cookie."""
    [header] = [h for h in response.headers.getall("Set-Cookie", []) if "preavis_session" in h]
    cookie = SimpleCookie()
    cookie.load(header)
    [(name, morsel)] = cookie.items()
    return name, morsel.value, header


async def sign_in(
    http: aiohttp.ClientSession, base: str, token: str, **headers: str
) -> aiohttp.ClientResponse:
    async with http.post(
        base + "/signin", data={"token": token}, headers=headers, allow_redirects=False
    ) as response:
        await response.read()
        return response


async def test_a_token_gives_a_session_cookie_with_the_attributes(
    worker: WorkerProcess, worker_env: dict[str, str]
) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        async with http.get(worker.url + "/dashboard", allow_redirects=False) as response:
            assert response.status == 303 and response.headers["Location"] == "/signin"
        async with http.get(worker.url + "/signin") as response:
            page = await response.text()
            assert response.status == 200
            assert '<label for="token">' in page and 'type="password"' in page
            assert "form-action 'self'" in response.headers["Content-Security-Policy"]

        response = await sign_in(http, worker.url, worker_env["PREAVIS_COMPLIANCE_TOKEN"])
        assert response.status == 303 and response.headers["Location"] == "/dashboard"
        assert_security_headers(response, "POST /signin")
        name, value, header = session_cookie(response)
        assert name == COOKIE  # http public URL: no Secure, no __Host- prefix
        attributes = {a.strip().split("=")[0].lower() for a in header.split(";")[1:]}
        assert {"httponly", "path", "max-age", "samesite"} <= attributes
        assert "secure" not in attributes
        assert "SameSite=Strict" in header and "Path=/" in header
        assert re.search(r"Max-Age=1200\b", header)  # PREAVIS_SESSION_MINUTES=20

        cookies = {"Cookie": f"{COOKIE}={value}"}
        async with http.get(worker.url + "/dashboard", headers=cookies) as response:
            assert response.status == 200
            assert "Compliance dashboard" in await response.text()
        async with http.get(worker.url + "/api/v1/campaigns", headers=cookies) as response:
            assert response.status == 200
        async with http.get(worker.url + "/signin", headers=cookies) as response:
            assert "compliance role (read only)" in await response.text()

        # a tampered cookie is nobody
        forged = {"Cookie": f"{COOKIE}={value[:-2]}AA"}
        async with http.get(worker.url + "/api/v1/campaigns", headers=forged) as response:
            assert response.status == 401

        # sign out: the cookie is deleted
        async with http.post(worker.url + "/signout", headers=cookies) as response:
            assert response.status == 200
            name, value, header = session_cookie(response)
            assert value == "" and "Max-Age=0" in header


async def test_compliance_reads_and_only_admin_acts_on_someones_behalf(
    worker: WorkerProcess, worker_env: dict[str, str]
) -> None:
    body = {"user_id": "someone", "purpose_id": "ai-training"}
    api = worker.url + "/api/v1/objections"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        compliance = worker_env["PREAVIS_COMPLIANCE_TOKEN"]
        async with http.post(
            api, json=body, headers={"Authorization": f"Bearer {compliance}"}
        ) as r:
            assert r.status == 401
        _, value, _ = session_cookie(await sign_in(http, worker.url, compliance))
        async with http.post(api, json=body, headers={"Cookie": f"{COOKIE}={value}"}) as r:
            assert r.status == 401
        for path in ("/api/v1/campaigns", "/api/v1/exclusions", "/api/v1/users/someone/notices"):
            async with http.get(worker.url + path, headers={"Cookie": f"{COOKIE}={value}"}) as r:
                assert r.status == 200, path

        _, admin_value, _ = session_cookie(
            await sign_in(http, worker.url, worker_env["PREAVIS_ADMIN_TOKEN"])
        )
        admin_cookie = {"Cookie": f"{COOKIE}={admin_value}"}
        # from another site, the admin's cookie does not count (CSRF)
        evil = {**admin_cookie, "Origin": "https://evil.example"}
        async with http.post(api, json=body, headers=evil) as r:
            assert r.status == 401
        cross = {**admin_cookie, "Sec-Fetch-Site": "cross-site"}
        async with http.post(api, json=body, headers=cross) as r:
            assert r.status == 401
        same = {**admin_cookie, "Origin": worker.url, "Sec-Fetch-Site": "same-origin"}
        async with http.post(api, json=body, headers=same) as r:
            assert r.status == 202
        # a sign-in form posted from another site is refused
        async with http.post(
            worker.url + "/signin",
            data={"token": worker_env["PREAVIS_ADMIN_TOKEN"]},
            headers={"Origin": "https://evil.example"},
            allow_redirects=False,
        ) as r:
            assert r.status == 403 and not r.headers.getall("Set-Cookie", [])

    records = await read_topic(
        names.TOPIC_OBJECTIONS, until=lambda rs: any(r.key == b"someone" for r in rs), timeout=20
    )
    time.sleep(2)  # anything the refused requests might have recorded would be there by now
    records = await read_topic(names.TOPIC_OBJECTIONS, settle=1.0, timeout=10)
    assert [r.json["channel"] for r in records if r.key == b"someone"] == ["api"]  # the admin's


async def test_wrong_tokens_are_slowed_down_then_refused_unchecked(
    worker: WorkerProcess, worker_env: dict[str, str]
) -> None:
    admin = worker_env["PREAVIS_ADMIN_TOKEN"]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        statuses = [(await sign_in(http, worker.url, f"guess-{i}")).status for i in range(5)]
        assert statuses == [401] * 5  # a person mistypes: the first few cost nothing
        assert (await sign_in(http, worker.url, "guess-5")).status == 401  # now shut out 1 s
        shut_out = await sign_in(http, worker.url, admin)
        assert shut_out.status == 429  # even the right token: it is not even checked
        assert int(shut_out.headers["Retry-After"]) >= 1
        assert not shut_out.headers.getall("Set-Cookie", [])
        # a bearer token from the shut-out client is refused unchecked too
        async with http.get(
            worker.url + "/api/v1/campaigns", headers={"Authorization": f"Bearer {admin}"}
        ) as response:
            assert response.status == 429
        time.sleep(1.2)
        assert (await sign_in(http, worker.url, "guess-6")).status == 401  # shut out 2 s now
        started = time.monotonic()
        while (response := await sign_in(http, worker.url, admin)).status == 429:
            time.sleep(0.2)
        assert response.status == 303 and time.monotonic() - started >= 1.5
        # the success wiped the record: a mistake is free again
        assert (await sign_in(http, worker.url, "guess-7")).status == 401
        assert (await sign_in(http, worker.url, admin)).status == 303


async def test_https_cookie_and_the_staff_proxy_header(
    https_worker: tuple[WorkerProcess, str], worker_env: dict[str, str]
) -> None:
    _, internal = https_worker
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        response = await sign_in(http, internal, worker_env["PREAVIS_ADMIN_TOKEN"])
        name, _, header = session_cookie(response)
        assert name == SECURE_COOKIE and "Secure" in header and "HttpOnly" in header
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")

        # the header from an untrusted address (127.0.0.1) is ignored: the form
        staff = {"X-Staff-User": "alice"}
        async with http.get(internal + "/signin", headers=staff, allow_redirects=False) as r:
            assert r.status == 200 and not r.headers.getall("Set-Cookie", [])

    # from the trusted proxy's address, it is exchanged for a read-only session
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.4", 0))
    async with aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar()
    ) as proxy:
        async with proxy.get(internal + "/signin", headers=staff, allow_redirects=False) as r:
            assert r.status == 303 and r.headers["Location"] == "/dashboard"
            name, value, _ = session_cookie(r)
        cookies = {"Cookie": f"{name}={value}"}
        async with proxy.get(internal + "/signin", headers=cookies) as r:
            assert "as alice with the compliance role" in await r.text()
        async with proxy.get(internal + "/dashboard", headers=cookies) as r:
            assert r.status == 200
