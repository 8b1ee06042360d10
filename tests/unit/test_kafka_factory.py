"""streams.kafka: the one Kafka client factory, and that nothing else builds clients.

No broker here: what is checked is what the factory hands to aiokafka and to
Faust, that it refuses incomplete settings naming the variable, and that its
TLS context verifies (host name included) a certificate made by
``preavis kafka up``'s SASL_SSL listener, in a real TLS handshake in memory.
The real broker's side is tests/integration/test_kafka_security.py.
"""

from __future__ import annotations

import os
import re
import socket
import ssl
import threading
from pathlib import Path
from typing import Any

import faust
import pytest
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

from streams import kafka
from streams.local.broker_sasl import SaslListener, prepare
from streams.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CONSTRUCTION = re.compile(r"\bAIOKafka(Consumer|Producer|AdminClient|Client)\s*\(")


@pytest.fixture(autouse=True)
def _no_kafka_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("PREAVIS_KAFKA_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def listener(tmp_path_factory: pytest.TempPathFactory) -> SaslListener:
    """A CA and a broker certificate as ``preavis kafka up`` makes them (openssl)."""
    made = SaslListener(run_dir=tmp_path_factory.mktemp("broker"), port=9094, host="127.0.0.1")
    prepare(made)
    return made


def sasl_ssl(cafile: Path | None = None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "kafka_bootstrap": "k1:9094,k2:9094",
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_mechanism": "SCRAM-SHA-512",
        "kafka_sasl_username": "preavis",
        "kafka_sasl_password": "s3cret-password",
        "kafka_ssl_cafile": str(cafile) if cafile else None,
    }
    return Settings(**{**values, **overrides})


def test_no_aiokafka_client_is_built_outside_the_factory() -> None:
    offenders = []
    for folder in ("streams", "bench"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == ROOT / "streams" / "kafka.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if CONSTRUCTION.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "use streams.kafka.consumer/producer/admin:\n" + "\n".join(offenders)


def test_plaintext_by_default() -> None:
    settings = Settings()
    assert kafka.client_kwargs(settings) == {
        "bootstrap_servers": ["127.0.0.1:9092"],
        "security_protocol": "PLAINTEXT",
    }
    assert kafka.faust_credentials(settings) is None
    assert kafka.ssl_context(settings) is None


def test_sasl_ssl_gives_aiokafka_every_argument(listener: SaslListener) -> None:
    kwargs = kafka.client_kwargs(sasl_ssl(listener.ca_file))
    context = kwargs.pop("ssl_context")
    assert kwargs == {
        "bootstrap_servers": ["k1:9094", "k2:9094"],
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "preavis",
        "sasl_plain_password": "s3cret-password",
    }
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_sasl_plaintext_has_no_tls() -> None:
    kwargs = kafka.security_kwargs(sasl_ssl(kafka_security_protocol="SASL_PLAINTEXT"))
    assert kwargs["security_protocol"] == "SASL_PLAINTEXT"
    assert "ssl_context" not in kwargs


async def test_clients_are_built_with_the_security(listener: SaslListener) -> None:
    settings = sasl_ssl(listener.ca_file)
    consumer = kafka.consumer(settings, "users", enable_auto_commit=False)
    producer = kafka.producer(settings, acks="all")
    admin = kafka.admin(settings)
    for client in (consumer._client, producer.client, admin._client):
        assert client._security_protocol == "SASL_SSL"
        assert client._sasl_mechanism == "SCRAM-SHA-512"
        assert client._sasl_plain_username == "preavis"
        assert client._ssl_context is not None
    with pytest.raises(TypeError, match="bootstrap_servers"):
        kafka.consumer(settings, bootstrap_servers=["elsewhere:9092"])


@pytest.mark.parametrize("protocol", ["SASL_SSL", "SASL_PLAINTEXT", "SSL"])
def test_faust_gets_the_same_security_as_the_hand_built_clients(
    listener: SaslListener, protocol: str
) -> None:
    if protocol == "SSL":
        settings = Settings(kafka_security_protocol="SSL", kafka_ssl_cafile=str(listener.ca_file))
    else:
        settings = sasl_ssl(listener.ca_file if protocol == "SASL_SSL" else None)
        settings = settings.model_copy(update={"kafka_security_protocol": protocol})
    credentials = kafka.faust_credentials(settings)
    assert credentials is not None
    # what Faust's producer, worker consumer and topic creation hand to aiokafka
    faust_kwargs = dict(credentials_to_aiokafka_auth(credentials, None))
    ours = kafka.security_kwargs(settings)
    assert (faust_kwargs.pop("ssl_context") is None) == (ours.pop("ssl_context", None) is None)
    assert faust_kwargs == ours
    assert "s3cret-password" not in repr(credentials)


def test_the_worker_app_carries_the_credentials(tmp_path: Path, listener: SaslListener) -> None:
    from streams.app import create_app

    settings = sasl_ssl(
        listener.ca_file,
        store="memory://",
        data_dir=str(tmp_path),
        app_id="preavis-unit-kafka",
        link_secret="unit-link-secret-" + "x" * 32,
        admin_token="unit-admin-token-" + "y" * 32,
    )
    app = create_app(settings)
    credentials = app.conf.broker_credentials
    assert isinstance(credentials, faust.SASLCredentials)
    auth = credentials_to_aiokafka_auth(credentials, app.conf.ssl_context)
    assert auth["security_protocol"] == "SASL_SSL"
    assert auth["sasl_mechanism"] == "SCRAM-SHA-512"
    assert auth["sasl_plain_username"] == "preavis"


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"kafka_sasl_mechanism": None}, "PREAVIS_KAFKA_SASL_MECHANISM"),
        ({"kafka_sasl_username": None}, "PREAVIS_KAFKA_SASL_USERNAME"),
        ({"kafka_sasl_password": None}, "PREAVIS_KAFKA_SASL_PASSWORD"),
        ({"kafka_sasl_password": ""}, "PREAVIS_KAFKA_SASL_PASSWORD"),
        ({"kafka_ssl_cafile": "/nonexistent/ca.pem"}, "PREAVIS_KAFKA_SSL_CAFILE"),
        ({"kafka_ssl_certfile": "/nonexistent/client.pem"}, "PREAVIS_KAFKA_SSL_CERTFILE"),
        ({"kafka_ssl_keyfile": "/nonexistent/client.key"}, "PREAVIS_KAFKA_SSL_KEYFILE"),
        (
            {"kafka_security_protocol": "PLAINTEXT", "kafka_ssl_cafile": None},
            "PREAVIS_KAFKA_SASL_MECHANISM",
        ),
        (
            {"kafka_security_protocol": "SASL_PLAINTEXT"},
            "PREAVIS_KAFKA_SSL_CAFILE",
        ),
    ],
)
def test_incomplete_settings_name_the_variable(
    listener: SaslListener, overrides: dict[str, Any], variable: str
) -> None:
    settings = sasl_ssl(listener.ca_file, **overrides)
    with pytest.raises(kafka.KafkaSettingError) as caught:
        kafka.client_kwargs(settings)
    assert caught.value.variable == variable
    assert str(caught.value).startswith(variable)
    assert "s3cret-password" not in str(caught.value)
    with pytest.raises(kafka.KafkaSettingError):
        kafka.faust_credentials(settings)


