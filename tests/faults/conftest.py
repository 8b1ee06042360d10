"""Fixtures of the fault-injection suite: the real broker, a real relay, real workers.

Every test gets its own consumer group and tables (``PREAVIS_APP_ID``), the
contract's topics emptied, a real aiosmtpd relay (:class:`Mailbox`) and a
:class:`Workers` that starts ``preavis worker`` processes and makes sure none
outlives the test. The broker is the one ``PREAVIS_KAFKA_BOOTSTRAP`` names
(127.0.0.1:9092 by default); the broker-restart test stops and starts it with
``streams.local.broker`` (``PREAVIS_KAFKA_HOME``, ``PREAVIS_KAFKA_PORT``...).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from streams.runtime.offset_gaps import GAP_MESSAGE
from streams.settings import Settings
from tests.faults.support import FIGURES, Mailbox
from tests.integration.conftest import _broker_is_up
from tests.support.kafka import reset_topics
from tests.support.smtp_server import SmtpServer, free_port
from tests.support.worker import TEST_STORE, WorkerProcess, start_worker

__all__ = ["_broker_is_up"]  # autouse, session: fails the run when the broker is down

#: How fast the group notices a worker that died without leaving (SIGKILL):
#: Faust's default session timeout is 60 s; a production deployment may keep
#: it, the tests shorten it so that a takeover fits their time budget.
GROUP_TIMEOUTS = {
    "BROKER_SESSION_TIMEOUT": "10",
    "BROKER_HEARTBEAT_INTERVAL": "1",
}


@pytest.fixture
def worker_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a worker group private to this test."""
    return {
        "PREAVIS_APP_ID": f"preavis-faults-{uuid.uuid4().hex[:10]}",
        "PREAVIS_TOPIC_PARTITIONS": "8",
        "PREAVIS_STORE": TEST_STORE,
        "PREAVIS_DATA_DIR": str(tmp_path / "data"),
        "PREAVIS_LINK_SECRET": "faults-link-secret-" + uuid.uuid4().hex,
        "PREAVIS_DEVELOPMENT": "true",  # http/localhost URLs and test secrets allowed
        "PREAVIS_ADMIN_TOKEN": "faults-admin-" + uuid.uuid4().hex,
        "PREAVIS_MAIL_FROM": "Privacy Team <privacy@platform.example>",
        **GROUP_TIMEOUTS,
    }


@pytest.fixture
def settings(worker_env: dict[str, str]) -> Settings:
    values: dict[str, Any] = {
        k.removeprefix("PREAVIS_").lower(): v
        for k, v in worker_env.items()
        if k.startswith("PREAVIS_")
    }
    return Settings(**values)


@pytest.fixture
async def clean_topics(settings: Settings) -> None:
    """Every contract topic, empty, with this test's partition count."""
    await reset_topics(settings)


@pytest.fixture
def relay() -> Iterator[SmtpServer]:
    """A real SMTP relay (aiosmtpd) on a free port, keeping what it accepted."""
    server = SmtpServer(Mailbox())
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Workers:
    """Starts ``preavis worker`` processes for one test; stops whatever still runs."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.started: list[WorkerProcess] = []

    def start(self, name: str, **extra: str) -> WorkerProcess:
        port = free_port()
        env = {
            **self.env,
            "PREAVIS_WEB_PORT": str(port),
            "PREAVIS_PUBLIC_URL": f"http://127.0.0.1:{port}",
            **extra,
        }
        worker = start_worker(env, self.log_dir, name)
        self.started.append(worker)
        return worker

    def start_healthy(self, name: str, **extra: str) -> WorkerProcess:
        worker = self.start(name, **extra)
        worker.wait_healthy(120)
        return worker

    def logs(self) -> str:
        return "\n".join(f"===== {w.log_path.name}\n{w.log()}" for w in self.started)

    def stop_all(self) -> None:
        for worker in self.started:
            worker.stop(20)


@pytest.fixture
def workers(clean_topics: None, worker_env: dict[str, str], tmp_path: Path) -> Iterator[Workers]:
    group = Workers(worker_env, tmp_path)
    try:
        yield group
    finally:
        group.stop_all()
    # a record dropped between the fetcher and a job agent is a silent loss
    # even when the test's own count happens to come out right
    dropped = [line for line in group.logs().splitlines() if GAP_MESSAGE in line]
    assert not dropped, "\n".join(dropped[:10])


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The figures of every fault test that ran, for the README's table."""
    if not FIGURES:
        return
    terminalreporter.section("fault-injection figures")
    for figures in FIGURES:
        terminalreporter.write_line("  ".join(f"{key}={value}" for key, value in figures.items()))
