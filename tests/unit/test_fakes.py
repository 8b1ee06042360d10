"""The fakes satisfy the ports, as the Faust wrappers do (mypy checks the assignments)."""

from __future__ import annotations

from typing import Any

from streams.ports import Table, Topic
from tests.support.fakes import MemoryTable, RecordingTopic


async def test_fakes_record_what_was_written_and_whether_it_was_acknowledged() -> None:
    table: Table[dict[str, Any]] = MemoryTable()
    topic: Topic = RecordingTopic("t")
    await topic.send(key=b"k", value=b"v")
    await topic.send_acked(key=b"k", value=b"w", partition=3)
    await table.put_acked(3, "k", {"a": 1})
    table["j"] = {"b": 2}
    assert isinstance(topic, RecordingTopic) and isinstance(table, MemoryTable)
    assert [(s.value, s.partition, s.acked) for s in topic.sent] == [
        (b"v", None, False),
        (b"w", 3, True),
    ]
    assert table.durable == [(3, "k")] and table.get("j") == {"b": 2} and "k" in table
