"""A campaign's status and statistics, folded from its ledger: pure, tested without Kafka.

``rejected``: the change failed validation, nothing was sent.
``running``: some partition has not been fanned out, or some notified person
has no final outcome yet (sent, failed, bounced, or suppressed at delivery).
``completed``: every partition fanned out and every notified person has one.

The document also counts, by country and by language: the audience (notified
plus suppressed at fan-out), final delivery outcomes and objections.
:func:`summary` turns it into the shape of ``GET /api/v1/campaigns/{id}``.

The document is the ``campaigns`` table's JSON value, typed as
:class:`CampaignStatus`; the ledger records come in as the models of
``notifications.internal_events``, already parsed.
"""

from __future__ import annotations

from copy import deepcopy
from datetime import datetime
from typing import Literal, NotRequired, TypedDict, cast, overload

from pydantic import TypeAdapter

from notifications.campaign import Kind
from notifications.internal_events import (
    CampaignAlerted,
    CampaignObjection,
    CampaignRegistered,
    FinalOutcome,
    LedgerEntry,
    PartitionFannedOut,
    PersonDecided,
)

FINAL_DELIVERY_STATUSES = frozenset({"sent", "failed", "bounced", "suppressed"})
#: The ledger record of one person's final delivery outcome.
FINAL_OUTCOME = "campaign.final_outcome"
BREAKDOWN_KEYS = ("audience", "sent", "failed", "bounced", "suppressed", "objections")

StatusName = Literal["rejected", "running", "completed"]
#: One country's or language's row: ``BREAKDOWN_KEYS`` -> count.
Breakdown = dict[str, int]
_Group = Literal["by_country", "by_language"]
_TIME: TypeAdapter[datetime] = TypeAdapter(datetime)


class CampaignStatus(TypedDict):
    """A campaign's document, the ``campaigns`` table's value (times as ISO strings)."""

    campaign_id: str
    kind: Kind
    status: StatusName
    reasons: list[str]
    purposes: list[str]
    audience_rules: dict[str, object]
    starts_at: str
    published_at: str
    registered_at: str
    partitions: int
    partitions_done: list[int]
    notified: int
    suppressed: dict[str, int]
    excluded: dict[str, int]
    finals: dict[str, int]
    delivery_suppressed: dict[str, int]
    objections: int
    objections_by_day: dict[str, int]
    by_country: dict[str, Breakdown]
    by_language: dict[str, Breakdown]
    alerts: list[str]
    #: the last ledger offset folded in (``notifications.ledger_step``)
    ledger_offset: NotRequired[int]


class CampaignSummary(TypedDict):
    """``GET /api/v1/campaigns/{id}``: a campaign's counts, rates, time left and risk."""

    campaign_id: str
    kind: Kind
    status: StatusName
    reasons: list[str]
    purposes: list[str]
    starts_at: str
    published_at: str
    time_left_seconds: float
    audience: int
    sent: int
    deferred: int
    failed: int
    bounced: int
    suppressed: dict[str, int]
    excluded: dict[str, int]
    objections: int
    objection_rate: float
    objections_by_day: dict[str, int]
    by_country: dict[str, Breakdown]
    by_language: dict[str, Breakdown]
    deadline_at_risk: bool
    alerts: list[str]


def _json_time(value: datetime) -> str:
    """A time as the ledger's JSON wrote it (``Z`` for UTC), the document's form."""
    return _TIME.dump_python(value, mode="json")  # type: ignore[no-any-return]


def new_status(registered: CampaignRegistered) -> CampaignStatus:
    """The document of a campaign that was just registered."""
    return {
        "campaign_id": registered.campaign_id,
        "kind": registered.kind,
        "status": registered.status,
        "reasons": list(registered.reasons),
        "purposes": list(registered.purposes),
        "audience_rules": dict(registered.audience),
        "starts_at": _json_time(registered.starts_at),
        "published_at": _json_time(registered.published_at),
        "registered_at": _json_time(registered.at),
        "partitions": registered.partitions,
        "partitions_done": [],
        "notified": 0,
        "suppressed": {},
        "excluded": {},
        "finals": {},
        "delivery_suppressed": {},
        "objections": 0,
        "objections_by_day": {},
        "by_country": {},
        "by_language": {},
        "alerts": [],
    }


def fold(doc: CampaignStatus | None, entry: LedgerEntry) -> CampaignStatus | None:
    """``doc`` after ``entry``; None if ``doc`` is None and stays so."""
    if isinstance(entry, CampaignRegistered):
        if doc is None or doc["status"] == "rejected":
            return new_status(entry)
        return doc  # a republication or a replay: the campaign already runs
    if doc is None or doc["status"] == "rejected":
        return doc
    doc = deepcopy(doc)
    if isinstance(entry, PartitionFannedOut):
        _fold_partition(doc, entry)
    elif isinstance(entry, PersonDecided):
        reason = entry.reason or "unknown"
        if entry.outcome == "notify":
            doc["notified"] += 1
        elif entry.outcome == "suppress":
            _add(doc["suppressed"], {reason: 1})
        elif entry.outcome == "exclude":
            _add(doc["excluded"], {reason: 1})
        if entry.outcome in ("notify", "suppress"):
            _count_person(doc, entry, "audience")
        if entry.outcome == "suppress":
            _count_person(doc, entry, "suppressed")
    elif isinstance(entry, FinalOutcome):
        _add(doc["finals"], {entry.status: 1})
        if entry.status == "suppressed":
            _add(doc["delivery_suppressed"], {entry.reason or "unknown": 1})
        _count_person(doc, entry, entry.status)
    elif isinstance(entry, CampaignObjection):
        doc["objections"] += 1
        _add(doc["objections_by_day"], {entry.at.date().isoformat(): 1})
        _count_person(doc, entry, "objections")
    elif isinstance(entry, CampaignAlerted) and entry.code not in doc["alerts"]:
        doc["alerts"] = [*doc["alerts"], entry.code]
    doc["status"] = "completed" if is_complete(doc) else "running"
    return doc


