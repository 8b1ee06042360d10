"""``preavis campaign ID --export FILE`` and ``preavis audit verify FILE`` on the real broker."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from notifications import topic_names as names
from tests import examples
from tests.support.kafka import produce
from tests.support.worker import run_preavis as preavis

AI = "purpose:ai-training:v1"
ADS = "purpose:ads:v1"


def notice(campaign: str, user: str, status: str, at: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": "notice.delivery",
        "schema_version": 1,
        "notice_id": f"{campaign}|{user}",
        "campaign_id": campaign,
        "user_id": user,
        "status": status,
        "attempt": 1,
        "at": at,
        **fields,
    }


def kv(event: dict[str, Any]) -> tuple[bytes, bytes]:
    return event["user_id"].encode(), json.dumps(event).encode()


@pytest.fixture
async def two_campaigns(clean_topics: None) -> None:
    """Notices and objections of two campaigns, interleaved on the topics."""
    await produce(
        names.TOPIC_PURPOSES,
        [
            (b"ai-training", json.dumps(examples.purpose_declared()).encode()),
            (b"ads", json.dumps(examples.purpose_declared(purpose_id="ads")).encode()),
        ],
    )
    sha = "ab" * 32
    await produce(
        names.TOPIC_DELIVERY,
        [
            kv(
                notice(
                    AI,
                    "ana",
                    "sent",
                    "2026-03-02T10:00:00Z",
                    message_id="<1@x>",
                    content_sha256=sha,
                )
            ),
            kv(notice(ADS, "ana", "sent", "2026-03-02T10:00:01Z")),
            # 08:00:02Z then 09:00:00Z: in time order, although not in text order
            kv(notice(AI, "ben", "deferred", "2026-03-02T10:00:02+02:00", reason="421 try later")),
            kv(notice(AI, "ben", "sent", "2026-03-02T09:00:00Z", attempt=2)),
            kv(notice(AI, "cleo", "suppressed", "2026-03-02T10:00:03Z", reason="no_email")),
            kv(
                notice(
                    AI,
                    "dan",
                    "bounced",
                    "2026-03-02T10:00:04Z",
                    reason="550 5.1.1 <dan.private@example.org> user unknown",
                )
            ),
            kv(notice(ADS, "eve", "suppressed", "2026-03-02T10:00:05Z", reason="already_objected")),
        ],
    )
    await produce(
        names.TOPIC_OBJECTIONS,
        [
            kv(
                examples.objection_recorded(
                    objection_id="o1", user_id="ana", reason="my email is ana@example.org"
                )
            ),
            kv(
                examples.objection_recorded(
                    objection_id="o2", user_id="eve", purpose_id="ads", campaign_id=ADS
                )
            ),
            # via the API, no campaign: still an objection to the campaign's purpose
            kv(
                examples.without(
                    examples.objection_recorded(
                        objection_id="o3",
                        user_id="fay",
                        channel="api",
                        received_at="2026-03-11T09:00:00Z",
                    ),
                    "campaign_id",
                )
            ),
            kv(examples.objection_withdrawn(user_id="ana", received_at="2026-03-20T08:00:00Z")),
        ],
    )


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def verify(env: dict[str, str], path: Path) -> subprocess.CompletedProcess[str]:
    return preavis(env, "audit", "verify", str(path))


async def test_export_holds_only_the_campaign_and_verifies(
    two_campaigns: None, worker_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "audit.jsonl"

    exported = preavis(worker_env, "campaign", AI, "--export", str(path))

    assert exported.returncode == 0, exported.stderr
    assert "exported 8 record(s)" in exported.stdout
    lines = [json.loads(line) for line in lines_of(path)]
    header, records, trailer = lines[0], lines[1:-1], lines[-1]
    assert header["type"] == "audit.header" and header["campaign_id"] == AI
    assert trailer["type"] == "audit.trailer" and trailer["records"] == len(records) == 8
    assert [r["seq"] for r in records] == list(range(1, 9))
    assert {r["campaign_id"] for r in records if r["kind"] == "notice"} == {AI}
    # in time order; the objection without a campaign is in: it is to the campaign's purpose
    assert [(r["kind"], r["user_id"], r.get("status"), r.get("objection_id")) for r in records] == [
        ("notice", "ben", "deferred", None),
        ("notice", "ben", "sent", None),
        ("notice", "ana", "sent", None),
        ("notice", "cleo", "suppressed", None),
        ("notice", "dan", "bounced", None),
        ("objection", "ana", None, "o1"),
        ("objection", "fay", None, "o3"),
        ("withdrawal", "ana", None, None),
    ]
    assert records[2]["content_sha256"] == "ab" * 32 and records[2]["message_id"] == "<1@x>"
    assert records[0]["source"].startswith(f"{names.TOPIC_DELIVERY}/")
    assert records[5]["source"].startswith(f"{names.TOPIC_OBJECTIONS}/")
    text = path.read_text()
    assert "example.org" not in text  # no address, not even inside an SMTP reply or a reason
    assert "<address>" in text
    assert ADS not in text

    verified = verify(worker_env, path)

    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("OK: 8 records, chain intact")


async def test_verify_fails_after_an_edit_a_deletion_or_a_swap(
    two_campaigns: None, worker_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "audit.jsonl"
    assert preavis(worker_env, "campaign", AI, "--export", str(path)).returncode == 0
    original = lines_of(path)

    edited = list(original)
    edited[3] = edited[3].replace('"status":"sent"', '"status":"failed"')
    assert edited != original
    deleted = original[:4] + original[5:]
    swapped = list(original)
    swapped[2], swapped[3] = swapped[3], swapped[2]
    truncated = original[:-2]

    for name, lines, message in [
        ("edited", edited, "record 3 was altered"),
        ("deleted", deleted, "a record is missing before line 5"),
        ("swapped", swapped, "records out of order at line 3"),
        ("truncated", truncated, "the file was truncated"),
    ]:
        tampered = tmp_path / f"{name}.jsonl"
        tampered.write_text("".join(lines), encoding="utf-8")
        result = verify(worker_env, tampered)
        assert result.returncode == 1, (name, result.stdout)
        assert message in result.stderr, (name, result.stderr)


async def test_csv_export_verifies_and_detects_tampering(
    two_campaigns: None, worker_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "audit.csv"

    exported = preavis(worker_env, "campaign", AI, "--export", str(path), "--format", "csv")

    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    records = [r for r in rows if not r["kind"].startswith("audit.")]
    assert len(records) == 8
    assert {r["campaign_id"] for r in records if r["kind"] == "notice"} == {AI}
    assert all(r["record_sha256"] and r["prev_sha256"] for r in records)
    assert verify(worker_env, path).returncode == 0

    lines = lines_of(path)
    swapped = list(lines)
    swapped[3], swapped[4] = swapped[4], swapped[3]
    edited = [line.replace(",ben,", ",bob,", 1) for line in lines]
    assert edited != lines
    for name, tampered_lines, message in [
        ("swapped", swapped, "records out of order"),
        ("deleted", lines[:5] + lines[6:], "a record is missing"),
        ("edited", edited, "was altered"),
    ]:
        tampered = tmp_path / f"{name}.csv"
        tampered.write_text("".join(tampered_lines), encoding="utf-8")
        result = verify(worker_env, tampered)
        assert result.returncode == 1, (name, result.stdout)
        assert message in result.stderr, (name, result.stderr)


async def test_report_counts_the_campaign(two_campaigns: None, worker_env: dict[str, str]) -> None:
    result = preavis(worker_env, "campaign", AI)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"campaign {AI}\n")
    assert "notified users    4 (5 delivery event(s))" in result.stdout
    assert "sent              2" in result.stdout
    assert "bounced           1" in result.stdout
    assert "suppressed        no_email: 1" in result.stdout
    assert "objections        2 recorded" in result.stdout
    assert "withdrawals       1" in result.stdout


async def test_unknown_campaign_writes_no_file(
    two_campaigns: None, worker_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "audit.jsonl"

    result = preavis(worker_env, "campaign", "purpose:nothing:v9", "--export", str(path))

    assert result.returncode == 1
    assert "no campaign purpose:nothing:v9" in result.stderr
    assert not path.exists()
