"""Writes that return only once the broker has stored them.

Faust's ``topic.send`` returns as soon as the record is in the producer's
buffer, and a table assignment (``table[key] = value``) only queues its
changelog record. Both are lost if the process is killed a moment later,
while the job that caused them may not have been committed yet: after a
restart the job runs again, and whatever the lost write was guarding (the
deliveries table's "already sent") is not there. Where that matters, the
handler awaits these helpers before it returns, so that the job is
acknowledged only after everything it wrote is durable.

Upstream (faust-streaming 0.15): ``faust/topics.py``, ``Topic.send`` (returns
a future of the broker's acknowledgement, which callers usually drop);
``mode/utils/collections.py``, ``ManagedUserDict.__setitem__`` (what
``table[key] = value`` does: ``on_key_set``, then the store),
``faust/tables/table.py``, ``Table.on_key_set`` (sends the changelog record
and drops its future) and ``faust/tables/base.py``,
``Collection.send_changelog`` (returns the ``FutureMessage``) and ``Collection.data``.
"""

from __future__ import annotations

from typing import Any


async def send_acked(
    topic: Any, *, key: bytes | None, value: bytes, partition: int | None = None
) -> None:
    """Send ``value`` to ``topic`` and wait for the broker's acknowledgement."""
    pending = await topic.send(key=key, value=value, partition=partition)
    await pending


async def set_acked(table: Any, partition: int, key: str, value: Any) -> None:
    """``table[key] = value``, returning once its changelog record is stored.

    Does what Faust's ``Table.__setitem__`` does (send the changelog record,
    update the local store) but keeps the record's future, which the item
    assignment discards. ``partition`` is the changelog partition: the
    partition of the event being processed, as Faust would choose.
    """
    pending = table.send_changelog(partition, key, value)
    table.data[key] = value
    await pending