def _fold_partition(doc: CampaignStatus, entry: PartitionFannedOut) -> None:
    if entry.partition in doc["partitions_done"]:
        return
    doc["partitions_done"] = sorted([*doc["partitions_done"], entry.partition])
    doc["notified"] += entry.notified
    _add(doc["suppressed"], entry.suppressed)
    _add(doc["excluded"], entry.excluded)
    groups: tuple[tuple[_Group, dict[str, int], dict[str, int]], ...] = (
        ("by_country", entry.by_country, entry.suppressed_by_country),
        ("by_language", entry.by_language, entry.suppressed_by_language),
    )
    for group, audience, suppressed in groups:
        for value, n in audience.items():
            _count(doc, group, value, "audience", n)
        for value, n in suppressed.items():
            _count(doc, group, value, "suppressed", n)


def is_complete(doc: CampaignStatus) -> bool:
    """Every partition fanned out, every notified person with a final outcome."""
    finals = sum(n for status, n in doc["finals"].items() if status in FINAL_DELIVERY_STATUSES)
    return len(doc["partitions_done"]) >= doc["partitions"] and finals >= doc["notified"]


# mypy calls the two forms overlapping: a CampaignStatus is a dict at run time, and the
# same document may be held either way; the result is the same dict in both.
@overload
def summary(  # type: ignore[overload-overlap]
    doc: CampaignStatus, now: datetime, risk_days: float = 7.0
) -> CampaignSummary: ...
@overload
def summary(doc: dict[str, object], now: datetime, risk_days: float = 7.0) -> dict[str, object]: ...
def summary(
    doc: CampaignStatus | dict[str, object], now: datetime, risk_days: float = 7.0
) -> CampaignSummary | dict[str, object]:
    """The API's view of a campaign: counts, rates, the time left, the risk.

    The second form types the same call for a caller that holds documents as
    plain JSON (the campaign follower of the compliance views).
    """
    return _summary(cast(CampaignStatus, doc), now, risk_days)


def _summary(doc: CampaignStatus, now: datetime, risk_days: float) -> CampaignSummary:
    finals = doc.get("finals") or {}
    suppressed = dict(doc.get("suppressed") or {})
    _add(suppressed, doc.get("delivery_suppressed") or {})
    fanout_suppressed = sum((doc.get("suppressed") or {}).values())
    audience = doc.get("notified", 0) + fanout_suppressed
    decided = sum(finals.get(s, 0) for s in FINAL_DELIVERY_STATUSES)
    time_left = (datetime.fromisoformat(doc["starts_at"]) - now).total_seconds()
    running = doc["status"] == "running"
    return {
        "campaign_id": doc["campaign_id"],
        "kind": doc["kind"],
        "status": doc["status"],
        "reasons": doc.get("reasons") or [],
        "purposes": doc.get("purposes") or [],
        "starts_at": doc["starts_at"],
        "published_at": doc["published_at"],
        "time_left_seconds": time_left,
        "audience": audience,
        "sent": finals.get("sent", 0),
        "deferred": max(doc.get("notified", 0) - decided, 0) if running else 0,
        "failed": finals.get("failed", 0),
        "bounced": finals.get("bounced", 0),
        "suppressed": suppressed,
        "excluded": dict(doc.get("excluded") or {}),
        "objections": doc.get("objections", 0),
        "objection_rate": (doc.get("objections", 0) / audience) if audience else 0.0,
        "objections_by_day": dict(doc.get("objections_by_day") or {}),
        "by_country": doc.get("by_country") or {},
        "by_language": doc.get("by_language") or {},
        "deadline_at_risk": running and time_left < risk_days * 86400,
        "alerts": doc.get("alerts") or [],
    }


def _count_person(
    doc: CampaignStatus, entry: PersonDecided | FinalOutcome | CampaignObjection, key: str
) -> None:
    _count(doc, "by_country", entry.country or "unknown", key, 1)
    _count(doc, "by_language", entry.language or "unknown", key, 1)


def _count(doc: CampaignStatus, group: _Group, value: str, key: str, n: int) -> None:
    row = doc[group].setdefault(value, dict.fromkeys(BREAKDOWN_KEYS, 0))
    row[key] = row.get(key, 0) + n


def _add(into: dict[str, int], counts: dict[str, int]) -> None:
    for key, n in counts.items():
        into[key] = into.get(key, 0) + int(n)
