"""A user's objections, as the objections table keeps them: pure functions.

The state is ``{purpose_id: {objection_id, campaign_id, channel, received_at}}``.
An objection to a purpose already objected to changes nothing (a repeated
click records nothing new); a withdrawal removes the purpose.
"""

from __future__ import annotations

from typing import Any

State = dict[str, dict[str, Any]]

#: The longest free-text reason an objection keeps (the form's ``maxlength``; the views
#: and the event model cut beyond it).
REASON_MAX_CHARS = 2000


def objected_to_any(state: State | None, purposes: list[str]) -> bool:
    """Whether the user objects to at least one of ``purposes``."""
    return state is not None and any(purpose in state for purpose in purposes)


def new_purposes(state: State | None, purposes: list[str]) -> list[str]:
    """The purposes of ``purposes`` not yet objected to, in order, without repeats."""
    held = state or {}
    return [p for i, p in enumerate(purposes) if p not in held and p not in purposes[:i]]


def with_objection(state: State | None, purpose_id: str, record: dict[str, Any]) -> State:
    """``state`` plus an objection to ``purpose_id`` (``record``: id, campaign, channel, time)."""
    return {**(state or {}), purpose_id: record}


def without_objection(state: State | None, purpose_id: str) -> State | None:
    """``state`` minus ``purpose_id``; None when there was no such objection."""
    if not state or purpose_id not in state:
        return None
    return {p: r for p, r in state.items() if p != purpose_id}
