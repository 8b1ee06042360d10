"""A user's objections, as the objections table keeps them: pure functions.

The table's value is :data:`ObjectionState`, ``{purpose_id: ObjectionEntry}``.
An objection to a purpose already objected to changes nothing (a repeated
click records nothing new); a withdrawal removes the purpose.

This module is a leaf of the core (``notifications.events`` imports its
:data:`REASON_MAX_CHARS`), so the event models are named for the type checker
only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    from notifications.event_types import ObjectionChannel
    from notifications.events import ObjectionRecorded

#: The longest free-text reason an objection keeps (the form's ``maxlength``; the views
#: and the event model cut beyond it).
REASON_MAX_CHARS = 2000


class ObjectionEntry(TypedDict):
    """One purpose objected to: which ``objection.recorded`` said so, and when.

    No reason here: free text lives in ``objection_reasons``, where erasure
    reaches it. The time is an ISO string, as the table's JSON stores it.
    """

    objection_id: str
    campaign_id: str | None
    channel: ObjectionChannel
    received_at: str


#: An objections table value: purpose_id -> the objection to it.
ObjectionState = dict[str, ObjectionEntry]


def objected_to_any(state: ObjectionState | None, purposes: Sequence[str]) -> bool:
    """Whether the user objects to at least one of ``purposes``."""
    return state is not None and any(purpose in state for purpose in purposes)


def new_purposes(state: ObjectionState | None, purposes: Sequence[str]) -> list[str]:
    """The purposes of ``purposes`` not yet objected to, in order, without repeats."""
    held = state or {}
    return [p for i, p in enumerate(purposes) if p not in held and p not in purposes[:i]]


def entry_of(event: ObjectionRecorded) -> ObjectionEntry:
    """What the table keeps of ``event`` (everything but who and which purpose, the keys)."""
    return {
        "objection_id": event.objection_id,
        "campaign_id": event.campaign_id,
        "channel": event.channel,
        "received_at": event.received_at.isoformat(),
    }


def with_objection(state: ObjectionState | None, event: ObjectionRecorded) -> ObjectionState:
    """``state`` plus the objection ``event`` records (it replaces one to the same purpose)."""
    return {**(state or {}), event.purpose_id: entry_of(event)}


def without_objection(state: ObjectionState | None, purpose_id: str) -> ObjectionState | None:
    """``state`` minus ``purpose_id``; None when there was no such objection."""
    if not state or purpose_id not in state:
        return None
    return {p: entry for p, entry in state.items() if p != purpose_id}
