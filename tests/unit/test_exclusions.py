"""The exclusion list's merge rule (notifications.exclusions): the whole list, per user."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from notifications.exclusions import (
    ExclusionEntry,
    as_exclusion_reason,
    exclusion_record,
    merged,
    without,
)

FIRST = datetime(2026, 1, 1, tzinfo=UTC)
LATER = datetime(2026, 2, 1, tzinfo=UTC)


def test_the_first_exclusion_starts_the_list_and_later_ones_keep_its_time() -> None:
    entry = merged(None, "ai-training", "below_min_age", FIRST)
    assert entry == {"reasons": {"ai-training": "below_min_age"}, "since": FIRST.isoformat()}
    more = merged(entry, "ads", "objection", LATER)
    assert more == {
        "reasons": {"ai-training": "below_min_age", "ads": "objection"},
        "since": FIRST.isoformat(),
    }
    assert entry["reasons"] == {"ai-training": "below_min_age"}  # not changed in place


def test_an_objection_replaces_below_min_age_but_not_the_other_way_round() -> None:
    young: ExclusionEntry = {"reasons": {"ai": "below_min_age"}, "since": FIRST.isoformat()}
    objected = merged(young, "ai", "objection", LATER)
    assert objected is not None and objected["reasons"] == {"ai": "objection"}
    assert merged(objected, "ai", "below_min_age", LATER) is None
    assert merged(objected, "ai", "objection", LATER) is None  # nothing new
    assert merged(young, "ai", "below_min_age", LATER) is None


def test_a_withdrawal_lifts_only_an_exclusion_for_its_reason() -> None:
    entry: ExclusionEntry = {
        "reasons": {"ai": "objection", "kids": "below_min_age"},
        "since": FIRST.isoformat(),
    }
    assert without(entry, "kids", "objection") is None  # an objection's withdrawal: not age
    assert without(entry, "other", "objection") is None
    assert without(None, "ai", "objection") is None
    assert without(entry, "ai", "objection") == {
        "reasons": {"kids": "below_min_age"},
        "since": FIRST.isoformat(),
    }


def test_the_record_carries_the_whole_list_and_an_empty_one_is_a_tombstone() -> None:
    entry: ExclusionEntry = {
        "reasons": {"b": "objection", "a": "below_min_age"},
        "since": FIRST.isoformat(),
    }
    record = exclusion_record("u1", entry)
    assert record is not None
    assert (record.user_id, record.purposes, record.since) == ("u1", ["a", "b"], FIRST)
    assert record.reasons == {"a": "below_min_age", "b": "objection"}
    assert exclusion_record("u1", {"reasons": {}, "since": FIRST.isoformat()}) is None


def test_an_unknown_reason_is_refused_by_name() -> None:
    assert as_exclusion_reason("below_min_age") == "below_min_age"
    with pytest.raises(ValueError, match="reason: not an exclusion reason"):
        as_exclusion_reason("no_email")
