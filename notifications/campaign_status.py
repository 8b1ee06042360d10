"""A campaign's status, folded from its ledger: pure, so it is tested without Kafka.

``rejected``: the change failed validation, nothing was sent.
``running``: some partition has not been fanned out, or some notified person
has no final outcome yet (sent, failed, bounced, or suppressed at delivery).
``completed``: every partition fanned out and every notified person has one.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

FINAL_DELIVERY_STATUSES = frozenset({"sent", "failed", "bounced", "suppressed"})


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
    elif kind == "campaign.late_decision":
        if entry["outcome"] == "notify":
            doc["notified"] += 1
        elif entry["outcome"] == "suppress":
            _add(doc["suppressed"], {entry.get("reason") or "unknown": 1})
        elif entry["outcome"] == "exclude":
            _add(doc["excluded"], {entry.get("reason") or "unknown": 1})
    elif kind == "campaign.final_outcome":
        _add(doc["finals"], {entry["status"]: 1})
    doc["status"] = "completed" if is_complete(doc) else "running"
    return doc


def is_complete(doc: dict[str, Any]) -> bool:
    """Every partition fanned out, every notified person with a final outcome."""
    finals = sum(n for status, n in doc["finals"].items() if status in FINAL_DELIVERY_STATUSES)
    return bool(len(doc["partitions_done"]) >= doc["partitions"] and finals >= doc["notified"])


def _add(into: dict[str, int], counts: dict[str, int]) -> None:
    for key, n in counts.items():
        into[key] = into.get(key, 0) + int(n)
