"""The local broker's configuration with and without the SASL_SSL listener (no JVM here).

The default ``preavis kafka up`` must render the same PLAINTEXT broker as
before the listener existed (the whole suite runs on it); with
``PREAVIS_KAFKA_SASL_PORT`` the listener, its PEM key store and SCRAM appear,
and ``client.env`` keeps the same password across runs (it is in the
cluster's metadata). The broker itself: tests/integration/test_kafka_security.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from streams.local import broker as localbroker
from streams.local import broker_sasl as sasl


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith("PREAVIS_KAFKA_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PREAVIS_KAFKA_HOME", str(tmp_path / "run"))
    return monkeypatch


def rendered(lay: localbroker.BrokerLayout) -> str:
    lay.run_dir.mkdir(parents=True, exist_ok=True)
    if lay.sasl is not None:
        sasl.prepare(lay.sasl)
    localbroker._write_config(lay)
    return lay.config_file.read_text(encoding="utf-8")


def settings_of(config: str) -> dict[str, str]:
    pairs = (line.partition("=") for line in config.splitlines() if line and line[0] != "#")
    return {key: value for key, _, value in pairs}


def test_the_default_broker_is_plaintext_only(env: pytest.MonkeyPatch) -> None:
    lay = localbroker.layout()
    assert lay.sasl_port is None and lay.sasl is None
    config = settings_of(rendered(lay))
    assert config["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
    assert config["advertised.listeners"] == "PLAINTEXT://127.0.0.1:9092"
    assert config["listener.security.protocol.map"] == "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
    assert not [key for key in config if "sasl" in key or "ssl" in key]
    assert sasl.format_args(lay.sasl) == []
    assert not (lay.run_dir / "security").exists()


def test_the_sasl_port_adds_a_scram_listener_over_tls(env: pytest.MonkeyPatch) -> None:
    env.setenv("PREAVIS_KAFKA_SASL_PORT", "29094")
    lay = localbroker.layout()
    assert lay.sasl is not None
    config = settings_of(rendered(lay))
    assert config["listeners"].endswith(",SASL_SSL://127.0.0.1:29094")
    assert config["advertised.listeners"] == (
        "PLAINTEXT://127.0.0.1:9092,SASL_SSL://127.0.0.1:29094"
    )
    assert config["listener.security.protocol.map"].endswith(",SASL_SSL:SASL_SSL")
    assert config["inter.broker.listener.name"] == "PLAINTEXT"
    assert config["sasl.enabled.mechanisms"] == "SCRAM-SHA-256,SCRAM-SHA-512"
    assert config["listener.name.sasl_ssl.ssl.keystore.type"] == "PEM"
    keystore = Path(config["listener.name.sasl_ssl.ssl.keystore.location"])
    assert (
        "BEGIN PRIVATE KEY" in keystore.read_text() and "BEGIN CERTIFICATE" in keystore.read_text()
    )
    assert keystore.stat().st_mode & 0o077 == 0

    client = sasl.read_client_env(lay.sasl.credentials_file)
    password = client.pop("PREAVIS_KAFKA_SASL_PASSWORD")
    assert len(password) >= 32
    assert client == {
        "PREAVIS_KAFKA_BOOTSTRAP": "127.0.0.1:29094",
        "PREAVIS_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "PREAVIS_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "PREAVIS_KAFKA_SASL_USERNAME": "preavis",
        "PREAVIS_KAFKA_SSL_CAFILE": str(lay.sasl.ca_file),
    }
    assert sasl.format_args(lay.sasl) == [
        "--add-scram",
        f"SCRAM-SHA-256=[name=preavis,password={password}]",
        "--add-scram",
        f"SCRAM-SHA-512=[name=preavis,password={password}]",
    ]


def test_a_second_run_keeps_the_certificate_and_the_password(env: pytest.MonkeyPatch) -> None:
    env.setenv("PREAVIS_KAFKA_SASL_PORT", "29094")
    first = localbroker.layout()
    assert first.sasl is not None
    assert sasl.prepare(first.sasl)  # made the CA and the user
    ca, password = first.sasl.ca_file.read_bytes(), sasl.read_password(first.sasl)
    sasl.mark_users_added(first.sasl)

    env.setenv("PREAVIS_KAFKA_SASL_PORT", "29095")  # another port, same run folder
    again = localbroker.layout()
    assert again.sasl is not None
    assert sasl.prepare(again.sasl) == []  # nothing new to make
    assert again.sasl.ca_file.read_bytes() == ca
    assert sasl.read_password(again.sasl) == password
    assert again.sasl.scram_marker.exists()
    assert "127.0.0.1:29095" in again.sasl.credentials_file.read_text()


def test_a_lost_password_is_made_again_and_added_again(env: pytest.MonkeyPatch) -> None:
    env.setenv("PREAVIS_KAFKA_SASL_PORT", "29094")
    lay = localbroker.layout()
    assert lay.sasl is not None
    sasl.prepare(lay.sasl)
    sasl.mark_users_added(lay.sasl)
    lay.sasl.credentials_file.unlink()
    assert sasl.prepare(lay.sasl) == ["made the SCRAM user 'preavis'"]
    # the cluster does not know the new password yet: `up` adds it with kafka-configs
    assert not lay.sasl.scram_marker.exists()


def test_a_running_broker_without_the_listener_is_reported(env: pytest.MonkeyPatch) -> None:
    lay = localbroker.layout()
    rendered(lay)  # started without the listener
    env.setenv("PREAVIS_KAFKA_SASL_PORT", "29094")
    with pytest.raises(localbroker.LocalBrokerError, match="without a SASL_SSL listener"):
        localbroker._check_listener_matches(localbroker.layout())
