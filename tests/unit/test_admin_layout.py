"""ensure_topics reads the metadata: a topic counts once every partition has a leader."""

from __future__ import annotations

from streams.admin import _partition_counts


def partition(index: int, leader: int) -> dict[str, object]:
    return {"error_code": 0, "partition": index, "leader": leader, "replicas": [1], "isr": [1]}


def test_a_topic_counts_once_every_partition_has_a_leader() -> None:
    described: list[dict[str, object]] = [
        {"error_code": 0, "topic": "users", "partitions": [partition(0, 1), partition(1, 1)]},
        {"error_code": 0, "topic": "notices", "partitions": [partition(0, 1), partition(1, -1)]},
        {"error_code": 3, "topic": "missing", "partitions": []},
    ]
    assert _partition_counts(described) == {"users": 2}
