"""``preavis demo`` stops its children on SIGTERM as it does on Ctrl-C.

Tried as a new user would, ``kill PID`` of the demo once left its worker
running; that orphan later joined the next broker to answer on the same port
and worked its campaigns there. Here the demo runs on the suite's broker (it
empties the contract's topics, as the integration tests' fixtures do), with
free web and SMTP ports, in a folder of its own; once its worker answers
``/healthz``, the demo gets SIGTERM, and the worker must be gone with it.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from streams.local import broker as localbroker
from tests.support.kafka import BOOTSTRAP
from tests.support.smtp_server import free_port

pytestmark = pytest.mark.integration

DEMO_APPS = "preavis-demo-"


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


async def topics() -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def delete_topics(names: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        await admin.delete_topics(names)
    finally:
        await admin.close()


@pytest.fixture
def demo_topics_removed() -> Iterator[None]:
    """The changelogs of the demo's own app id go after the test."""
    before = asyncio.run(topics())
    yield
    left = sorted(n for n in asyncio.run(topics()) - before if n.startswith(DEMO_APPS))
    if left:
        asyncio.run(delete_topics(left))


def test_sigterm_stops_the_demo_and_its_worker(tmp_path: Path, demo_topics_removed: None) -> None:
    running, message = localbroker.status()
    if not running or localbroker.layout().bootstrap != BOOTSTRAP:
        pytest.skip(f"the demo starts the local broker; the suite's is elsewhere ({message})")
    web_port = free_port()
    env = {
        **os.environ,
        "PREAVIS_WEB_PORT": str(web_port),
        "PREAVIS_SMTP_PORT": str(free_port()),
        "PREAVIS_PUBLIC_URL": f"http://127.0.0.1:{web_port}",
        "PREAVIS_DATA_DIR": str(tmp_path / "data"),
        "PYTHONUNBUFFERED": "1",
    }
    output = tmp_path / "demo.out"
    with output.open("wb") as out:
        demo = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "demo", "--exit"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    worker_pid: int | None = None
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and demo.poll() is None:
            found = re.search(r"worker pid (\d+)", output.read_text())
            if found and answers(f"http://127.0.0.1:{web_port}/healthz"):
                worker_pid = int(found.group(1))
                break
            time.sleep(0.3)
        assert worker_pid is not None, output.read_text()
        assert alive(worker_pid)

        demo.send_signal(signal.SIGTERM)
        demo.wait(40)
        deadline = time.monotonic() + 5
        while alive(worker_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(worker_pid), "the demo's worker outlived the demo"
        assert demo.returncode == 130, output.read_text()
        assert "demo stopped (SIGTERM)" in output.read_text()
        assert "Traceback" not in output.read_text()
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
        if worker_pid is not None and alive(worker_pid):
            os.kill(worker_pid, signal.SIGKILL)
