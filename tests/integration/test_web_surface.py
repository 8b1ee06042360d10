"""What a running worker serves, and where: black-box, over HTTP, on the real broker.

- Faust's built-in pages (``/table/...``, ``/router/...``, ``/``, statistics)
  answer 404 with no data, even for a user the directory holds;
- the server listens only on the configured addresses;
- with ``PREAVIS_ADMIN_PORT`` the public port serves only the public face and
  the admin port only the internal one;
- every response carries the security headers.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from notifications import topic_names as names
from tests import examples
from tests.support.kafka import produce
from tests.support.mail import received
from tests.support.smtp_server import free_port
from tests.support.worker import WorkerProcess, start_worker

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
NOT_FOUND_BODY = "404: Not Found"
FAUST_PATHS = [
    "/",
    "/table/",
    "/table/directory/",
    "/table/directory/web-1/",
    "/table/objections/web-1/",
    "/router/",
    "/router/directory/web-1/",
    "/stats/",
    "/assignment/",
    "/graph/",
    "/performance/",
    "/signal/",
    "/api/v1/",
    "/api/v1/objections/",
    "/o/",
    "/dashboard/../table/",
]


def wait_for(url: str, process: WorkerProcess, timeout: float = 90) -> None:
    """Until ``url`` answers 200 (the worker's web server starts after recovery)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.process.poll() is not None:
            raise RuntimeError(f"worker exited:\n{process.log()[-5000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} never answered:\n{process.log()[-5000:]}")


def refuses(host: str, port: int) -> bool:
    """Whether nothing listens on ``host:port`` (connection refused)."""
    try:
        urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=3)
    except urllib.error.HTTPError:
        return False  # something answered
    except (urllib.error.URLError, OSError):
        return True
    return False


def non_loopback_addresses() -> list[str]:
    """This machine's other addresses (``hostname -I``), IPv4 only."""
    out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, check=False).stdout
    return [a for a in out.split() if "." in a and not a.startswith("127.")]


def assert_security_headers(response: aiohttp.ClientResponse, what: str) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (what, name, dict(response.headers))
    assert "frame-ancestors 'none'" in response.headers.get("Content-Security-Policy", ""), what
    assert "aiohttp" not in response.headers.get("Server", ""), what


@pytest.fixture
def split_worker(
    clean_topics: None, worker_env: dict[str, str], tmp_path: Path
) -> Iterator[tuple[WorkerProcess, str, str]]:
    """A worker whose public face is on 127.0.0.2 and internal face on 127.0.0.3."""
    admin_port = free_port()
    env = {
        **worker_env,
        "PREAVIS_WEB_HOST": "127.0.0.2",
        "PREAVIS_ADMIN_HOST": "127.0.0.3",
        "PREAVIS_ADMIN_PORT": str(admin_port),
        "PREAVIS_PUBLIC_URL": "https://preavis.example",
    }
    process = start_worker(env, tmp_path, "split-worker")
    public = f"http://127.0.0.2:{worker_env['PREAVIS_WEB_PORT']}"
    internal = f"http://127.0.0.3:{admin_port}"
    try:
        wait_for(internal + "/healthz", process)
        yield process, public, internal
    finally:
        process.stop()


async def test_faust_pages_answer_404_with_no_data(
    smtp_worker: WorkerProcess, mail_dir: Path, worker_env: dict[str, str]
) -> None:
    user = examples.user_upserted(user_id="web-1", email="web1@example.org", country="FR")
    await produce(names.TOPIC_USERS, [(b"web-1", json.dumps(user).encode())])
    now = datetime.now(UTC)
    purpose = examples.purpose_declared(
        published_at=now.isoformat(), starts_at=(now + timedelta(days=45)).isoformat()
    )
    await produce(names.TOPIC_PURPOSES, [(b"ai-training", json.dumps(purpose).encode())])
    assert len(received(mail_dir, 1)) == 1  # the directory holds web-1 now

    admin = {"Authorization": f"Bearer {worker_env['PREAVIS_ADMIN_TOKEN']}"}
    async with aiohttp.ClientSession() as http:
        for path in FAUST_PATHS:
            for headers in ({}, admin):  # not even with the admin token
                async with http.get(smtp_worker.url + path, headers=headers) as response:
                    body = await response.text()
                    assert response.status == 404, (path, body)
                    assert body == NOT_FOUND_BODY, path
                    assert "web1@example.org" not in body and "1990" not in body
                    assert_security_headers(response, path)
        # the contract's routes are still there
        async with http.get(smtp_worker.url + "/api/v1/campaigns", headers=admin) as response:
            assert response.status == 200
        async with http.get(smtp_worker.url + "/object") as response:
            assert response.status == 200


