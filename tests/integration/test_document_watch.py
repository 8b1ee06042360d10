"""Watching documents on the real broker, with the real archived changes of ../shared/corpus.

``preavis watch import`` publishes every archived version in order; a real
worker compares each with the one before; the test reads
``policy.document_changes`` and ``compliance.alerts``. Every change that
introduces AI training raises one alert quoting its evidence (and gets a
draft purpose); no control or hard negative does.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from notifications import topic_names as names
from tests.support.kafka import read_topic
from tests.support.worker import PREAVIS, WorkerProcess

CORPUS = Path(
    os.environ.get("PREAVIS_CORPUS") or Path(__file__).resolve().parents[3] / "shared" / "corpus"
)


@pytest.fixture
def corpus() -> Path:
    if not (CORPUS / "README.md").is_file():
        pytest.fail(f"no corpus at {CORPUS}: set PREAVIS_CORPUS to ../shared/corpus")
    return CORPUS


async def test_introducing_changes_are_flagged_with_evidence_and_drafts(
    worker: WorkerProcess, worker_env: dict[str, str], corpus: Path, tmp_path: Path
) -> None:
    pairs = sorted(p.parent for p in corpus.glob("*/meta.json"))
    expected = {
        p.name.rsplit("-", 3)[0]
        for p in pairs
        if json.loads((p / "meta.json").read_text())["introduces_ai_training"]
    }
    result = subprocess.run(
        [PREAVIS, "watch", "import", str(corpus)],
        env={**os.environ, **worker_env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert f"published {2 * len(pairs)} document version(s)" in result.stdout

    changes = await read_topic(
        names.TOPIC_DOCUMENT_CHANGES, until=lambda rs: len(rs) >= len(pairs), timeout=90
    )
    assert {r.json["document_id"] for r in changes} == {p.name.rsplit("-", 3)[0] for p in pairs}
    flagged = {r.json["document_id"] for r in changes if r.json["ai_training"]}
    assert flagged == expected

    alerts = await read_topic(names.TOPIC_ALERTS, settle=1.5)
    detected = [r.json for r in alerts if r.json["code"] == "ai_training_clause_detected"]
    assert {a["details"]["document_id"] for a in detected} == expected
    assert len(detected) == len(expected)
    for alert in detected:
        assert alert["details"]["evidence"], alert
        draft = json.loads(Path(alert["details"]["draft"]).read_text())
        assert draft["_draft"]["evidence"] == alert["details"]["evidence"]
        assert draft["data_use"] == "train_ai_system"
    # drafts are never published
    assert await read_topic(names.TOPIC_PURPOSES, settle=0.5) == []