def test_a_key_needs_its_certificate(listener: SaslListener) -> None:
    settings = sasl_ssl(listener.ca_file, kafka_ssl_keyfile=str(listener.ca_key))
    with pytest.raises(kafka.KafkaSettingError, match=r"^PREAVIS_KAFKA_SSL_CERTFILE"):
        kafka.ssl_context(settings)


def test_a_file_that_is_no_certificate_is_named(tmp_path: Path) -> None:
    garbage = tmp_path / "ca.pem"
    garbage.write_text("not a certificate\n")
    settings = Settings(kafka_security_protocol="SSL", kafka_ssl_cafile=str(garbage))
    with pytest.raises(kafka.KafkaSettingError, match=r"^PREAVIS_KAFKA_SSL_CAFILE"):
        kafka.ssl_context(settings)


def test_the_context_verifies_the_local_brokers_certificate(listener: SaslListener) -> None:
    """A real handshake: the broker's certificate, our CA, the host name 127.0.0.1."""
    client = kafka.ssl_context(
        Settings(kafka_security_protocol="SSL", kafka_ssl_cafile=str(listener.ca_file))
    )
    assert client is not None
    assert _handshake(listener, client, "127.0.0.1") is None
    # without the CA (the system's trust store) the certificate is refused
    system = kafka.ssl_context(Settings(kafka_security_protocol="SSL"))
    assert system is not None
    assert isinstance(_handshake(listener, system, "127.0.0.1"), ssl.SSLCertVerificationError)
    # and a name the certificate was not made for is refused too
    assert isinstance(_handshake(listener, client, "kafka.example"), ssl.SSLCertVerificationError)


def _handshake(listener: SaslListener, client: ssl.SSLContext, name: str) -> Exception | None:
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(listener.keystore)  # the key and its certificate, one PEM file
    left, right = socket.socketpair()

    def serve() -> None:
        try:
            with server.wrap_socket(right, server_side=True):
                pass
        except (ssl.SSLError, OSError):
            pass

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with client.wrap_socket(left, server_hostname=name):
            return None
    except ssl.SSLError as exc:
        return exc
    finally:
        left.close()
        thread.join(5)
        right.close()
