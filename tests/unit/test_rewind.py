"""Which partitions a seek to committed must rewind, and how a log line names them."""

from __future__ import annotations

from aiokafka import TopicPartition

from streams.runtime.rewind import describe, partitions_without_commit


def test_nothing_committed_and_committed_at_zero_are_rewound_skipped_topics_are_not() -> None:
    committed = {
        TopicPartition("jobs", 1): None,
        TopicPartition("jobs", 0): 0,
        TopicPartition("jobs", 2): 17,
        TopicPartition("app-table-changelog", 0): None,
    }

    fresh = partitions_without_commit(committed, skip_topics={"app-table-changelog"})

    assert fresh == [TopicPartition("jobs", 0), TopicPartition("jobs", 1)]


def test_a_log_line_lists_partitions_by_topic() -> None:
    partitions = [TopicPartition("users", 3), TopicPartition("jobs", 1), TopicPartition("users", 0)]

    assert describe(partitions) == "users[0,3] jobs[1]"
