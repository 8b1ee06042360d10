"""The exclusions table: per user, every purpose their data must not be used for.

``training.exclusions`` is compacted and keyed by user_id, so each record must
carry the whole list for its user: an objection recorded after a
``below_min_age`` exclusion must not erase it. The table (co-partitioned with
``users``) holds that whole list; every change publishes it again, and an
empty list publishes a tombstone so that the pipelines' view forgets the user.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from notifications.events import TrainingExclusion, encode

TABLE_NAME = "exclusions"


def merged(
    current: dict[str, Any] | None, purpose_id: str, reason: str, now: datetime
) -> dict[str, Any] | None:
    """``current`` with ``purpose_id`` excluded for ``reason``; None when nothing changes."""
    reasons = dict((current or {}).get("reasons") or {})
    if reasons.get(purpose_id) == reason or (reason == "below_min_age" and purpose_id in reasons):
        return None
    reasons[purpose_id] = reason
    return {"reasons": reasons, "since": (current or {}).get("since") or now.isoformat()}


def without(current: dict[str, Any] | None, purpose_id: str, reason: str) -> dict[str, Any] | None:
    """``current`` minus an exclusion of ``purpose_id`` for ``reason``; None when absent."""
    reasons = dict((current or {}).get("reasons") or {})
    if reasons.get(purpose_id) != reason:
        return None
    del reasons[purpose_id]
    return {"reasons": reasons, "since": (current or {}).get("since")}


def record_bytes(user_id: str, entry: dict[str, Any]) -> bytes | None:
    """The ``training.exclusion`` value for ``entry``; None (a tombstone) when empty."""
    reasons = entry.get("reasons") or {}
    if not reasons:
        return None
    return encode(
        TrainingExclusion(
            user_id=user_id,
            purposes=sorted(reasons),
            reasons=reasons,
            since=datetime.fromisoformat(entry["since"]),
        )
    )


async def exclude(
    table: Any, topic: Any, user_id: str, purpose_id: str, reason: str, now: datetime
) -> bool:
    """Exclude ``user_id`` from ``purpose_id`` and publish their whole list; False if no change."""
    entry = merged(table.get(user_id), purpose_id, reason, now)
    if entry is None:
        return False
    table[user_id] = entry
    await topic.send(key=user_id.encode(), value=record_bytes(user_id, entry))
    return True


async def unexclude(table: Any, topic: Any, user_id: str, purpose_id: str, reason: str) -> bool:
    """Lift ``user_id``'s exclusion from ``purpose_id`` for ``reason``; False if none."""
    entry = without(table.get(user_id), purpose_id, reason)
    if entry is None:
        return False
    if entry["reasons"]:
        table[user_id] = entry
    else:
        del table[user_id]
    await topic.send(key=user_id.encode(), value=record_bytes(user_id, entry))
    return True
