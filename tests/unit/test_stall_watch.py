"""The stall watch resumes a partition only when it is truly left behind."""

from __future__ import annotations

from dataclasses import replace

from streams.stall_watch import PartitionView, StallWatch, looks_stalled

STUCK = PartitionView(
    topic="preavis.notice-jobs",
    partition=7,
    fetching=False,
    read_offset=None,
    committed=133,
    end_offset=191,
    buffer_size=0,
    buffer_low=1638,
)


def test_a_partition_off_the_fetch_list_with_records_waiting_and_no_progress_is_stalled() -> None:
    assert looks_stalled(STUCK, STUCK)


def test_the_first_sight_of_a_partition_is_never_a_stall() -> None:
    assert not looks_stalled(STUCK, None)


def test_a_fetching_partition_is_not_stalled() -> None:
    assert not looks_stalled(replace(STUCK, fetching=True), STUCK)


def test_a_partition_with_nothing_to_read_is_not_stalled() -> None:
    caught_up = replace(STUCK, read_offset=None, committed=191)
    assert not looks_stalled(caught_up, caught_up)
    unknown_end = replace(STUCK, end_offset=None)
    assert not looks_stalled(unknown_end, unknown_end)


def test_a_partition_paused_because_the_buffer_is_full_is_not_stalled() -> None:
    pressured = replace(STUCK, buffer_size=3000)
    assert not looks_stalled(pressured, pressured)


def test_a_partition_that_made_progress_is_not_stalled() -> None:
    assert not looks_stalled(replace(STUCK, read_offset=140), replace(STUCK, read_offset=139))


def test_the_watch_resumes_after_consecutive_stalled_checks_only() -> None:
    watch = StallWatch(checks_before_resume=3)
    assert watch.observe([STUCK]) == []  # first sight
    assert watch.observe([STUCK]) == []  # 1
    assert watch.observe([STUCK]) == []  # 2
    assert watch.observe([STUCK]) == [STUCK]  # 3: resume
    assert watch.observe([STUCK]) == []  # counting starts over


def test_progress_or_a_rebalance_resets_the_count() -> None:
    watch = StallWatch(checks_before_resume=2)
    watch.observe([STUCK])
    watch.observe([STUCK])  # 1
    moving = replace(STUCK, read_offset=150, fetching=True)
    assert watch.observe([moving]) == []
    stuck_again = replace(STUCK, read_offset=150)
    assert watch.observe([stuck_again]) == []  # 1
    watch.forget()
    assert watch.observe([stuck_again]) == []  # first sight again
    assert watch.observe([stuck_again]) == []  # 1
    assert watch.observe([stuck_again]) == [stuck_again]
