"""Settings: the contract's defaults, validation that names the variable, secrets never shown."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from notifications.errors import MissingSetting
from streams.settings import Settings


def test_defaults_are_the_contracts(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("PREAVIS_"):
            monkeypatch.delenv(name)
    settings = Settings()
    assert settings.kafka_bootstrap == "127.0.0.1:9092"
    assert settings.topic_partitions == 8
    assert (settings.smtp_host, settings.smtp_port) == ("127.0.0.1", 2525)
    assert settings.smtp_username is None and settings.smtp_password is None
    assert settings.smtp_starttls is False
    assert settings.smtp_max_rate == 0
    assert settings.mail_from == "Privacy Team <privacy@localhost>"
    assert settings.public_url == "http://127.0.0.1:6066"
    assert settings.web_port == 6066
    assert settings.link_secret is None and settings.admin_token is None
    assert settings.min_notice_days == 30
    assert settings.store == "rocksdb://"


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREAVIS_KAFKA_BOOTSTRAP", "k1:9092, k2:9093")
    monkeypatch.setenv("PREAVIS_SMTP_STARTTLS", "true")
    monkeypatch.setenv("PREAVIS_PUBLIC_URL", "https://notices.example.com/")
    settings = Settings()
    assert settings.bootstrap_servers == ["k1:9092", "k2:9093"]
    assert settings.faust_broker_url == "kafka://k1:9092;k2:9093"
    assert settings.smtp_starttls is True
    assert settings.public_url == "https://notices.example.com"


@pytest.mark.parametrize(
    ("variable", "value", "field"),
    [
        ("PREAVIS_KAFKA_BOOTSTRAP", "no-port", "kafka_bootstrap"),
        ("PREAVIS_TOPIC_PARTITIONS", "0", "topic_partitions"),
        ("PREAVIS_SMTP_PORT", "70000", "smtp_port"),
        ("PREAVIS_PUBLIC_URL", "ftp://x", "public_url"),
        ("PREAVIS_STORE", "redis://", "store"),
        ("PREAVIS_MIN_NOTICE_DAYS", "-1", "min_notice_days"),
    ],
)
def test_invalid_values_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, field: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert caught.value.errors()[0]["loc"] == (field,)


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(ValidationError):
        settings.web_port = 1  # type: ignore[misc]


def test_secrets_never_show(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREAVIS_LINK_SECRET", "s3cr3t-link-0123456789")
    monkeypatch.setenv("PREAVIS_ADMIN_TOKEN", "s3cr3t-admin")
    monkeypatch.setenv("PREAVIS_SMTP_PASSWORD", "s3cr3t-smtp")
    settings = Settings()
    shown = repr(settings) + str(settings) + settings.model_dump_json()
    for secret in ("s3cr3t-link-0123456789", "s3cr3t-admin", "s3cr3t-smtp"):
        assert secret not in shown
    assert settings.require_link_secret().get_secret_value() == "s3cr3t-link-0123456789"


def test_short_link_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREAVIS_LINK_SECRET", "short")
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert caught.value.errors()[0]["loc"] == ("link_secret",)
    assert "short" not in str(caught.value)  # the refused value may be a secret


def test_worker_refuses_to_start_without_link_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREAVIS_LINK_SECRET", raising=False)
    with pytest.raises(MissingSetting, match="PREAVIS_LINK_SECRET"):
        Settings().require_link_secret()


def test_old_link_secrets_verify_and_never_sign(monkeypatch: pytest.MonkeyPatch) -> None:
    from notifications.links import TokenClaims, key_id, sign_token, verify_token

    monkeypatch.setenv("PREAVIS_LINK_SECRET", "n" * 32)
    monkeypatch.setenv("PREAVIS_LINK_SECRETS_OLD", " " + "o" * 32 + " , " + "p" * 40 + ",")
    settings = Settings()
    assert settings.old_link_secrets() == [b"o" * 32, b"p" * 40]
    keys = settings.link_keys()
    assert keys.signing_id == key_id(b"n" * 32)
    claims = TokenClaims("u-1", ("ai-training",), None)
    assert verify_token(keys, sign_token(b"p" * 40, claims)) == claims
    assert "o" * 32 not in repr(settings) + repr(keys)


def test_a_short_old_link_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREAVIS_LINK_SECRETS_OLD", "o" * 32 + ",short")
    with pytest.raises(ValidationError) as caught:
        Settings()
    error = caught.value.errors()[0]
    assert error["loc"] == ("link_secrets_old",) and "entry 2" in error["msg"]
    assert "short" not in str(caught.value).replace("shorter", "")


@pytest.mark.parametrize(
    ("env", "tls"),
    [
        ({}, "auto"),
        ({"PREAVIS_SMTP_STARTTLS": "true"}, "starttls"),
        ({"PREAVIS_SMTP_STARTTLS": "true", "PREAVIS_SMTP_TLS": "starttls"}, "starttls"),
        ({"PREAVIS_SMTP_TLS": "implicit"}, "implicit"),
        ({"PREAVIS_SMTP_TLS": "none"}, "none"),
    ],
)
def test_smtp_tls_reaches_the_pool(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], tls: str
) -> None:
    from streams.settings import smtp_config

    for name in ("PREAVIS_SMTP_STARTTLS", "PREAVIS_SMTP_TLS", "PREAVIS_SMTP_CA_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PREAVIS_SMTP_CA_FILE", "/etc/preavis/relay-ca.pem")
    config = smtp_config(Settings())
    assert (config.tls, config.ca_file) == (tls, "/etc/preavis/relay-ca.pem")


@pytest.mark.parametrize("tls", ["none", "implicit"])
def test_starttls_true_contradicting_smtp_tls_is_refused(
    monkeypatch: pytest.MonkeyPatch, tls: str
) -> None:
    monkeypatch.setenv("PREAVIS_SMTP_STARTTLS", "true")
    monkeypatch.setenv("PREAVIS_SMTP_TLS", tls)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert caught.value.errors()[0]["loc"] == ("smtp_tls",)
