"""Logs are JSON lines and never carry an address, a token or a secret."""

from __future__ import annotations

import json
import logging

import pytest

from streams.logs import JsonFormatter, Redact, redact


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("sent to camille@example.fr", "camille@example.fr"),
        ("RCPT <a.b+c@sub.example.org> refused", "a.b+c@sub.example.org"),
        ("link /o/1.ZGVtby0wMDAwNwBwdXJwb3Nl.RObit7hCpWFF-7Pl70HPHg", "RObit7hCpWFF-7Pl70HPHg"),
        ("Authorization: Bearer s3cr3t-admin-token", "s3cr3t-admin-token"),
    ],
)
def test_redact_masks(text: str, hidden: str) -> None:
    assert hidden not in redact(text)


def test_a_record_with_an_address_in_its_arguments_is_written_masked() -> None:
    record = logging.LogRecord(
        "x", logging.WARNING, __file__, 1, "bounce for %s", ("z@y.example",), None
    )
    assert Redact().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "bounce for <address>"
    assert line["level"] == "warning" and line["logger"] == "x"
