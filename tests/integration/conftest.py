"""Integration tests run against the real broker that ``preavis kafka up`` starts."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from streams.local.mail_capture import start_capture
from streams.settings import Settings
from tests.support.kafka import BOOTSTRAP, broker_answers, reset_topics
from tests.support.smtp_server import free_port
from tests.support.worker import TEST_STORE, WorkerProcess, start_worker


@pytest.fixture(scope="session", autouse=True)
def _broker_is_up() -> None:
    if not asyncio.run(broker_answers()):
        pytest.fail(f"no Kafka broker on {BOOTSTRAP}: run `preavis kafka up` first")


@pytest.fixture
def worker_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a worker group private to this test."""
    return {
        "PREAVIS_APP_ID": f"preavis-test-{uuid.uuid4().hex[:10]}",
        "PREAVIS_TOPIC_PARTITIONS": "8",  # the default, so a demo after the tests finds its topics
        "PREAVIS_STORE": TEST_STORE,
        "PREAVIS_DATA_DIR": str(tmp_path / "data"),
        "PREAVIS_LINK_SECRET": "test-link-secret-" + uuid.uuid4().hex,
        "PREAVIS_DEVELOPMENT": "true",  # http/localhost URLs and test secrets allowed
        "PREAVIS_ADMIN_TOKEN": "test-admin-" + uuid.uuid4().hex,
        "PREAVIS_WEB_PORT": str(free_port()),
        "PREAVIS_DRAFTS_DIR": str(tmp_path / "drafts"),
    }


@pytest.fixture
def settings(worker_env: dict[str, str]) -> Settings:
    # keyword arguments, so that other PREAVIS_* variables (the broker) still apply
    values: dict[str, Any] = {k.removeprefix("PREAVIS_").lower(): v for k, v in worker_env.items()}
    return Settings(**values)


@pytest.fixture
async def clean_topics(settings: Settings) -> None:
    """Every contract topic, empty, with this test's partition count."""
    await reset_topics(settings)


@pytest.fixture
def mail_dir(tmp_path: Path) -> Path:
    """Where the test's mail catcher writes each email it receives."""
    return tmp_path / "mail"


@pytest.fixture
def smtp_worker(
    clean_topics: None, worker_env: dict[str, str], tmp_path: Path, mail_dir: Path
) -> Iterator[WorkerProcess]:
    """One running worker on empty topics, delivering to a mail catcher."""
    port = free_port()
    controller, _ = start_capture(mail_dir, port=port)
    env = {
        **worker_env,
        "PREAVIS_SMTP_PORT": str(port),
        "PREAVIS_MAIL_FROM": "Équipe vie privée <privacy@platform.example>",
        "PREAVIS_PUBLIC_URL": f"http://127.0.0.1:{worker_env['PREAVIS_WEB_PORT']}",
    }
    worker = start_worker(env, tmp_path)
    try:
        worker.wait_healthy()
        yield worker
    finally:
        worker.stop()
        controller.stop()


@pytest.fixture
def worker(
    clean_topics: None, worker_env: dict[str, str], tmp_path: Path
) -> Iterator[WorkerProcess]:
    """One running worker on empty topics."""
    process = start_worker(worker_env, tmp_path)
    try:
        process.wait_healthy()
        yield process
    finally:
        process.stop()
