"""The one configuration object of preavis.

Every variable of CONTRACT.md ("Configuration") lives here, read once from the
environment at the entry point and then passed down explicitly: no module reads
``os.environ`` on its own, so a test can build a worker with any settings it
likes without patching anything. Secrets are ``SecretStr`` so that printing or
logging the settings never shows them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from notifications.errors import MissingSetting
from notifications.links import MIN_SECRET_BYTES, LinkKeys
from notifications.smtp import SmtpConfig, SmtpTls

Port = Annotated[int, Field(ge=1, le=65535)]


class Settings(BaseSettings):
    """Frozen, typed settings; environment variables carry the ``PREAVIS_`` prefix."""

    model_config = SettingsConfigDict(
        env_prefix="PREAVIS_",
        frozen=True,
        extra="ignore",
        case_sensitive=False,
        # A refused value may be a secret (a short PREAVIS_LINK_SECRET): errors
        # name the variable and the rule, never the value.
        hide_input_in_errors=True,
    )

    kafka_bootstrap: str = "127.0.0.1:9092"
    # Every Kafka client of preavis (Faust's and the hand-built aiokafka ones)
    # is made by streams.kafka from these, so one setting secures them all.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: str | None = None
    kafka_ssl_certfile: str | None = None
    kafka_ssl_keyfile: str | None = None
    topic_partitions: int = Field(default=8, ge=1, le=1024)
    # Not in the contract's table (fields may be added): 1 suits the local
    # single-node broker; production clusters want 3.
    topic_replication: int = Field(default=1, ge=1, le=7)

    smtp_host: str = "127.0.0.1"
    smtp_port: Port = 2525
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    # true: STARTTLS is required (a relay that does not offer it fails).
    smtp_starttls: bool = False
    # Not in the contract's table: how SMTP is encrypted. ``auto`` upgrades
    # with STARTTLS whenever the relay offers it (and uses implicit TLS on port
    # 465); ``starttls`` requires it; ``implicit`` is TLS from the first byte;
    # ``none`` sends in clear (development relays only).
    smtp_tls: SmtpTls = "auto"
    # Not in the contract's table: a PEM file of the CA(s) that signed the
    # relay's certificate, when it is not in the system's trust store. The
    # relay's certificate is always verified (name and chain).
    smtp_ca_file: str | None = None
    smtp_max_rate: float = Field(default=0.0, ge=0.0)
    # Not in the contract's table: persistent SMTP connections per worker.
    smtp_connections: int = Field(default=4, ge=1, le=64)
    # Notice jobs in progress per worker, independent of the connections: the
    # next messages are decided, rendered and built while others are on the
    # wire, and their broker writes wait together. It is also the bound on
    # duplicate emails after a crash (a job sent but not yet recorded is sent
    # again by the next owner of its partition), hence small.
    delivery_window: int = Field(default=32, ge=1, le=64)

    mail_from: str = "Privacy Team <privacy@localhost>"
    public_url: str = "http://127.0.0.1:6066"
    web_port: Port = 6066
    web_host: str = "127.0.0.1"
    # With an admin port, the internal routes (compliance API, dashboard,
    # metrics, health) listen there and the web port serves only public pages.
    admin_port: Port | None = None
    admin_host: str = "127.0.0.1"
    # Not in the contract's table: a reverse proxy that authenticates staff
    # may name the person in this header (trusted only from trusted_proxies).
    trusted_user_header: str | None = None
    # Not in the contract's table: comma-separated addresses or CIDR networks
    # of the reverse proxies whose X-Forwarded-For (and user header) is trusted.
    trusted_proxies: str = ""
    # Not in the contract's table: the read-only compliance role's token
    # (dashboard, reports, exports); the admin token also may act.
    compliance_token: SecretStr | None = None
    session_minutes: int = Field(default=30, ge=1, le=24 * 60)

    link_secret: SecretStr | None = None
    # comma-separated earlier link secrets: they still verify, never sign
    link_secrets_old: SecretStr | None = None
    admin_token: SecretStr | None = None
    # Allows http and localhost URLs, a localhost sender and short secrets,
    # with a warning at start-up: tests and local runs only.
    development: bool = False
    # Days the topics that hold proof keep their records; None keeps them
    # forever (retention.ms=-1).
    proof_retention_days: float | None = Field(default=None, gt=0)
    min_notice_days: int = Field(default=30, ge=0)

    # Not in the contract's table: compliance alerts. A running campaign is at
    # risk this many days before its start; delivery_failures is raised when
    # failed + bounced reach this share of the decided notices (at least 10).
    deadline_risk_days: float = Field(default=7.0, ge=0)
    failure_alert_ratio: float = Field(default=0.05, gt=0, le=1)

    # Not in the contract's table: where drafts of purposes detected in
    # document changes are written, for the operator to complete.
    drafts_dir: str = "var/drafts"

    # Not in the contract's table: the /object form's limits. One
    # confirmation email per address and purpose per hour is fixed; these are
    # the daily cap per address, requests per client per minute and the
    # background queue's bound.
    object_daily_cap: int = Field(default=3, ge=1)
    object_client_per_minute: int = Field(default=10, ge=1)
    object_queue_size: int = Field(default=100, ge=1)

    store: str = "rocksdb://"
    # The consumer group and table namespace; tests give each worker group
    # its own so that runs never share state.
    app_id: str = "preavis"
    data_dir: str = "var/preavis-data"

    @field_validator("kafka_bootstrap")
    @classmethod
    def _bootstrap_has_servers(cls, value: str) -> str:
        servers = [s.strip() for s in value.split(",") if s.strip()]
        if not servers:
            raise ValueError("needs at least one host:port")
        for server in servers:
            host, sep, port = server.rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ValueError(f"{server!r} is not host:port")
        return ",".join(servers)

    @field_validator("link_secret")
    @classmethod
    def _link_secret_is_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        # The floor, even in development; production wants 32 (streams.safety).
        if value is not None and len(value.get_secret_value().encode()) < MIN_SECRET_BYTES:
            raise ValueError(
                f"must be at least {MIN_SECRET_BYTES} bytes (e.g. `openssl rand -hex 32`)"
            )
        return value

    @field_validator("link_secrets_old")
    @classmethod
    def _old_link_secrets_are_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        for position, secret in enumerate(_split_secrets(value), start=1):
            if len(secret.encode()) < MIN_SECRET_BYTES:
                raise ValueError(f"entry {position} is shorter than {MIN_SECRET_BYTES} bytes")
        return value

    @field_validator("smtp_tls")
    @classmethod
    def _smtp_tls_agrees_with_starttls(cls, value: SmtpTls, info: ValidationInfo) -> SmtpTls:
        if info.data.get("smtp_starttls") and value in ("implicit", "none"):
            raise ValueError(
                f"{value!r} contradicts PREAVIS_SMTP_STARTTLS=true (which means 'starttls')"
            )
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url_is_http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("store")
    @classmethod
    def _store_is_known(cls, value: str) -> str:
        if not value.startswith(("rocksdb://", "memory://", "aerospike://")):
            raise ValueError("must be rocksdb:// or memory://")
        return value

    @property
    def bootstrap_servers(self) -> list[str]:
        """The bootstrap servers as a list, the way aiokafka wants them."""
        return self.kafka_bootstrap.split(",")

    @property
    def faust_broker_url(self) -> str:
        """Faust's broker URL: ``kafka://h1:p1;h2:p2``."""
        return "kafka://" + ";".join(self.bootstrap_servers)

    def require_link_secret(self) -> SecretStr:
        """The signing key of objection links; a worker must not start without it."""
        if self.link_secret is None or not self.link_secret.get_secret_value():
            raise MissingSetting("PREAVIS_LINK_SECRET", "signs objection links")
        return self.link_secret

    def old_link_secrets(self) -> list[bytes]:
        """The entries of ``PREAVIS_LINK_SECRETS_OLD``: they verify links, never sign."""
        if self.link_secrets_old is None:
            return []
        return [secret.encode() for secret in _split_secrets(self.link_secrets_old)]

    def link_keys(self) -> LinkKeys:
        """The key that signs objection links and those that still verify them."""
        signing = self.require_link_secret().get_secret_value().encode()
        return LinkKeys(signing, tuple(self.old_link_secrets()))


def _split_secrets(value: SecretStr) -> list[str]:
    return [part.strip() for part in value.get_secret_value().split(",") if part.strip()]


def load_settings() -> Settings:
    """Read the environment once; the entry point calls this, nothing else does."""
    return Settings()


def smtp_config(settings: Settings) -> SmtpConfig:
    """The SMTP pool's configuration; the password leaves its SecretStr only here.

    ``PREAVIS_SMTP_STARTTLS=true`` (the contract's variable) means
    ``PREAVIS_SMTP_TLS=starttls``: STARTTLS required.
    """
    tls: SmtpTls = settings.smtp_tls
    if settings.smtp_starttls and tls == "auto":
        tls = "starttls"
    return SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        tls=tls,
        ca_file=settings.smtp_ca_file,
        max_rate=settings.smtp_max_rate,
        connections=settings.smtp_connections,
    )
