"""Objection reasons: kept where erasure can reach them, and nowhere else.

A reason is free text ("I am Erin, 12 rue des Lilas...") and may say anything
about its author. ``consent.objections`` is the proof of the objection and is
kept for years on a delete-policy topic, where one record cannot be removed
on its own: so preavis writes its ``objection.recorded`` there *without* the
reason (the field stays in the contract, optional), and keeps the reason in
the table ``objection_reasons`` (user_id -> objection_id -> purpose, reason,
time, :mod:`notifications.objection_reasons`), whose changelog is compacted.
On ``user.erased`` the user's entry is deleted: a tombstone on the changelog,
and the old values go with the next compaction.

The reason also crossed ``preavis.objection-requests`` (from the web page to
this partition's agent), a delete-policy queue. Once the reason is here, that
copy has served its purpose; on erasure, the records of the partition up to
the last request that carried one of the user's reasons are deleted from the
queue (:mod:`streams.objections.request_purge`). The queue is only read by
the objections agent, which processes it in order: every record before a
processed one is processed too, so nothing is lost but copies.

A reason the platform itself writes on ``consent.objections`` is kept here
too, but its copy there is the platform's record: preavis cannot delete it.
Platforms should send reasons through ``POST /api/v1/objections`` instead.
"""

from __future__ import annotations

from collections.abc import Callable

from notifications.events import ObjectionRecorded
from notifications.internal_events import TOPIC_OBJECTION_REQUESTS
from notifications.objection_reasons import (
    ReasonsEntry,
    RecordPosition,
    copies_before,
    with_reason,
)
from streams.ports import Table

#: Deletes the request queue's records before these offsets (partition -> offset), later.
Purge = Callable[[dict[int, int]], None]


def keep_reason(
    table: Table[ReasonsEntry],
    event: ObjectionRecorded,
    reason: str | None,
    source: RecordPosition,
) -> None:
    """Keep ``reason`` (if any) of the objection ``event`` records, and where it came from."""
    if not reason:
        return
    table[event.user_id] = with_reason(
        table.get(event.user_id),
        event.objection_id,
        event.purpose_id,
        reason,
        event.received_at,
        source,
    )


def forget_reasons(table: Table[ReasonsEntry], purge: Purge, user_id: str) -> None:
    """Erasure: delete the user's reasons, and have their copies in the request queue deleted."""
    entry = table.get(user_id)
    if entry is None:
        return
    del table[user_id]
    upto = copies_before(entry, TOPIC_OBJECTION_REQUESTS)
    if upto:
        purge(upto)
