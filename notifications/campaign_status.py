"""A campaign's status and statistics, folded from its ledger: pure, tested without Kafka.

``rejected``: the change failed validation, nothing was sent.
``running``: some partition has not been fanned out, or some notified person
has no final outcome yet (sent, failed, bounced, or suppressed at delivery).
``completed``: every partition fanned out and every notified person has one.

The document also counts, by country and by language: the audience (notified
plus suppressed at fan-out), final delivery outcomes and objections.
:func:`summary` turns it into the shape of ``GET /api/v1/campaigns/{id}``.
"""

from __future__ import annotations

from copy import deepcopy
from datetime import datetime
from typing import Any

FINAL_DELIVERY_STATUSES = frozenset({"sent", "failed", "bounced", "suppressed"})
#: The ledger record of one person's final delivery outcome.
FINAL_OUTCOME = "campaign.final_outcome"
BREAKDOWN_KEYS = ("audience", "sent", "failed", "bounced", "suppressed", "objections")


def new_status(registered: dict[str, Any]) -> dict[str, Any]:
    """The document of a campaign that was just registered."""
    return {
        "campaign_id": registered["campaign_id"],
        "kind": registered["kind"],
        "status": registered["status"],
        "reasons": list(registered.get("reasons") or []),
        "purposes": list(registered.get("purposes") or []),
        "audience_rules": registered.get("audience") or {},
        "starts_at": registered["starts_at"],
        "published_at": registered["published_at"],
        "registered_at": registered["at"],
        "partitions": registered["partitions"],
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


def fold(doc: dict[str, Any] | None, entry: dict[str, Any]) -> dict[str, Any] | None:
    """``doc`` after ``entry`` (a ledger record as JSON); None if ``doc`` is None and stays so."""
    kind = entry["type"]
    if kind == "campaign.registered":
        if doc is None or doc["status"] == "rejected":
            return new_status(entry)
        return doc  # a republication or a replay: the campaign already runs
    if doc is None or doc["status"] == "rejected":
        return doc
    doc = deepcopy(doc)
    if kind == "campaign.partition_done":
        if entry["partition"] in doc["partitions_done"]:
            return doc
        doc["partitions_done"] = sorted([*doc["partitions_done"], entry["partition"]])
        doc["notified"] += entry.get("notified", 0)
        _add(doc["suppressed"], entry.get("suppressed") or {})
        _add(doc["excluded"], entry.get("excluded") or {})
        for group in ("by_country", "by_language"):
            for value, n in (entry.get(group) or {}).items():
                _count(doc, group, value, "audience", n)
            for value, n in (entry.get(f"suppressed_{group}") or {}).items():
                _count(doc, group, value, "suppressed", n)
    elif kind == "campaign.late_decision":
        reason = entry.get("reason") or "unknown"
        if entry["outcome"] == "notify":
            doc["notified"] += 1
        elif entry["outcome"] == "suppress":
            _add(doc["suppressed"], {reason: 1})
        elif entry["outcome"] == "exclude":
            _add(doc["excluded"], {reason: 1})
        if entry["outcome"] in ("notify", "suppress"):
            _count_person(doc, entry, "audience")
        if entry["outcome"] == "suppress":
            _count_person(doc, entry, "suppressed")
    elif kind == FINAL_OUTCOME:
        _add(doc["finals"], {entry["status"]: 1})
        if entry["status"] == "suppressed":
            _add(doc["delivery_suppressed"], {entry.get("reason") or "unknown": 1})
        _count_person(doc, entry, entry["status"])
    elif kind == "campaign.objection":
        doc["objections"] += 1
        day = str(entry["at"])[:10]
        _add(doc["objections_by_day"], {day: 1})
        _count_person(doc, entry, "objections")
    elif kind == "campaign.alerted" and entry["code"] not in doc["alerts"]:
        doc["alerts"] = [*doc["alerts"], entry["code"]]
    doc["status"] = "completed" if is_complete(doc) else "running"
    return doc


def is_complete(doc: dict[str, Any]) -> bool:
    """Every partition fanned out, every notified person with a final outcome."""
    finals = sum(n for status, n in doc["finals"].items() if status in FINAL_DELIVERY_STATUSES)
    return bool(len(doc["partitions_done"]) >= doc["partitions"] and finals >= doc["notified"])


def summary(doc: dict[str, Any], now: datetime, risk_days: float = 7.0) -> dict[str, Any]:
    """The API's view of a campaign: counts, rates, the time left, the risk."""
    finals = doc.get("finals") or {}
    suppressed = dict(doc.get("suppressed") or {})
    _add(suppressed, doc.get("delivery_suppressed") or {})
    fanout_suppressed = sum((doc.get("suppressed") or {}).values())
    audience = doc.get("notified", 0) + fanout_suppressed
    decided = sum(finals.get(s, 0) for s in FINAL_DELIVERY_STATUSES)
    time_left = (datetime.fromisoformat(str(doc["starts_at"])) - now).total_seconds()
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


def _count_person(doc: dict[str, Any], entry: dict[str, Any], key: str) -> None:
    for group, field in (("by_country", "country"), ("by_language", "language")):
        _count(doc, group, entry.get(field) or "unknown", key, 1)


def _count(doc: dict[str, Any], group: str, value: str, key: str, n: int) -> None:
    row = doc[group].setdefault(value, dict.fromkeys(BREAKDOWN_KEYS, 0))
    row[key] = row.get(key, 0) + n


def _add(into: dict[str, int], counts: dict[str, int]) -> None:
    for key, n in counts.items():
        into[key] = into.get(key, 0) + int(n)
