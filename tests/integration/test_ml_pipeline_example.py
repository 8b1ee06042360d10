"""``examples/ml_pipeline_filter.py`` against the real broker, as a pipeline would run it."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from notifications import topic_names as names
from notifications.events import TrainingExclusion
from tests import examples
from tests.support.kafka import BOOTSTRAP, produce

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "ml_pipeline_filter.py"


def exclusion(user_id: str, reasons: dict[str, str]) -> tuple[bytes, bytes]:
    value = examples.training_exclusion(user_id=user_id, purposes=sorted(reasons), reasons=reasons)
    TrainingExclusion.model_validate(value)  # what preavis itself would write
    return user_id.encode(), json.dumps(value).encode()


async def test_filter_drops_exactly_the_excluded_users(clean_topics: None, tmp_path: Path) -> None:
    await produce(
        names.TOPIC_EXCLUSIONS,
        [
            exclusion("ana", {"ai-training": "objection"}),
            exclusion("ben", {"ai-training": "below_min_age", "ads": "objection"}),
            exclusion("cleo", {"ai-training": "objection"}),
            (b"cleo", None),  # cleo withdrew her objection: a tombstone
            exclusion("dan", {"ads": "objection"}),  # another purpose only
            exclusion("eve", {"ai-training": "objection"}),
            exclusion("eve", {"ads": "objection"}),  # her last record decides: not ai-training
        ],
    )
    rows = [
        {"user_id": user, "text": f"post {n} by {user}"}
        for n, user in enumerate(["ana", "ben", "cleo", "dan", "eve", "fay", "ana", "cleo", "fay"])
    ]
    dataset = tmp_path / "dataset.jsonl"
    dataset.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SCRIPT),
        "--bootstrap",
        BOOTSTRAP,
        "--purpose",
        "ai-training",
        str(dataset),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, stderr.decode()

    kept = [json.loads(line) for line in stdout.decode().splitlines()]
    assert kept == [row for row in rows if row["user_id"] not in {"ana", "ben"}]
    assert "dropped 3 record(s)" in stderr.decode()
