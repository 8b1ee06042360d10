"""The audit export's hash chain: write it, and prove that nothing was removed or changed.

Pure: no Kafka, no clock, no files. ``streams.compliance.audit_export`` collects a
campaign's records and hands them to :func:`chain`; ``preavis audit verify``
hands a file's lines to :func:`verify_lines`.

**JSON lines** (``preavis-audit-v1``)::

    {"campaign_id":…,"exported_at":…,"format":"preavis-audit-v1","records":n,"type":"audit.header"}
    {…record 1's fields…,"prev_sha256":H0,"seq":1}
    {…record 2's fields…,"prev_sha256":H1,"seq":2}
    …
    {"format":"preavis-audit-v1","prev_sha256":Hn,"records":n,"type":"audit.trailer"}

Every line is the *canonical* JSON of its object (:func:`canonical`: sorted
keys, no spaces, UTF-8). ``H0`` is the SHA-256 of the header line, so it
binds the campaign id, the export time and the record count; ``Hk`` is the
SHA-256 of record k's line. The trailer repeats the count and the last hash,
so that cutting records off the end is detected too. The SHA-256 of the
trailer line (:attr:`VerifyReport.final_sha256`) therefore commits to the
whole file: keep it somewhere else (a ticket, a signed email, a WORM store)
and a rewritten file no longer matches it.

**CSV**: the same chain, one row per line, in the fixed columns of
:data:`CSV_COLUMNS` (the first row names them). The header and the trailer
are rows too (``kind`` ``audit.header`` / ``audit.trailer``). A row's hash
(its ``record_sha256`` column) is the SHA-256 of the canonical JSON of its
non-empty cells, as strings, without ``record_sha256`` itself; each row's
``prev_sha256`` is the previous row's ``record_sha256``. Fields that have no
column of their own go, as canonical JSON, in ``extra``.

:func:`verify_lines` tells the formats apart by the first line and reports
the first problem with the line it is on: ``record 5 was altered``, ``a
record is missing before line 7``, ``records out of order at line 4``, ``the
file was truncated``, ``the header was altered``...
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal, TypedDict

FORMAT = "preavis-audit-v1"
HEADER = "audit.header"
TRAILER = "audit.trailer"

Format = Literal["jsonl", "csv"]
FORMATS: tuple[Format, ...] = ("jsonl", "csv")

#: Names a record may not use: the chain's own fields, and ``type`` (header and trailer).
RESERVED = frozenset({"seq", "prev_sha256", "record_sha256", "type"})

#: The CSV columns, in order. ``extra`` holds any other field as canonical JSON.
CSV_COLUMNS: tuple[str, ...] = (
    "seq",
    "kind",
    "campaign_id",
    "user_id",
    "notice_id",
    "status",
    "reason",
    "attempt",
    "message_id",
    "content_sha256",
    "at",
    "objection_id",
    "purpose_id",
    "channel",
    "received_at",
    "source",
    "extra",
    "format",
    "exported_at",
    "records",
    "prev_sha256",
    "record_sha256",
)
_CSV_FIELDS = frozenset(CSV_COLUMNS) - {"extra", "record_sha256"}


def canonical(obj: Mapping[str, object]) -> str:
    """The one serialisation that is hashed: sorted keys, no whitespace, UTF-8 text."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_hex(obj: Mapping[str, object]) -> str:
    """The SHA-256 (hex) of ``obj``'s canonical JSON."""
    return hashlib.sha256(canonical(obj).encode("utf-8")).hexdigest()


class Header(TypedDict):
    """The first line: what the chain is of, and how many records it holds."""

    type: str
    format: str
    campaign_id: str
    exported_at: str
    records: int


class Trailer(TypedDict):
    """The last line: the count again, and the last record's hash."""

    type: str
    format: str
    records: int
    prev_sha256: str


def header(campaign_id: str, exported_at: str, records: int) -> Header:
    """The first line's object; its hash is the chain's genesis."""
    return {
        "type": HEADER,
        "format": FORMAT,
        "campaign_id": campaign_id,
        "exported_at": exported_at,
        "records": records,
    }


