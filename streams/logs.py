"""Structured logs: one JSON object a line, and nothing personal in any of them.

Code never logs an address, a token or a secret on purpose; the
``Redact`` filter is the safety net under every handler: it masks anything
shaped like an email address, an objection token or a bearer token in the
message and its arguments before a line is written.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

EMAIL = re.compile(r"[^\s@<>()\[\],;:\"']+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
TOKEN = re.compile(r"\b1\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}\b")
BEARER = re.compile(r"(?i)(bearer\s+)\S+")


def redact(text: str) -> str:
    """``text`` with addresses, objection tokens and bearer tokens masked."""
    text = EMAIL.sub("<address>", text)
    text = TOKEN.sub("<token>", text)
    return BEARER.sub(r"\1<secret>", text)


class Redact(logging.Filter):
    """Mask personal data and secrets in every record (message and arguments)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """``{"at", "level", "logger", "message", "process"[, "error"]}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        if record.exc_text:
            line["error"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


def logging_config(level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the worker: JSON lines on stderr, redacted."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": Redact}},
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "json",
                "filters": ["redact"],
            }
        },
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        # aiosmtpd logs every recipient address at INFO
        "loggers": {"mail.log": {"level": "WARNING"}},
    }