async def test_listens_only_where_configured_and_splits_the_faces(
    split_worker: tuple[WorkerProcess, str, str], worker_env: dict[str, str]
) -> None:
    process, public, internal = split_worker
    web_port = int(worker_env["PREAVIS_WEB_PORT"])
    admin_port = int(internal.rsplit(":", 1)[1])

    # bound to the configured addresses only: not 127.0.0.1, not the machine's own IP
    assert not refuses("127.0.0.2", web_port) and not refuses("127.0.0.3", admin_port)
    for host in ["127.0.0.1", "127.0.0.4", *non_loopback_addresses()]:
        assert refuses(host, web_port), host
        assert refuses(host, admin_port), host
    assert refuses("127.0.0.2", admin_port) and refuses("127.0.0.3", web_port)

    admin = {"Authorization": f"Bearer {worker_env['PREAVIS_ADMIN_TOKEN']}"}
    internal_paths = [
        "/dashboard",
        "/api/v1/campaigns",
        "/api/v1/campaigns/purpose:ai-training:v1",
        "/api/v1/users/u-1/notices",
        "/api/v1/exclusions",
        "/metrics",
        "/healthz",
        "/signin",
        "/signout",
    ]
    async with aiohttp.ClientSession() as http:
        for path in internal_paths:
            async with http.get(public + path, headers=admin, allow_redirects=False) as response:
                assert response.status == 404, path
                assert await response.text() == NOT_FOUND_BODY, path
                assert_security_headers(response, "public " + path)
            async with http.get(internal + path, headers=admin, allow_redirects=False) as response:
                assert response.status in (200, 303, 404), path
                if path != "/api/v1/campaigns/purpose:ai-training:v1":  # 404: no such campaign
                    assert response.status in (200, 303), path
                assert_security_headers(response, "internal " + path)
        for path in ["/object", "/o/not-a-token", "/table/", "/"]:
            async with http.get(internal + path, headers=admin) as response:
                assert response.status == 404, path
                assert await response.text() == NOT_FOUND_BODY, path
        async with http.get(public + "/object") as response:
            assert response.status == 200
            assert_security_headers(response, "/object")
        # the Art. 21(5) API is public; the admin's variant works there with the token
        body = {"user_id": "u-1", "purpose_id": "ai-training"}
        async with http.post(public + "/api/v1/objections", json=body, headers=admin) as response:
            assert response.status == 202
            assert_security_headers(response, "POST /api/v1/objections")
        async with http.post(internal + "/api/v1/objections", json=body, headers=admin) as response:
            assert response.status == 404
    assert "Serving HTTP on 127.0.0.2" in process.log()


async def test_every_response_carries_the_security_headers(
    worker: WorkerProcess, worker_env: dict[str, str]
) -> None:
    admin = {"Authorization": f"Bearer {worker_env['PREAVIS_ADMIN_TOKEN']}"}
    requests = [
        ("GET", "/healthz", {}, 200),
        ("GET", "/metrics", {}, 200),
        ("GET", "/api/v1/campaigns", admin, 200),
        ("GET", "/api/v1/campaigns", {}, 401),
        ("GET", "/api/v1/exclusions", admin, 200),  # streamed
        ("GET", "/api/v1/users/u-1/notices", admin, 200),
        ("GET", "/dashboard", admin, 200),
        ("GET", "/dashboard", {}, 303),
        ("GET", "/signin", {}, 200),
        ("GET", "/object", {}, 200),
        ("GET", "/o/forged", {}, 404),
        ("GET", "/nothing/here", {}, 404),
        ("POST", "/api/v1/objections", {}, 401),
        ("DELETE", "/dashboard", admin, 404),
    ]
    async with aiohttp.ClientSession() as http:
        for method, path, headers, status in requests:
            async with http.request(
                method, worker.url + path, headers=headers, json={}, allow_redirects=False
            ) as response:
                await response.read()
                assert response.status == status, (method, path)
                assert_security_headers(response, f"{method} {path}")
        async with http.get(worker.url + "/dashboard", headers=admin) as response:
            assert "style-src 'sha256-" in response.headers["Content-Security-Policy"]
