"""Browser tests: the integration fixtures (real broker, real worker, mail catcher)."""

from __future__ import annotations

from tests.integration.conftest import (
    _broker_is_up,
    clean_topics,
    mail_dir,
    settings,
    smtp_worker,
    worker,
    worker_env,
)

__all__ = [
    "_broker_is_up",  # autouse, session: fails the run when the broker is down
    "clean_topics",
    "mail_dir",
    "settings",
    "smtp_worker",
    "worker",
    "worker_env",
]
