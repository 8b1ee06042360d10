"""The publishing tools, run as an operator runs them, checked on the broker."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from notifications import topic_names as names
from notifications.events import decode
from tests import examples
from tests.support.kafka import read_topic
from tests.support.worker import PREAVIS


def preavis(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PREAVIS, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_malformed_purpose_is_refused_naming_the_field(
    clean_topics: None, worker_env: dict[str, str], tmp_path: Path
) -> None:
    purpose = examples.purpose_declared()
    purpose["audience"]["countries"] = ["FR", "Narnia"]
    path = tmp_path / "purpose.json"
    path.write_text(json.dumps(purpose))

    result = preavis(worker_env, "publish", "purpose", str(path))

    assert result.returncode == 1
    assert "audience.countries[1]" in result.stderr
    assert "none of them published" in result.stderr
    assert await read_topic(names.TOPIC_PURPOSES, settle=1.5) == []


async def test_terms_file_is_not_a_purpose(
    clean_topics: None, worker_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "terms.json"
    path.write_text(json.dumps(examples.terms_published()))

    result = preavis(worker_env, "publish", "purpose", str(path))

    assert result.returncode == 1
    assert "type" in result.stderr


async def test_valid_purpose_is_published_keyed_by_purpose_id(
    clean_topics: None, worker_env: dict[str, str]
) -> None:
    result = preavis(worker_env, "publish", "purpose", "examples/purpose-ai-training.json")

    assert result.returncode == 0, result.stderr
    assert "published 1 record(s) to policy.purposes" in result.stdout
    records = await read_topic(names.TOPIC_PURPOSES, until=lambda rs: len(rs) >= 1)
    assert [r.key for r in records] == [b"ai-training"]
    event = decode(names.TOPIC_PURPOSES, records[0].key, records[0].value)
    assert event is not None and event.type == "purpose.declared"


async def test_import_publishes_valid_lines_and_names_the_invalid_ones(
    clean_topics: None, worker_env: dict[str, str], tmp_path: Path
) -> None:
    lines = [
        json.dumps(examples.user_upserted(user_id="imp-1")),
        json.dumps(examples.user_upserted(user_id="imp-2", birth_year="nineteen")),
        "",
        json.dumps(examples.user_upserted(user_id="imp-3", locale="de")),
        "{broken",
        json.dumps(examples.user_erased(user_id="imp-4")),
    ]
    path = tmp_path / "users.jsonl"
    path.write_text("\n".join(lines) + "\n")

    result = preavis(worker_env, "import-users", str(path))

    assert result.returncode == 1
    assert "line 2: birth_year" in result.stderr
    assert "line 5: <root>" in result.stderr
    assert "published 3 record(s) to users; refused 2 invalid record(s)" in result.stderr
    records = await read_topic(names.TOPIC_USERS, settle=1.5)
    assert sorted(r.key or b"" for r in records) == [b"imp-1", b"imp-3", b"imp-4"]


async def test_what_the_campaign_agent_would_reject_is_published_only_with_force(
    clean_topics: None, worker_env: dict[str, str], tmp_path: Path
) -> None:
    purpose = examples.without(examples.purpose_declared(), "objection_effect")
    path = tmp_path / "purpose.json"
    path.write_text(json.dumps(purpose))

    refused = preavis(worker_env, "publish", "purpose", str(path))
    assert refused.returncode == 1
    assert "objection_effect: missing" in refused.stderr
    assert "--force" in refused.stderr
    assert await read_topic(names.TOPIC_PURPOSES, settle=1.5) == []

    forced = preavis(worker_env, "publish", "purpose", str(path), "--force")
    assert forced.returncode == 0, forced.stderr
    assert "published with --force: objection_effect" in forced.stdout
    [record] = await read_topic(names.TOPIC_PURPOSES, until=lambda rs: len(rs) >= 1)
    assert record.json["purpose_id"] == "ai-training"
    assert "objection_effect" not in record.json