def chain(
    campaign_id: str,
    records: Iterable[Mapping[str, object]],
    exported_at: str,
    fmt: Format = "jsonl",
) -> Iterator[str]:
    """The export's lines, each ending with ``\\n``: header, chained records, trailer.

    ``records`` are plain JSON-able objects in the order they are to be
    proven; none may use a :data:`RESERVED` name. They are read once, up
    front (the header states their count).
    """
    items = [dict(record) for record in records]
    for number, record in enumerate(items, start=1):
        clash = RESERVED & record.keys()
        if clash:
            raise ValueError(f"record {number} uses reserved field(s) {sorted(clash)}")
    head = header(campaign_id, exported_at, len(items))
    if fmt == "jsonl":
        yield from _chain_jsonl(head, items)
    elif fmt == "csv":
        yield from _chain_csv(head, items)
    else:
        raise ValueError(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")


def _chain_jsonl(head: Header, items: list[dict[str, object]]) -> Iterator[str]:
    line = canonical(head)
    yield line + "\n"
    prev = _sha(line)
    for seq, record in enumerate(items, start=1):
        line = canonical({**record, "seq": seq, "prev_sha256": prev})
        yield line + "\n"
        prev = _sha(line)
    yield canonical(_trailer(len(items), prev)) + "\n"


def _trailer(records: int, prev: str) -> Trailer:
    return {"type": TRAILER, "format": FORMAT, "records": records, "prev_sha256": prev}


def _chain_csv(head: Header, items: list[dict[str, object]]) -> Iterator[str]:
    yield _csv_line(list(CSV_COLUMNS))
    cells = _csv_cells({**_without(head, "type"), "kind": HEADER})
    prev = _cells_sha(cells)
    yield _csv_line(_csv_row({**cells, "record_sha256": prev}))
    for seq, record in enumerate(items, start=1):
        cells = _csv_cells({**record, "seq": seq, "prev_sha256": prev})
        prev = _cells_sha(cells)
        yield _csv_line(_csv_row({**cells, "record_sha256": prev}))
    cells = _csv_cells({**_without(_trailer(len(items), prev), "type"), "kind": TRAILER})
    yield _csv_line(_csv_row({**cells, "record_sha256": _cells_sha(cells)}))


def _csv_cells(obj: Mapping[str, object]) -> dict[str, str]:
    """A record as CSV cells: strings, empty ones left out, unknown fields in ``extra``."""
    cells = {name: _cell(value) for name, value in obj.items() if name in _CSV_FIELDS}
    extra = {name: value for name, value in obj.items() if name not in _CSV_FIELDS}
    if extra:
        cells["extra"] = canonical(extra)
    return {name: value for name, value in cells.items() if value != ""}


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _csv_row(cells: Mapping[str, str]) -> list[str]:
    return [cells.get(name, "") for name in CSV_COLUMNS]


def _csv_line(row: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(row)
    return buffer.getvalue()


def _cells_sha(cells: Mapping[str, str]) -> str:
    return sha256_hex({name: value for name, value in cells.items() if name != "record_sha256"})


def _sha(line: str) -> str:
    return hashlib.sha256(line.encode("utf-8")).hexdigest()


def _without(obj: Mapping[str, object], *names: str) -> dict[str, object]:
    return {key: value for key, value in obj.items() if key not in names}


# --- verification -----------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyError:
    """The first problem found, and the line (1-based) it was found on."""

    line: int  # 0: about the file as a whole
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass(frozen=True)
class VerifyReport:
    """What :func:`verify_lines` found.

    ``records`` is the number of records the file holds when it is intact,
    and the number read before the first error otherwise. ``final_sha256``
    (the trailer's hash, set only when the file is intact) commits to the
    whole file.
    """

    ok: bool
    records: int
    format: Format | None = None
    campaign_id: str | None = None
    exported_at: str | None = None
    final_sha256: str | None = None
    first_error: VerifyError | None = None

    def summary(self) -> str:
        if self.ok:
            return f"OK: {self.records} records, chain intact"
        return f"FAILED: {self.first_error}"


@dataclass(frozen=True)
class _Entry:
    """One line (JSON) or row (CSV) of the file, parsed."""

    line: int
    obj: dict[str, object] | None  # None: the line could not be parsed
    hashed: str  # the SHA-256 the chain uses for this entry
    problem: str | None = None  # why the entry is not what the exporter wrote, on its own


_UNKNOWN_COLUMNS = "not a preavis audit file (unknown columns)"


class _Failure(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(line, message)
        self.error = VerifyError(line, message)


def verify_lines(lines: Iterable[str]) -> VerifyReport:
    """Check a whole export, given its lines (with or without their line endings)."""
    source = iter(lines)
    first: str | None = None
    number = 0
    for raw in source:
        number += 1
        if raw.strip():
            first = raw
            break
    if first is None:
        return VerifyReport(ok=False, records=0, first_error=VerifyError(1, "the file is empty"))
    rest = _prepend(first, source)
    fmt: Format = "jsonl" if first.lstrip("\ufeff \t").startswith("{") else "csv"
    entries = _jsonl_entries(rest, number) if fmt == "jsonl" else _csv_entries(rest, number)
    return _Verifier(fmt).run(entries)


def _prepend(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def _jsonl_entries(lines: Iterable[str], start: int) -> Iterator[_Entry]:
    for number, raw in enumerate(lines, start=start):
        text = raw.rstrip("\r\n")
        if not text.strip():
            continue
        text = text.lstrip("\ufeff") if number == start else text
        try:
            obj = json.loads(text)
        except ValueError:
            yield _Entry(number, None, _sha(text), "is not valid JSON")
            continue
        if not isinstance(obj, dict):
            yield _Entry(number, None, _sha(text), "is not a JSON object")
            continue
        problem = None if canonical(obj) == text else "is not in the exporter's canonical form"
        yield _Entry(number, obj, _sha(canonical(obj)), problem)


def _csv_entries(lines: Iterable[str], start: int) -> Iterator[_Entry]:
    reader = csv.reader(line if line.endswith(("\n", "\r")) else line + "\n" for line in lines)
    seen = 0
    columns: list[str] | None = None
    while True:
        number = start + seen
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield _Entry(number, None, "", f"is not valid CSV ({exc})")
            return
        seen = reader.line_num
        if not row or not any(cell.strip() for cell in row):
            continue
        if columns is None:
            columns = row
            if number == start and row and row[0].startswith("\ufeff"):
                columns = [row[0].lstrip("\ufeff"), *row[1:]]
            if tuple(columns) != CSV_COLUMNS:
                yield _Entry(number, None, "", _UNKNOWN_COLUMNS)
                return
            continue
        if len(row) != len(CSV_COLUMNS):
            yield _Entry(number, None, "", f"has {len(row)} cells, not {len(CSV_COLUMNS)}")
            continue
        cells = {name: value for name, value in zip(CSV_COLUMNS, row, strict=True) if value != ""}
        hashed = _cells_sha(cells)
        obj = _csv_as_object(cells)
        problem = None if cells.get("record_sha256") == hashed else "does not match its hash"
        yield _Entry(number, obj, hashed, problem)


def _csv_as_object(cells: Mapping[str, str]) -> dict[str, object]:
    """A CSV row in the shape of a JSON line: ``kind`` of a header/trailer becomes ``type``."""
    obj: dict[str, object] = dict(cells)
    if obj.get("kind") in (HEADER, TRAILER):
        obj["type"] = obj.pop("kind")
    for name in ("seq", "records"):
        value = obj.get(name)
        if isinstance(value, str) and value.isascii() and value.isdigit():
            obj[name] = int(value)  # otherwise left a string: reported where it is used
    return obj


class _Verifier:
    def __init__(self, fmt: Format) -> None:
        self.fmt = fmt
        self.records = 0
        self.campaign_id: str | None = None
        self.exported_at: str | None = None
        self.header_line = 1
        self.header_records = -1

    def run(self, entries: Iterator[_Entry]) -> VerifyReport:
        final: str | None = None
        error: VerifyError | None = None
        try:
            final = self._walk(entries)
        except _Failure as failure:
            error = failure.error
        return VerifyReport(
            ok=error is None,
            records=self.records,
            format=self.fmt,
            campaign_id=self.campaign_id,
            exported_at=self.exported_at,
            final_sha256=final,
            first_error=error,
        )

    def _walk(self, entries: Iterator[_Entry]) -> str:
        head = next(entries, None)
        if head is None:
            raise _Failure(1, "the file was truncated: no header")
        self._check_header(head, entries)
        prev_hash, prev_line, prev_name = head.hashed, head.line, "the header"
        expected = 1
        last_line = head.line
        for entry in entries:
            last_line = entry.line
            obj = self._parsed(entry, entries, f"record {expected}")
            if obj.get("type") == TRAILER:
                final = self._check_trailer(entry, obj, prev_hash, prev_line, prev_name, expected)
                for after in entries:
                    raise _Failure(after.line, "unexpected content after the trailer")
                return final
            if obj.get("type") is not None:
                raise _Failure(entry.line, f"unexpected {obj.get('type')!r} line")
            seq, prev = obj.get("seq"), obj.get("prev_sha256")
            if entry.problem is not None:  # a CSV row that does not match its own hash
                raise _Failure(
                    entry.line, f"record {expected} was altered (its row {entry.problem})"
                )
            if not isinstance(seq, int) or isinstance(seq, bool) or not isinstance(prev, str):
                raise _Failure(entry.line, f"record {expected} was altered (no valid seq)")
            if seq == expected and prev != prev_hash:
                raise _Failure(prev_line, f"{prev_name} was altered")
            if seq != expected and prev == prev_hash:
                raise _Failure(entry.line, f"record {expected} was altered (its seq says {seq})")
            if seq < expected:
                raise _Failure(
                    entry.line,
                    f"records out of order at line {entry.line} "
                    f"(record {seq} after record {expected - 1})",
                )
            if seq > expected:
                if _appears_later(entries, expected, seq):
                    raise _Failure(
                        entry.line,
                        f"records out of order at line {entry.line} "
                        f"(record {seq} where record {expected} belongs)",
                    )
                missing = (
                    f"record {expected}" if seq == expected + 1 else f"records {expected}-{seq - 1}"
                )
                raise _Failure(
                    entry.line, f"a record is missing before line {entry.line} ({missing})"
                )
            self.records += 1
            prev_hash, prev_line, prev_name = entry.hashed, entry.line, f"record {seq}"
            expected += 1
        raise _Failure(
            last_line,
            f"the file was truncated after line {last_line} (no trailer; "
            f"{self.records} record(s) read)",
        )

    def _parsed(self, entry: _Entry, entries: Iterator[_Entry], name: str) -> dict[str, object]:
        """The entry's object; a line that does not parse ends the walk."""
        if entry.obj is None:
            if next(entries, None) is None:
                raise _Failure(
                    entry.line, f"the file was truncated (line {entry.line} is incomplete)"
                )
            raise _Failure(entry.line, f"{name} was altered (line {entry.line} {entry.problem})")
        if entry.problem is not None and self.fmt == "jsonl":
            what = "the trailer" if entry.obj.get("type") == TRAILER else name
            raise _Failure(entry.line, f"{what} was altered (line {entry.line} {entry.problem})")
        return entry.obj

    def _check_header(self, head: _Entry, entries: Iterator[_Entry]) -> None:
        if head.problem == _UNKNOWN_COLUMNS:
            raise _Failure(head.line, _UNKNOWN_COLUMNS)
        obj = head.obj
        if obj is None or obj.get("type") != HEADER or obj.get("format") != FORMAT:
            if obj is not None and obj.get("type") == HEADER:
                raise _Failure(head.line, f"unsupported format {obj.get('format')!r}")
            if obj is None and next(entries, None) is None:
                raise _Failure(head.line, "the file was truncated (incomplete header)")
            raise _Failure(head.line, f"not a preavis audit file (no {FORMAT} header)")
        campaign_id, exported_at = obj.get("campaign_id"), obj.get("exported_at")
        self.campaign_id = campaign_id if isinstance(campaign_id, str) else None
        self.exported_at = exported_at if isinstance(exported_at, str) else None
        if head.problem is not None:
            raise _Failure(head.line, f"the header was altered (it {head.problem})")
        records = obj.get("records")
        if self.campaign_id is None or not isinstance(records, int) or isinstance(records, bool):
            raise _Failure(head.line, "the header was altered (no campaign_id or records)")
        self.header_line, self.header_records = head.line, records

    def _check_trailer(
        self,
        entry: _Entry,
        obj: dict[str, object],
        prev_hash: str,
        prev_line: int,
        prev_name: str,
        expected: int,
    ) -> str:
        if entry.problem is not None:
            raise _Failure(entry.line, f"the trailer was altered (it {entry.problem})")
        stated = obj.get("records")
        if not isinstance(stated, int) or isinstance(stated, bool):
            raise _Failure(entry.line, "the trailer was altered (no record count)")
        if stated > self.records:
            missing = f"record {expected}" if stated == expected else f"records {expected}-{stated}"
            raise _Failure(
                entry.line,
                f"the file was truncated: a record is missing before line {entry.line} ({missing})",
            )
        if stated < self.records:
            raise _Failure(
                entry.line,
                f"the trailer was altered (it counts {stated} records, the file has "
                f"{self.records})",
            )
        if obj.get("prev_sha256") != prev_hash:
            raise _Failure(
                prev_line,
                f"{prev_name} was altered (or the trailer, line {entry.line})",
            )
        if self.header_records != self.records:
            raise _Failure(
                self.header_line,
                f"the header was altered (it counts {self.header_records} records, "
                f"the file has {self.records})",
            )
        return entry.hashed


def _appears_later(entries: Iterator[_Entry], low: int, high: int) -> bool:
    """Whether a record numbered ``low`` to ``high - 1`` comes later (then it is not missing)."""
    for entry in entries:
        seq = entry.obj.get("seq") if entry.obj is not None else None
        if isinstance(seq, int) and low <= seq < high:
            return True
    return False
