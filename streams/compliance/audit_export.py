"""``preavis campaign CAMPAIGN_ID [--export FILE]`` and ``preavis audit verify FILE``.

Reads ``notices.delivery`` and ``consent.objections`` (and the policy topics,
for the campaign's purposes) from the beginning up to the end offsets taken
at start, with a plain consumer: no consumer group, nothing committed, every
partition assigned. Keeps the campaign's records:

- every ``notice.delivery`` with its ``campaign_id``;
- every ``objection.recorded`` with its ``campaign_id``, or for one of the
  campaign's purposes (``purpose:{purpose_id}:v{n}``: that purpose;
  ``terms:{document_id}:{version}``: its ``purposes_added``), whatever
  notice it came from: it applies to the campaign's processing all the same;
- every ``objection.withdrawn`` of one of those purposes (kind
  ``withdrawal``): without them the file would overstate who objects.

They are ordered by event time (``at``, ``received_at``), then topic,
partition and offset, so that two exports of the same topics are the same
file except for ``exported_at``, and written by :func:`notifications.audit.chain`.

Each record carries only the event's own fields listed below plus ``kind``
and ``source`` (``topic/partition/offset``). Events carry no email address
and the export keeps it that way: fields are copied from a fixed list, never
wholesale; a notice's SMTP reply goes through the same redaction as when it
was recorded; an objection's free-text reason is left out (it is optional,
the user may have written anything in it, and the audit needs the fact of
the objection, not its motive).

With a signing key (``--sign-key KEY.pem``), the export is also signed
(Ed25519, :mod:`notifications.audit_signature`) in ``FILE.sig``: the chain
proves the file is consistent, the signature proves who made it.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import TopicPartition

from notifications import topic_names as names
from notifications.audit import Format, VerifyError, VerifyReport, chain, verify_lines
from notifications.audit_signature import SignatureCheck, fingerprint, sign
from notifications.errors import InvalidEvent, PreavisError, UnknownCampaign
from notifications.events import (
    Event,
    NoticeDelivery,
    ObjectionRecorded,
    ObjectionWithdrawn,
    PurposeDeclared,
    TermsPublished,
    decode,
)
from notifications.smtp_reply import redact
from streams import kafka
from streams.compliance.audit_signing import read_private_key, signature_path, write_atomically
from streams.settings import Settings

NOTICE_FIELDS = (
    "campaign_id",
    "notice_id",
    "user_id",
    "status",
    "reason",
    "attempt",
    "message_id",
    "content_sha256",
    "at",
)
OBJECTION_FIELDS = (
    "objection_id",
    "user_id",
    "purpose_id",
    "campaign_id",
    "channel",
    "received_at",
)
WITHDRAWAL_FIELDS = ("user_id", "purpose_id", "received_at")

#: One exported record: ``kind``, ``source`` and the event's own fields as it carries them.
ExportRecord = dict[str, object]

_PURPOSE_CAMPAIGN = re.compile(r"^purpose:(?P<purpose_id>[^:]+):v(?P<version>[0-9]+)$")
_TERMS_CAMPAIGN = re.compile(r"^terms:(?P<document_id>[^:]+):(?P<version>.+)$")

#: Give up when a partition makes no progress towards its end offset for this long.
READ_STALL_SECONDS = 30.0


@dataclass(frozen=True)
class Fetched:
    """One record read back from a topic."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None

    @property
    def source(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"


@dataclass(frozen=True)
class CampaignRecords:
    """A campaign's records, in export order, and what was set aside."""

    campaign_id: str
    published: bool
    purposes: tuple[str, ...]
    records: list[ExportRecord]
    invalid: int  # records of the read topics that do not follow the contract (not exported)


@dataclass(frozen=True)
class ExportResult:
    path: Path
    format: Format
    records: int
    final_sha256: str
    invalid: int
    signature: Path | None = None
    signer: str | None = None  # fingerprint of the signing key's public key

    def summary(self, campaign_id: str) -> str:
        lines = [
            f"exported {self.records} record(s) of campaign {campaign_id} "
            f"to {self.path} ({self.format})",
            f"final sha256: {self.final_sha256} (keep it apart from the file: "
            f"`preavis audit verify --expect-sha256 ...` checks it)",
        ]
        if self.signature is not None:
            lines.append(
                f"signed: {self.signature} (Ed25519, public key {self.signer}; "
                "`preavis audit verify FILE --public-key PUB.pem` checks it)"
            )
        if self.invalid:
            lines.append(
                f"warning: {self.invalid} record(s) on the topics do not follow the contract "
                "and were not exported"
            )
        return "\n".join(lines)


# --- reading the topics -----------------------------------------------------------------------


async def read_topics(settings: Settings, topics: Iterable[str]) -> list[Fetched]:
    """Every record of ``topics``, from the beginning up to the end offsets taken now.

    A topic that does not exist holds nothing. Only committed records are read
    (``read_committed``): an aborted transaction is not a fact to prove.
    """
    wanted = list(topics)
    tps = await _partitions(settings, wanted)
    if not tps:
        return []
    fetched: list[Fetched] = []
    async for fetch in kafka.read_to_end(settings, tps):
        for records in fetch.records.values():
            fetched.extend(Fetched(r.topic, r.partition, r.offset, r.key, r.value) for r in records)
    return fetched


async def _partitions(settings: Settings, topics: list[str]) -> list[TopicPartition]:
    admin = kafka.admin(settings)
    await admin.start()
    try:
        # list first: a metadata request naming a missing topic may auto-create it
        present = [t for t in topics if t in set(await admin.list_topics())]
        if not present:
            return []
        described = await admin.describe_topics(present)
    finally:
        await admin.close()
    return [
        TopicPartition(topic["topic"], partition["partition"])
        for topic in described
        if topic.get("error_code", 0) == 0
        for partition in sorted(topic["partitions"], key=lambda p: int(p["partition"]))
    ]


# --- selecting and shaping the campaign's records ---------------------------------------------


async def campaign_records(settings: Settings, campaign_id: str) -> CampaignRecords:
    """Read the topics and keep ``campaign_id``'s records, in export order."""
    check_campaign_id(campaign_id)
    fetched = await read_topics(
        settings,
        [names.TOPIC_PURPOSES, names.TOPIC_TERMS, names.TOPIC_DELIVERY, names.TOPIC_OBJECTIONS],
    )
    return select(campaign_id, fetched)


def check_campaign_id(campaign_id: str) -> None:
    """Refuse what cannot be a campaign id (CONTRACT.md, "Campaigns") before reading anything."""
    if not (_PURPOSE_CAMPAIGN.match(campaign_id) or _TERMS_CAMPAIGN.match(campaign_id)):
        raise UnknownCampaign(
            f"{campaign_id!r} is not a campaign id "
            "(purpose:{purpose_id}:v{version} or terms:{document_id}:{version})"
        )


def select(campaign_id: str, fetched: Iterable[Fetched]) -> CampaignRecords:
    """Pure: the campaign's records among ``fetched`` (any order), sorted for export."""
    check_campaign_id(campaign_id)
    purpose_match = _PURPOSE_CAMPAIGN.match(campaign_id)
    purposes: set[str] = set()
    if purpose_match is not None:
        purposes.add(purpose_match["purpose_id"])
    published = False
    invalid = 0
    keyed: list[tuple[tuple[datetime, str, int, int], ExportRecord]] = []
    events: list[tuple[Fetched, Event | None]] = []
    for record in fetched:
        try:
            event = decode(record.topic, record.key, record.value)
        except InvalidEvent:
            invalid += 1
            continue
        if isinstance(event, PurposeDeclared):
            published |= f"purpose:{event.purpose_id}:v{event.version}" == campaign_id
        elif isinstance(event, TermsPublished):
            if f"terms:{event.document_id}:{event.version}" == campaign_id:
                # every version published under this id: a rejected one may be corrected
                published = True
                purposes.update(event.purposes_added or ())
        else:
            events.append((record, event))
    for record, event in events:
        shaped = _shape(campaign_id, purposes, record, event)
        if shaped is not None:
            keyed.append(((shaped[0], record.topic, record.partition, record.offset), shaped[1]))
    keyed.sort(key=lambda item: item[0])
    return CampaignRecords(
        campaign_id=campaign_id,
        published=published,
        purposes=tuple(sorted(purposes)),
        records=[record for _, record in keyed],
        invalid=invalid,
    )


def _shape(
    campaign_id: str, purposes: set[str], record: Fetched, event: Event | None
) -> tuple[datetime, ExportRecord] | None:
    """The export record of ``event`` and its time, or None when it is not the campaign's."""
    raw: dict[str, object] = json.loads(record.value or b"{}")
    if isinstance(event, NoticeDelivery):
        if event.campaign_id != campaign_id:
            return None
        out = _pick("notice", raw, NOTICE_FIELDS)
        reason = out.get("reason")
        if isinstance(reason, str) and "@" in reason:
            out["reason"] = redact(reason)
        return event.at, {**out, "source": record.source}
    if isinstance(event, ObjectionRecorded):
        if event.campaign_id != campaign_id and event.purpose_id not in purposes:
            return None
        return event.received_at, {
            **_pick("objection", raw, OBJECTION_FIELDS),
            "source": record.source,
        }
    if isinstance(event, ObjectionWithdrawn):
        if event.purpose_id not in purposes:
            return None
        return event.received_at, {
            **_pick("withdrawal", raw, WITHDRAWAL_FIELDS),
            "source": record.source,
        }
    return None


def _pick(kind: str, raw: Mapping[str, object], fields: Iterable[str]) -> ExportRecord:
    """``kind`` and the listed fields as the event carries them (absent and null left out)."""
    picked: ExportRecord = {"kind": kind}
    picked.update((name, raw[name]) for name in fields if raw.get(name) is not None)
    return picked


# --- export, report, verify -------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


async def export_campaign(
    settings: Settings,
    campaign_id: str,
    path: Path,
    fmt: Format = "jsonl",
    *,
    sign_key: Path | None = None,
    now: Callable[[], datetime] = _now,
) -> ExportResult:
    """Write the campaign's records to ``path`` as a hash chain (atomically: all or nothing).

    With ``sign_key`` (a PEM Ed25519 private key, read before anything else so
    that a wrong path fails fast), also write its signature to ``path.sig``.
    Without it, a ``path.sig`` left by an earlier export is removed: it could
    only fail against the new file.
    """
    key = None if sign_key is None else read_private_key(sign_key)
    found = await campaign_records(settings, campaign_id)
    _require_known(found)
    exported_at = now().isoformat(timespec="seconds")
    lines = list(chain(campaign_id, found.records, exported_at, fmt))
    report = verify_lines(lines)  # our own output, checked before it is handed over
    if not report.ok or report.final_sha256 is None:
        raise PreavisError(f"the export does not verify: {report.first_error}")
    data = "".join(lines).encode("utf-8")
    write_atomically(path, data)
    sig_path = signature_path(path)
    if key is None:
        sig_path.unlink(missing_ok=True)
        return ExportResult(path, fmt, len(found.records), report.final_sha256, found.invalid)
    write_atomically(sig_path, sign(data, key))
    return ExportResult(
        path,
        fmt,
        len(found.records),
        report.final_sha256,
        found.invalid,
        signature=sig_path,
        signer=fingerprint(key.public_key()),
    )


def _require_known(found: CampaignRecords) -> None:
    if not found.published and not any(r["kind"] == "notice" for r in found.records):
        raise UnknownCampaign(
            f"no campaign {found.campaign_id} on the topics: it was never published "
            "and no notice names it"
        )


async def campaign_report(settings: Settings, campaign_id: str) -> str:
    """A plain-text summary of the campaign, from the records an export would hold."""
    found = await campaign_records(settings, campaign_id)
    _require_known(found)
    return report_text(found)


def report_text(found: CampaignRecords) -> str:
    """Pure: the report of :func:`campaign_report`."""
    last: dict[str, ExportRecord] = {}  # user_id -> latest notice event (records are sorted)
    attempts = 0
    objections: list[ExportRecord] = []
    withdrawals = 0
    for record in found.records:
        if record["kind"] == "notice":
            attempts += 1
            last[str(record.get("user_id"))] = record
        elif record["kind"] == "objection":
            objections.append(record)
        else:
            withdrawals += 1
    status = Counter(str(r.get("status")) for r in last.values())
    suppressed = Counter(
        str(r.get("reason")) for r in last.values() if r.get("status") == "suppressed"
    )
    objectors = {(r.get("user_id"), r.get("purpose_id")) for r in objections}
    channels = Counter(str(r.get("channel")) for r in objections)
    rows = [
        ("published", "yes" if found.published else "no (not on the policy topics)"),
        ("purposes", ", ".join(found.purposes) or "-"),
        ("notified users", f"{len(last)} ({attempts} delivery event(s))"),
        *((name, str(status.get(name, 0))) for name in ("sent", "deferred", "failed", "bounced")),
        ("suppressed", _counts(suppressed) if suppressed else "0"),
        (
            "objections",
            f"{len(objections)} recorded by {len(objectors)} user/purpose pair(s)"
            + (f" ({_counts(channels)})" if channels else ""),
        ),
        ("withdrawals", str(withdrawals)),
    ]
    lines = [f"campaign {found.campaign_id}"]
    lines += [f"  {label:<17} {value}" for label, value in rows]
    if found.invalid:
        lines.append(f"  ({found.invalid} record(s) not following the contract were ignored)")
    return "\n".join(lines)


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{name}: {n}" for name, n in sorted(counter.items()))


def verify_file(path: Path, expect_sha256: str | None = None) -> VerifyReport:
    """Verify an export file; with ``expect_sha256``, also that it is *that* export."""
    with path.open(encoding="utf-8", newline="") as lines:
        report = verify_lines(lines)
    expected = None if expect_sha256 is None else expect_sha256.strip().lower()
    if report.ok and expected is not None and report.final_sha256 != expected:
        return dataclasses.replace(
            report,
            ok=False,
            first_error=VerifyError(
                0,
                f"the chain is intact but its final sha256 is {report.final_sha256}, "
                f"not the expected {expect_sha256}: this is not the export you kept the hash of",
            ),
        )
    return report


def what_it_proves(*, expected: bool, signed: SignatureCheck | None, sig_present: bool) -> str:
    """What an intact file proves, given what it was checked against: said plainly.

    The chain has no key. On its own it shows the file is consistent, not
    that it is the file that was exported: whoever rewrites the whole file can
    compute a new chain. Only a hash kept apart, or a signature, ties it to
    its maker.
    """
    if signed is not None and signed.ok:
        return (
            "what this proves: the holder of the private key of this public key signed this "
            "exact file, and nothing in it changed since"
            + (" (and it is the export whose final sha256 was kept apart)" if expected else "")
        )
    if expected:
        return (
            "what this proves: this is the export whose final sha256 was kept apart, "
            "unchanged since it was exported"
        )
    hint = (
        "; a signature is next to the file: check it with --public-key PUB.pem"
        if sig_present
        else ", or sign exports (`preavis campaign ID --export FILE --sign-key KEY.pem`) "
        "and check them with --public-key PUB.pem"
    )
    return (
        "what this proves: the file is internally consistent (no record was changed, "
        "removed, added or reordered on its own). The chain has no key, so it does not prove "
        "that nobody rewrote the whole file: compare the final sha256 above with the one kept "
        "apart at export time (--expect-sha256 HEX)" + hint
    )
