"""``preavis check`` and ``preavis publish`` refuse what the campaign agent would reject.

The command line runs in a subprocess, as an operator runs it. No broker is
needed: a refused file never reaches Kafka (the bootstrap points at a closed
port, so a publish that tried would fail differently).
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from notifications.countries import expand_countries
from notifications.i18n import SUPPORTED_LANGUAGES
from notifications.languages import required_languages, written_languages
from tests import examples

ROOT = Path(__file__).resolve().parents[2]
ENV = {
    **os.environ,
    "PREAVIS_KAFKA_BOOTSTRAP": "127.0.0.1:9",  # discard: nothing may be published
    "PREAVIS_MAIL_FROM": "Privacy Team <privacy@platform.example>",
    "PREAVIS_PUBLIC_URL": "https://notices.platform.example",
}


def preavis(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", *args],
        cwd=cwd,
        env={**ENV, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def write(tmp_path: Path, change: dict[str, Any], name: str = "change.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(change), encoding="utf-8")
    return path


def parse(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert not message.defects
    return message


def incomplete() -> dict[str, Any]:
    """No objection_effect, no Polish retention: two problems, each with its field."""
    purpose = examples.without(examples.purpose_declared(), "objection_effect")
    purpose["retention"] = {k: v for k, v in purpose["retention"].items() if k != "pl"}
    return purpose


def test_check_refuses_an_incomplete_purpose_naming_each_field(tmp_path: Path) -> None:
    path = write(tmp_path, incomplete())
    result = preavis(tmp_path, "check", "purpose", str(path), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "objection_effect: missing" in result.stderr
    assert "(incomplete_notice)" in result.stderr
    assert "retention.pl: not written in pl" in result.stderr
    assert "(incomplete_translation)" in result.stderr
    assert "REFUSED: 2 problem(s)" in result.stderr
    # previews are written all the same: the operator sees what is wrong
    assert (tmp_path / "out" / "notice.en.eml").exists()


def test_check_of_the_demo_purpose_previews_every_language_its_audience_needs(
    tmp_path: Path,
) -> None:
    source = ROOT / "examples" / "purpose-ai-training.json"
    result = preavis(tmp_path, "check", "purpose", str(source), "--out", "previews")
    assert result.returncode == 0, result.stderr
    assert "OK: the campaign agent accepts it" in result.stdout
    purpose = json.loads(source.read_text(encoding="utf-8"))
    needed = required_languages(expand_countries(purpose["audience"]["countries"]))
    assert len(needed) == 24  # the EEA: every language of the table
    assert set(needed) <= written_languages(purpose, "purpose")
    folder = tmp_path / "previews"
    shipped = [language for language in needed if language in SUPPORTED_LANGUAGES]
    assert sorted(path.name for path in folder.glob("*.eml")) == sorted(
        f"notice.{language}.eml" for language in shipped
    )
    for language in shipped:
        message = parse(folder / f"notice.{language}.eml")
        assert message["Content-Language"] == language
        assert message["To"] == "reader@example.invalid"
        assert message["Reply-To"] == "privacy@example.com"
        assert message["From"].addresses[0].display_name == "Example Platform SAS"
        text = message.get_body(("plain",))
        assert text is not None
        assert purpose["objection_effect"][language].split()[0] in text.get_content()
        assert "https://notices.platform.example/o/" in text.get_content()
        page = (folder / f"objection.{language}.html").read_text(encoding="utf-8")
        assert f'<html lang="{language}"' in page


def test_check_writes_into_a_new_folder_it_names_by_default(tmp_path: Path) -> None:
    path = write(tmp_path, examples.terms_published(), "terms.json")
    result = preavis(tmp_path, "check", "terms", str(path))
    assert result.returncode == 0, result.stderr
    [folder] = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert folder.name.startswith("preavis-preview-terms-terms-of-service-2026-04-")
    assert f"previews in {folder.name}" in result.stdout
    assert parse(folder / "notice.fr.eml")["Content-Language"] == "fr"
    assert (folder / "objection.fr.html").exists()  # the terms add a purpose


def test_check_names_the_field_of_a_file_that_does_not_parse(tmp_path: Path) -> None:
    purpose = examples.purpose_declared(starts_at="next tuesday")
    result = preavis(tmp_path, "check", "purpose", str(write(tmp_path, purpose)))
    assert result.returncode == 1
    assert "starts_at" in result.stderr and "does not parse" in result.stderr


def test_publish_refuses_what_the_agent_would_reject_before_any_connection(
    tmp_path: Path,
) -> None:
    result = preavis(tmp_path, "publish", "purpose", str(write(tmp_path, incomplete())))
    assert result.returncode == 1
    assert "objection_effect: missing" in result.stderr
    assert "retention.pl: not written in pl" in result.stderr
    assert "--force publishes anyway" in result.stderr
    assert "none of them published" in result.stderr
    assert "Kafka" not in result.stderr  # refused before any connection was tried


def test_check_refuses_a_data_category_no_reader_could_be_told(tmp_path: Path) -> None:
    change = examples.purpose_declared(data_categories=["user.content.public", "user.secret_sauce"])
    result = preavis(tmp_path, "check", "purpose", str(write(tmp_path, change)))
    assert result.returncode == 1
    assert "data_categories: 'user.secret_sauce' is not a category" in result.stderr
    assert "(unknown_data_category)" in result.stderr
