"""A worker end to end through SASL_SSL, on a broker that `preavis kafka up` secured.

The suite's main broker stays PLAINTEXT. This module starts a second one with
the project's own command, in its own ``PREAVIS_KAFKA_HOME`` and on its own
ports, with ``PREAVIS_KAFKA_SASL_PORT`` set: a SASL_SSL listener with a test
CA and a SCRAM user, whose settings ``client.env`` holds. The worker gets
exactly those settings (no bootstrap but the SASL_SSL port), delivers a notice
to a real SMTP server, and turns the objection made through the emailed link
into an exclusion on ``training.exclusions``; clients without the CA, without
a login or with a wrong password are refused by the broker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiokafka.errors import KafkaConnectionError

from notifications import topic_names as names
from streams import kafka
from streams.admin import ensure_topics
from streams.local.broker_sasl import read_client_env
from streams.local.mail_capture import start_capture
from streams.settings import Settings
from tests import examples
from tests.support.kafka import produce, read_topic
from tests.support.mail import objection_link, received
from tests.support.smtp_server import free_port
from tests.support.worker import TEST_STORE, start_worker

pytestmark = pytest.mark.integration

PREAVIS = str(Path(sys.executable).with_name("preavis"))


@dataclass(frozen=True)
class SecuredBroker:
    """The secured broker's client settings, as ``client.env`` gives them."""

    client_env: dict[str, str]
    plaintext_bootstrap: str

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            k.removeprefix("PREAVIS_").lower(): v for k, v in self.client_env.items()
        }
        return Settings(**{**values, **overrides})


def _kafka(action: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [PREAVIS, "kafka", action],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    assert done.returncode == 0, f"preavis kafka {action}: {done.stdout}{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredBroker]:
    home = tmp_path_factory.mktemp("kafka-sasl")
    port, controller, sasl_port = free_port(), free_port(), free_port()
    env = {
        "PREAVIS_KAFKA_HOME": str(home),
        "PREAVIS_KAFKA_PORT": str(port),
        "PREAVIS_KAFKA_CONTROLLER_PORT": str(controller),
        "PREAVIS_KAFKA_SASL_PORT": str(sasl_port),
    }
    try:
        said = _kafka("up", env)
        credentials = home / "security" / "client.env"
        assert str(credentials) in said and str(home / "security" / "ca.pem") in said
        assert credentials.stat().st_mode & 0o077 == 0  # the password file is private
        assert f"SASL_SSL (SCRAM) on 127.0.0.1:{sasl_port}" in _kafka("status", env)
        yield SecuredBroker(read_client_env(credentials), f"127.0.0.1:{port}")
    finally:
        _kafka("down", env)


async def test_a_worker_delivers_and_excludes_through_sasl_ssl(
    secured: SecuredBroker, tmp_path: Path
) -> None:
    connection = secured.settings()
    assert connection.kafka_security_protocol == "SASL_SSL"
    assert connection.kafka_sasl_mechanism == "SCRAM-SHA-512"
    await ensure_topics(connection)

    mail_dir = tmp_path / "mail"
    smtp_port = free_port()
    controller, _ = start_capture(mail_dir, port=smtp_port)
    web_port = free_port()
    env = {
        # the worker knows the cluster only by its SASL_SSL listener
        **secured.client_env,
        # the other mechanism than the test's own clients: both SCRAM users work
        "PREAVIS_KAFKA_SASL_MECHANISM": "SCRAM-SHA-256",
        "PREAVIS_APP_ID": f"preavis-test-{uuid.uuid4().hex[:10]}",
        "PREAVIS_STORE": TEST_STORE,
        "PREAVIS_DATA_DIR": str(tmp_path / "data"),
        "PREAVIS_DRAFTS_DIR": str(tmp_path / "drafts"),
        "PREAVIS_LINK_SECRET": "test-link-secret-" + uuid.uuid4().hex,
        "PREAVIS_ADMIN_TOKEN": "test-admin-" + uuid.uuid4().hex,
        "PREAVIS_WEB_PORT": str(web_port),
        "PREAVIS_PUBLIC_URL": f"http://127.0.0.1:{web_port}",
        "PREAVIS_SMTP_PORT": str(smtp_port),
        "PREAVIS_MAIL_FROM": "Privacy Team <privacy@platform.example>",
        "PREAVIS_DEVELOPMENT": "true",
    }
    worker = start_worker(env, tmp_path)
    try:
        worker.wait_healthy(timeout=120)
        ines = examples.user_upserted(
            user_id="ines", email="ines@example.fr", locale="fr", country="FR", birth_year=1985
        )
        await produce(
            names.TOPIC_USERS, [(b"ines", json.dumps(ines).encode())], connection=connection
        )
        now = datetime.now(UTC)
        purpose = examples.purpose_declared(
            published_at=now.isoformat(), starts_at=(now + timedelta(days=45)).isoformat()
        )
        await produce(
            names.TOPIC_PURPOSES,
            [(str(purpose["purpose_id"]).encode(), json.dumps(purpose).encode())],
            connection=connection,
        )

        [notice] = received(mail_dir, 1)
        assert str(notice["To"]) == "ines@example.fr"
        deliveries = await read_topic(
            names.TOPIC_DELIVERY, until=lambda rs: len(rs) >= 1, timeout=30, connection=connection
        )
        assert [(r.key, r.json["status"]) for r in deliveries] == [(b"ines", "sent")]
        assert deliveries[0].json["message_id"] == notice["Message-ID"]

        async with aiohttp.ClientSession() as http, http.post(objection_link(notice)) as answer:
            assert answer.status == 200
        exclusions = await read_topic(
            names.TOPIC_EXCLUSIONS, until=lambda rs: len(rs) >= 1, timeout=30, connection=connection
        )
        assert exclusions[0].key == b"ines"
        assert exclusions[0].json["reasons"] == {purpose["purpose_id"]: "objection"}
    finally:
        worker.stop()
        controller.stop()
    log = worker.log()
    assert secured.client_env["PREAVIS_KAFKA_SASL_PASSWORD"] not in log
    assert "ines@example.fr" not in log


@pytest.mark.parametrize(
    ("who", "overrides"),
    [
        (
            "no TLS, no login",
            {
                "kafka_security_protocol": "PLAINTEXT",
                "kafka_sasl_mechanism": None,
                "kafka_sasl_username": None,
                "kafka_sasl_password": None,
                "kafka_ssl_cafile": None,
            },
        ),
        (
            "TLS without a login",
            {
                "kafka_security_protocol": "SSL",
                "kafka_sasl_mechanism": None,
                "kafka_sasl_username": None,
                "kafka_sasl_password": None,
            },
        ),
        ("a wrong password", {"kafka_sasl_password": "not-the-password"}),
        ("an unknown user", {"kafka_sasl_username": "mallory"}),
        ("no trust in the test CA", {"kafka_ssl_cafile": None}),
    ],
)
async def test_clients_without_the_credentials_are_refused(
    secured: SecuredBroker, who: str, overrides: dict[str, Any]
) -> None:
    admin = kafka.admin(secured.settings(**overrides), request_timeout_ms=5000)
    with pytest.raises(KafkaConnectionError):
        try:
            await admin.start()
            await admin.list_topics()
        finally:
            await admin.close()


async def test_the_right_credentials_are_let_in(secured: SecuredBroker) -> None:
    for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-512"):
        admin = kafka.admin(secured.settings(kafka_sasl_mechanism=mechanism))
        await admin.start()
        try:
            assert isinstance(await admin.list_topics(), list)
        finally:
            await admin.close()
