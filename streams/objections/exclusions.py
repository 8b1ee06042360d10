"""Publishing the exclusion list: the ``exclusions`` table, then ``training.exclusions``.

The table (co-partitioned with ``users``) holds each user's whole list, and
every change publishes it again on the compacted topic, whole, so that the
pipelines' last record per user is the list (the merge rule:
:mod:`notifications.exclusions`); an emptied list publishes a tombstone, so that
their view forgets the user. Objections and withdrawals call these, and so does
the campaigns domain for users below a campaign's minimum age.
"""

from __future__ import annotations

from datetime import datetime

from notifications.events import encode
from notifications.exclusions import (
    ExclusionEntry,
    ExclusionReason,
    exclusion_record,
    merged,
    without,
)
from streams.ports import Table, Topic


async def publish(topic: Topic, user_id: str, entry: ExclusionEntry) -> None:
    """Send ``user_id``'s whole list (a tombstone when empty)."""
    record = exclusion_record(user_id, entry)
    await topic.send(key=user_id.encode(), value=None if record is None else encode(record))


async def exclude(
    table: Table[ExclusionEntry],
    topic: Topic,
    user_id: str,
    purpose_id: str,
    reason: ExclusionReason,
    now: datetime,
) -> bool:
    """Exclude ``user_id`` from ``purpose_id`` and publish their whole list; False if no change."""
    entry = merged(table.get(user_id), purpose_id, reason, now)
    if entry is None:
        return False
    table[user_id] = entry
    await publish(topic, user_id, entry)
    return True


async def unexclude(
    table: Table[ExclusionEntry],
    topic: Topic,
    user_id: str,
    purpose_id: str,
    reason: ExclusionReason,
) -> bool:
    """Lift ``user_id``'s exclusion from ``purpose_id`` for ``reason``; False if none."""
    entry = without(table.get(user_id), purpose_id, reason)
    if entry is None:
        return False
    if entry["reasons"]:
        table[user_id] = entry
    else:
        del table[user_id]
    await publish(topic, user_id, entry)
    return True
