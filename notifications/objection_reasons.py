"""Objection reasons as the ``objection_reasons`` table keeps them, apart from the proof.

A reason is free text and may say anything about its author, so it is kept
where erasure can reach it (``streams.objections.reasons`` says why), with the
position of the record that carried it: on erasure, the copies still on the
request queue can then be deleted up to that position.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple, TypedDict


class RecordPosition(NamedTuple):
    """Where a record was read: topic, partition, offset."""

    topic: str
    partition: int
    offset: int


class KeptReason(TypedDict):
    """One objection's reason, its purpose, when, and the record it came in."""

    purpose_id: str
    reason: str
    received_at: str
    #: ``[topic, partition, offset]`` (a JSON array) of the record that carried the reason
    source: list[str | int]


#: An ``objection_reasons`` table value: objection_id -> its kept reason.
ReasonsEntry = dict[str, KeptReason]


def with_reason(
    entry: ReasonsEntry | None,
    objection_id: str,
    purpose_id: str,
    reason: str,
    received_at: datetime,
    source: RecordPosition,
) -> ReasonsEntry:
    """``entry`` plus ``reason`` for ``objection_id``."""
    kept: KeptReason = {
        "purpose_id": purpose_id,
        "reason": reason,
        "received_at": received_at.isoformat(),
        "source": [source.topic, source.partition, source.offset],
    }
    return {**(entry or {}), objection_id: kept}


def copies_before(entry: ReasonsEntry, topic: str) -> dict[int, int]:
    """Per partition of ``topic``, the first offset after every record that carried a reason.

    Deleting the partition's records before that offset removes every copy of
    the user's reasons there (and only records already processed).
    """
    upto: dict[int, int] = {}
    for kept in entry.values():
        match kept.get("source"):
            case [str(source_topic), int(partition), int(offset)] if source_topic == topic:
                upto[partition] = max(upto.get(partition, 0), offset + 1)
            case _:
                pass
    return upto
