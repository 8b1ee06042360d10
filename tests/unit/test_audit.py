"""The audit export's hash chain (notifications.audit): intact files verify, any edit fails."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from notifications.audit import CSV_COLUMNS, Format, chain, sha256_hex, verify_lines
from streams.compliance.audit_export import verify_file

CAMPAIGN = "purpose:ai-training:v1"
EXPORTED_AT = "2026-05-01T12:00:00+00:00"


def records(n: int = 6) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(1, n + 1):
        if i % 3 == 0:
            out.append(
                {
                    "kind": "objection",
                    "objection_id": f"obj-{i}",
                    "user_id": f"u-{i:04d}",
                    "purpose_id": "ai-training",
                    "campaign_id": CAMPAIGN,
                    "channel": "email_link",
                    "received_at": f"2026-03-{i + 10:02d}T10:00:00+01:00",
                    "source": f"consent.objections/2/{i}",
                }
            )
        else:
            out.append(
                {
                    "kind": "notice",
                    "campaign_id": CAMPAIGN,
                    "notice_id": f"n-{i}",
                    "user_id": f"u-{i:04d}",
                    "status": "sent" if i % 2 else "suppressed",
                    "reason": "250 2.0.0 Ok: queued" if i % 2 else "already_objected",
                    "attempt": 1,
                    "message_id": f"<{i}@preavis>",
                    "content_sha256": f"{i:064x}",
                    "at": f"2026-03-{i + 1:02d}T09:00:00Z",
                    "source": f"notices.delivery/{i % 4}/{i}",
                }
            )
    return out


def export(fmt: Format = "jsonl", n: int = 6) -> list[str]:
    return list(chain(CAMPAIGN, records(n), EXPORTED_AT, fmt))


def error_of(lines: list[str]) -> str:
    report = verify_lines(lines)
    assert not report.ok, "the tampered file verified"
    assert report.first_error is not None
    return str(report.first_error)


# --- JSON lines -------------------------------------------------------------------------------


def test_export_then_verify_is_ok() -> None:
    lines = export()

    report = verify_lines(lines)

    assert report.ok, report.first_error
    assert report.records == 6
    assert report.format == "jsonl"
    assert report.campaign_id == CAMPAIGN
    assert report.summary() == "OK: 6 records, chain intact"
    assert report.final_sha256 is not None and len(report.final_sha256) == 64


def test_file_shape_header_chained_records_trailer() -> None:
    lines = [json.loads(line) for line in export(n=3)]

    assert lines[0] == {
        "type": "audit.header",
        "format": "preavis-audit-v1",
        "campaign_id": CAMPAIGN,
        "exported_at": EXPORTED_AT,
        "records": 3,
    }
    assert [line["seq"] for line in lines[1:-1]] == [1, 2, 3]
    assert lines[-1]["type"] == "audit.trailer" and lines[-1]["records"] == 3
    assert all(len(line["prev_sha256"]) == 64 for line in lines[1:])


def test_lines_verify_without_their_line_endings() -> None:
    assert verify_lines([line.rstrip("\n") for line in export()]).ok


def test_an_empty_campaign_verifies() -> None:
    lines = list(chain(CAMPAIGN, [], EXPORTED_AT))

    report = verify_lines(lines)

    assert report.ok and report.records == 0


def test_editing_one_field_names_the_record() -> None:
    lines = export()
    record = json.loads(lines[3])  # record 3 (line 4)
    record["user_id"] = "someone-else"
    lines[3] = json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n"

    assert error_of(lines) == "line 4: record 3 was altered"


def test_editing_a_field_without_canonical_form_names_the_record() -> None:
    lines = export()
    lines[2] = lines[2].replace('"status":"suppressed"', '"status": "sent"')

    assert "record 2 was altered" in error_of(lines)


def test_editing_the_last_record_is_detected_by_the_trailer() -> None:
    lines = export()
    assert '"user_id":"u-0006"' in lines[-2]
    lines[-2] = lines[-2].replace('"user_id":"u-0006"', '"user_id":"u-0007"')

    assert "record 6 was altered" in error_of(lines)


def test_deleting_one_record_fails() -> None:
    lines = export()
    del lines[4]  # record 4

    assert error_of(lines) == "line 5: a record is missing before line 5 (record 4)"


def test_deleting_the_first_record_fails() -> None:
    lines = export()
    del lines[1]

    assert "a record is missing before line 2 (record 1)" in error_of(lines)


def test_swapping_two_records_fails() -> None:
    lines = export()
    lines[2], lines[3] = lines[3], lines[2]  # records 2 and 3

    assert "records out of order at line 3" in error_of(lines)


def test_swapping_distant_records_fails() -> None:
    lines = export()
    lines[1], lines[5] = lines[5], lines[1]

    assert "records out of order at line 2" in error_of(lines)


def test_truncating_the_last_record_fails() -> None:
    lines = export()
    del lines[-2]  # the last record, the trailer kept

    assert "the file was truncated" in error_of(lines)


def test_cutting_the_end_of_the_file_fails() -> None:
    lines = export()

    assert "the file was truncated" in error_of(lines[:-2])  # last record and trailer gone
    assert "the file was truncated" in error_of(lines[:-1])  # trailer gone
    assert "the file was truncated" in error_of([*lines[:-2], lines[-2][:40]])  # mid-line


def test_tampering_with_the_header_campaign_fails() -> None:
    lines = export()
    head = json.loads(lines[0])
    head["campaign_id"] = "purpose:ai-training:v2"
    lines[0] = json.dumps(head, sort_keys=True, separators=(",", ":")) + "\n"

    assert error_of(lines) == "line 1: the header was altered"


def test_tampering_with_the_header_of_an_empty_export_fails() -> None:
    lines = list(chain(CAMPAIGN, [], EXPORTED_AT))
    lines[0] = lines[0].replace(CAMPAIGN, "purpose:other:v1")

    assert "the header was altered" in error_of(lines)


def test_a_rewritten_sequence_number_names_the_record() -> None:
    lines = export()
    lines[2] = lines[2].replace('"seq":2', '"seq":7')

    assert error_of(lines) == "line 3: record 2 was altered (its seq says 7)"


def test_content_after_the_trailer_fails() -> None:
    lines = [*export(), '{"kind":"notice"}\n']

    assert "after the trailer" in error_of(lines)


def test_not_an_audit_file() -> None:
    assert "not a preavis audit file" in error_of(['{"hello":"world"}\n'])
    assert "empty" in error_of([])


def test_records_may_not_use_the_chain_fields() -> None:
    with pytest.raises(ValueError, match="reserved"):
        list(chain(CAMPAIGN, [{"kind": "notice", "seq": 3}], EXPORTED_AT))


# --- CSV --------------------------------------------------------------------------------------


def csv_rows(lines: list[str]) -> list[list[str]]:
    return list(csv.reader(io.StringIO("".join(lines))))


def csv_lines(rows: list[list[str]]) -> list[str]:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().splitlines(keepends=True)


def test_csv_export_then_verify_is_ok() -> None:
    lines = export("csv")

    report = verify_lines(lines)

    assert report.ok, report.first_error
    assert report.format == "csv" and report.records == 6 and report.campaign_id == CAMPAIGN
    rows = csv_rows(lines)
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [row[0] for row in rows[2:-1]] == ["1", "2", "3", "4", "5", "6"]


def test_csv_keeps_a_value_with_commas_quotes_and_newlines() -> None:
    tricky = [{**records(1)[0], "reason": 'no, "really"\nsecond line'}]
    lines = list(chain(CAMPAIGN, tricky, EXPORTED_AT, "csv"))

    assert verify_lines(lines).ok
    assert csv_rows(lines)[2][CSV_COLUMNS.index("reason")] == 'no, "really"\nsecond line'


def test_csv_puts_unknown_fields_in_extra() -> None:
    lines = list(chain(CAMPAIGN, [{"kind": "notice", "shoe_size": 42}], EXPORTED_AT, "csv"))

    assert csv_rows(lines)[2][CSV_COLUMNS.index("extra")] == '{"shoe_size":42}'
    assert verify_lines(lines).ok


def test_csv_editing_one_cell_names_the_record() -> None:
    rows = csv_rows(export("csv"))
    rows[4][CSV_COLUMNS.index("status")] = "sent"  # record 3's row (line 5)

    assert error_of(csv_lines(rows)).startswith("line 5: record 3 was altered")


def test_csv_editing_a_cell_and_its_hash_is_caught_by_the_next_row() -> None:
    lines = export("csv")
    rows = csv_rows(lines)
    row = rows[3]  # record 2
    row[CSV_COLUMNS.index("user_id")] = "someone-else"
    cells = {name: value for name, value in zip(CSV_COLUMNS, row, strict=True) if value}
    cells.pop("record_sha256")
    row[CSV_COLUMNS.index("record_sha256")] = sha256_hex(cells)

    assert error_of(csv_lines(rows)) == "line 4: record 2 was altered"


def test_csv_deleting_one_record_fails() -> None:
    lines = export("csv")
    del lines[5]  # record 4

    assert "a record is missing before line 6 (record 4)" in error_of(lines)


def test_csv_swapping_two_records_fails() -> None:
    lines = export("csv")
    lines[3], lines[4] = lines[4], lines[3]

    assert "records out of order at line 4" in error_of(lines)


def test_csv_truncating_the_last_record_fails() -> None:
    lines = export("csv")

    assert "the file was truncated" in error_of([*lines[:-2], lines[-1]])
    assert "the file was truncated" in error_of(lines[:-2])


def test_csv_tampering_with_the_header_campaign_fails() -> None:
    rows = csv_rows(export("csv"))
    rows[1][CSV_COLUMNS.index("campaign_id")] = "purpose:ai-training:v2"

    assert error_of(csv_lines(rows)).startswith("line 2: the header was altered")


def test_csv_with_other_columns_is_refused() -> None:
    lines = export("csv")
    lines[0] = lines[0].replace("user_id", "email")

    assert "not a preavis audit file" in error_of(lines)


# --- choosing a campaign's records (streams.compliance.audit_export.select, no broker) ------------


def fetched(topic: str, offset: int, event: dict[str, Any]) -> Any:
    from streams.compliance.audit_export import Fetched

    return Fetched(topic, 0, offset, b"k", json.dumps(event).encode())


def test_terms_campaign_keeps_objections_to_the_purposes_it_adds() -> None:
    from streams.compliance.audit_export import select
    from tests import examples

    campaign = "terms:terms-of-service:2026-04"
    found = select(
        campaign,
        [
            fetched("policy.terms", 0, examples.terms_published()),
            fetched("consent.objections", 0, examples.objection_recorded(campaign_id=None)),
            fetched(
                "consent.objections",
                1,
                examples.objection_recorded(objection_id="o-ads", purpose_id="ads"),
            ),
            fetched("consent.objections", 2, {"type": "objection.recorded"}),  # invalid
            fetched(
                "notices.delivery",
                0,
                {
                    "type": "notice.delivery",
                    "schema_version": 1,
                    "notice_id": "n1",
                    "campaign_id": campaign,
                    "user_id": "u-0001",
                    "status": "bounced",
                    "reason": "550 5.1.1 <camille@example.org> user unknown",
                    "attempt": 1,
                    "at": "2026-03-03T09:00:00Z",
                },
            ),
        ],
    )

    assert found.published and found.purposes == ("ai-training",) and found.invalid == 1
    assert [(r["kind"], r["source"]) for r in found.records] == [
        ("notice", "notices.delivery/0/0"),
        ("objection", "consent.objections/0/0"),
    ]
    assert "example.org" not in json.dumps(found.records)


def test_not_a_campaign_id_is_refused() -> None:
    from notifications.errors import PreavisError
    from streams.compliance.audit_export import select

    with pytest.raises(PreavisError, match="not a campaign id"):
        select("ai-training", [])


# --- verify_file: the file, and that it is the export whose hash was kept apart ---------------


def test_verify_file_with_the_kept_hash(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text("".join(export()), encoding="utf-8")
    intact = verify_lines(export())
    assert intact.final_sha256 is not None

    assert verify_file(path, intact.final_sha256.upper()) == intact

    other = verify_file(path, "0" * 64)
    assert not other.ok
    assert (other.records, other.format, other.campaign_id, other.exported_at) == (
        intact.records,
        intact.format,
        intact.campaign_id,
        intact.exported_at,
    )
    assert other.final_sha256 == intact.final_sha256
    assert other.first_error is not None and "not the expected" in str(other.first_error)


def test_a_tampered_file_reports_no_final_hash(tmp_path: Path) -> None:
    lines = export()
    del lines[2]
    report = verify_lines(lines)
    assert not report.ok and report.first_error is not None
    assert report.final_sha256 is None
