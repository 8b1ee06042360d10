"""Offsets that jump on a job topic are reported (streams.runtime.offset_gaps)."""

from __future__ import annotations

import logging

import pytest

from streams.runtime.offset_gaps import GAP_MESSAGE, OffsetGaps


def test_consecutive_offsets_are_not_a_gap() -> None:
    gaps = OffsetGaps()
    assert [gaps.observe("jobs", 0, o) for o in (75, 76, 77)] == [None, None, None]
    assert gaps.found == 0


def test_a_jump_is_reported_with_the_missing_range(caplog: pytest.LogCaptureFixture) -> None:
    gaps = OffsetGaps()
    for offset in range(75, 82):
        gaps.observe("jobs", 5, offset)
    with caplog.at_level(logging.ERROR):
        assert gaps.observe("jobs", 5, 94) == (82, 93)
    assert gaps.found == 1
    assert GAP_MESSAGE in caplog.text and "jobs[5] 82..93 (12 record(s))" in caplog.text


def test_partitions_are_tracked_apart_and_a_reread_is_not_a_gap() -> None:
    gaps = OffsetGaps()
    gaps.observe("jobs", 0, 10)
    gaps.observe("jobs", 1, 500)
    assert gaps.observe("jobs", 0, 11) is None
    assert gaps.observe("jobs", 0, 3) is None  # read again after a seek back
    assert gaps.observe("jobs", 0, 4) is None


def test_after_a_rebalance_the_next_offset_is_a_new_start() -> None:
    gaps = OffsetGaps()
    gaps.observe("jobs", 0, 10)
    gaps.forget()
    assert gaps.observe("jobs", 0, 900) is None  # another worker did 11..899
    assert gaps.found == 0
