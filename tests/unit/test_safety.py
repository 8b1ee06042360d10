"""The production refusal: each rule names its variable; the worker refuses before connecting."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import time
from typing import Any

import pytest

from streams.safety import is_local_host, production_problems, refuses_to_start
from streams.settings import Settings
from tests.support.smtp_server import free_port
from tests.support.worker import PREAVIS

LINK = "production-link-secret-" + "x" * 20
ADMIN = "production-admin-token-" + "y" * 20
FIT: dict[str, Any] = {
    "link_secret": LINK,
    "admin_token": ADMIN,
    "public_url": "https://notices.platform.example",
    "mail_from": "Privacy Team <privacy@platform.example>",
    "development": False,
}


def fit(**changes: Any) -> Settings:
    """Production-fit settings with ``changes``, whatever the environment says."""
    return Settings(**{**FIT, **changes})


def test_production_fit_settings_have_no_problem() -> None:
    assert production_problems(fit()) == []
    assert production_problems(fit(link_secrets_old="z" * 32 + "," + "w" * 40)) == []
    assert production_problems(fit(admin_token=None)) == []  # no admin API: nothing to guess


@pytest.mark.parametrize(
    ("changes", "variable", "says"),
    [
        ({"link_secret": "s" * 31}, "PREAVIS_LINK_SECRET", "31 bytes"),
        ({"link_secret": "é" * 15}, "PREAVIS_LINK_SECRET", "30 bytes"),  # bytes, not characters
        ({"admin_token": "short-admin"}, "PREAVIS_ADMIN_TOKEN", "11 bytes"),
        ({"compliance_token": "c" * 20}, "PREAVIS_COMPLIANCE_TOKEN", "20 bytes"),
        ({"link_secrets_old": "o" * 40 + ",p" + "p" * 19}, "PREAVIS_LINK_SECRETS_OLD", "entry 2"),
        ({"public_url": "http://notices.platform.example"}, "PREAVIS_PUBLIC_URL", "https://"),
        ({"public_url": "https://localhost:6066"}, "PREAVIS_PUBLIC_URL", "this machine"),
        ({"public_url": "https://127.0.0.1"}, "PREAVIS_PUBLIC_URL", "this machine"),
        ({"public_url": "https://127.10.0.3:8443/privacy"}, "PREAVIS_PUBLIC_URL", "this machine"),
        ({"public_url": "https://[::1]:6066"}, "PREAVIS_PUBLIC_URL", "this machine"),
        ({"public_url": "https://0.0.0.0"}, "PREAVIS_PUBLIC_URL", "this machine"),
        ({"public_url": "https://preavis.localhost"}, "PREAVIS_PUBLIC_URL", "this machine"),
        ({"mail_from": "Privacy Team <privacy@localhost>"}, "PREAVIS_MAIL_FROM", "localhost"),
        ({"mail_from": "privacy@mail.local"}, "PREAVIS_MAIL_FROM", "mail.local"),
        ({"mail_from": "privacy@127.0.0.1"}, "PREAVIS_MAIL_FROM", "127.0.0.1"),
        ({"public_url": "https://preavis.local"}, "PREAVIS_PUBLIC_URL", "this machine"),
        ({"mail_from": "privacy@LOCALHOST."}, "PREAVIS_MAIL_FROM", "LOCALHOST"),
        ({"mail_from": "privacy@[127.0.0.1]"}, "PREAVIS_MAIL_FROM", "127.0.0.1"),
        ({"mail_from": "Privacy Team"}, "PREAVIS_MAIL_FROM", "no domain"),
        (
            {"smtp_password": "relay-pass", "smtp_tls": "none", "smtp_host": "relay.example"},
            "PREAVIS_SMTP_PASSWORD",
            "in clear",
        ),
    ],
)
def test_each_problem_names_its_variable(changes: dict[str, Any], variable: str, says: str) -> None:
    [problem] = production_problems(fit(**changes))
    assert problem.startswith(variable + " ")
    assert says in problem


def test_the_defaults_are_refused_with_every_reason_at_once() -> None:
    settings = Settings(link_secret="sixteen-bytes-ok", admin_token="admin", development=False)
    problems = production_problems(settings)
    named = [problem.split(" ", 1)[0] for problem in problems]
    assert named == [
        "PREAVIS_LINK_SECRET",
        "PREAVIS_ADMIN_TOKEN",
        "PREAVIS_PUBLIC_URL",  # http://
        "PREAVIS_PUBLIC_URL",  # 127.0.0.1
        "PREAVIS_MAIL_FROM",
    ]


def test_problems_never_show_a_secret() -> None:
    secrets = {"link_secret": "L" * 20, "admin_token": "A" * 20, "link_secrets_old": "O" * 20}
    shown = "\n".join(production_problems(fit(**secrets)))
    assert len(shown.splitlines()) == 3
    assert all(value not in shown for value in secrets.values())


def test_a_password_to_a_local_relay_or_with_tls_is_fine() -> None:
    password = {"smtp_password": "relay-pass"}
    assert production_problems(fit(**password, smtp_tls="none", smtp_host="127.0.0.1")) == []
    assert production_problems(fit(**password, smtp_host="relay.example")) == []  # auto


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("localhost", True),
        ("LocalHost.", True),
        ("api.localhost", True),
        ("127.0.0.1", True),
        ("127.255.0.9", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("0.0.0.0", True),
        ("::", True),
        ("10.0.0.1", False),
        ("printer.local", True),
        ("Preavis.LOCAL.", True),
        ("localhost.example.org", False),
        ("local.example.org", False),
        ("example.locale", False),
        ("notices.platform.example", False),
        ("", False),
    ],
)
def test_local_hosts(host: str, local: bool) -> None:
    assert is_local_host(host) is local


def test_development_warns_and_lets_the_worker_start(caplog: pytest.LogCaptureFixture) -> None:
    out = io.StringIO()
    with caplog.at_level(logging.WARNING, logger="streams.safety"):
        unfit = fit(public_url="http://127.0.0.1:6066", development=True)
        assert not refuses_to_start(unfit, stream=out)
    assert out.getvalue() == ""
    [warning] = caplog.records
    assert "PREAVIS_DEVELOPMENT=true" in warning.getMessage()
    assert "PREAVIS_PUBLIC_URL" in warning.getMessage()


def test_production_refuses_and_prints_every_problem() -> None:
    out = io.StringIO()
    assert refuses_to_start(fit(public_url="http://x.example", admin_token="a"), stream=out)
    lines = out.getvalue().splitlines()
    assert "refuses to start" in lines[0] and "PREAVIS_DEVELOPMENT=true" in lines[0]
    assert [line.split(" ")[3] for line in lines[1:]] == [
        "PREAVIS_ADMIN_TOKEN",
        "PREAVIS_PUBLIC_URL",
    ]
    assert not refuses_to_start(fit(), stream=out)


def test_preavis_worker_with_an_http_public_url_exits_1_without_a_broker() -> None:
    """The check comes before any connection: the bootstrap here has no broker at all."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PREAVIS_")}
    env |= {
        "PREAVIS_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}",  # nothing listens there
        "PREAVIS_LINK_SECRET": LINK,
        "PREAVIS_ADMIN_TOKEN": ADMIN,
        "PREAVIS_PUBLIC_URL": "http://notices.platform.example",
        "PREAVIS_MAIL_FROM": "privacy@platform.example",
    }
    started = time.monotonic()
    done = subprocess.run(
        [PREAVIS, "worker"], env=env, capture_output=True, text=True, timeout=60, check=False
    )

    assert done.returncode == 1, done.stderr
    assert "PREAVIS_PUBLIC_URL is http://notices.platform.example" in done.stderr
    assert "https://" in done.stderr
    assert LINK not in done.stderr + done.stdout and ADMIN not in done.stderr + done.stdout
    assert time.monotonic() - started < 30
