"""The exclusion list's merge rule: per user, every purpose their data must not be used for.

``training.exclusions`` is compacted and keyed by user_id, so each record must
carry the whole list for its user: an objection recorded after a
``below_min_age`` exclusion must not erase it. The ``exclusions`` table holds
that whole list (:class:`ExclusionEntry`); these functions say how one
exclusion, or its withdrawal, changes it, and what record the pipelines then
read. Publishing is the objections domain's (``streams.objections.exclusions``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict, cast, get_args

from notifications.event_types import ExclusionReason
from notifications.events import TrainingExclusion

__all__ = [
    "ExclusionEntry",
    "ExclusionReason",
    "as_exclusion_reason",
    "exclusion_record",
    "merged",
    "without",
]

_REASONS: frozenset[str] = frozenset(get_args(ExclusionReason))


class ExclusionEntry(TypedDict):
    """An ``exclusions`` table value: purpose -> why, and since when (ISO, as JSON stores it)."""

    reasons: dict[str, ExclusionReason]
    since: str


def as_exclusion_reason(value: str) -> ExclusionReason:
    """``value`` as an exclusion reason; ValueError naming the field for any other text."""
    if value not in _REASONS:
        raise ValueError(f"reason: not an exclusion reason: {value!r}")
    return cast(ExclusionReason, value)


def merged(
    current: ExclusionEntry | None, purpose_id: str, reason: ExclusionReason, now: datetime
) -> ExclusionEntry | None:
    """``current`` with ``purpose_id`` excluded for ``reason``; None when nothing changes.

    An objection outranks ``below_min_age`` (it is the person's own choice and
    outlives their birthday); ``below_min_age`` never replaces an objection.
    ``since`` is the first exclusion's time: the list has held the user since then.
    """
    reasons = dict(current["reasons"]) if current else {}
    if reasons.get(purpose_id) == reason or (reason == "below_min_age" and purpose_id in reasons):
        return None
    reasons[purpose_id] = reason
    return {"reasons": reasons, "since": current["since"] if current else now.isoformat()}


def without(
    current: ExclusionEntry | None, purpose_id: str, reason: ExclusionReason
) -> ExclusionEntry | None:
    """``current`` minus an exclusion of ``purpose_id`` for ``reason``; None when absent.

    The result may hold no reason at all: the user then leaves the list.
    """
    if current is None or current["reasons"].get(purpose_id) != reason:
        return None
    reasons = {p: r for p, r in current["reasons"].items() if p != purpose_id}
    return {"reasons": reasons, "since": current["since"]}


def exclusion_record(user_id: str, entry: ExclusionEntry) -> TrainingExclusion | None:
    """The ``training.exclusion`` pipelines read for ``entry``; None (a tombstone) when empty."""
    if not entry["reasons"]:
        return None
    return TrainingExclusion(
        user_id=user_id,
        purposes=sorted(entry["reasons"]),
        reasons=dict(entry["reasons"]),
        since=datetime.fromisoformat(entry["since"]),
    )
