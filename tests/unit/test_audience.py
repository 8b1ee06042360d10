"""Who a change concerns and what happens to each person: ``notifications.audience``.

Users are the contract's example ``user.upserted``, parsed by the real model and
stored as the directory stores them (``entry_from_upsert`` of the model), so
the rules are tested on the entries the fan-out will read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from notifications import events
from notifications import topic_names as topics
from notifications.audience import (
    ALREADY_OBJECTED,
    BELOW_MIN_AGE,
    BOUNCED_BEFORE,
    INVALID_EMAIL,
    NO_EMAIL,
    NOTIFY,
    OUTSIDE,
    AudienceRules,
    Decision,
    Verdict,
    decide,
    is_deliverable_address,
    recheck,
)
from notifications.directory import DirectoryEntry, entry_from_upsert
from tests import examples

STARTS_AT = datetime(2026, 4, 16, 9, tzinfo=UTC)
OVERLONG = "a" * 243 + "@example.com"  # 255 octets


def stored(fields: Mapping[str, Any]) -> DirectoryEntry:
    """``fields`` as a directory table value (a plain dict at run time, as the fan-out reads it)."""
    return cast(DirectoryEntry, fields)


def user(**overrides: Any) -> DirectoryEntry:
    """A directory entry: active, in Belgium, born 1988, no data_categories (holds all)."""
    value = examples.user_upserted(**overrides)
    event = events.decode(topics.TOPIC_USERS, b"key", json.dumps(value).encode())
    assert isinstance(event, events.UserUpserted)
    return entry_from_upsert(event, partition=0)


def rules(
    countries: list[str] | None = None,
    min_age: int | None = None,
    account_types: list[str] | None = None,
    data_categories: list[str] | None = None,
) -> AudienceRules:
    return AudienceRules.build(
        countries=countries,
        min_age=min_age,
        account_types=account_types,
        data_categories=data_categories,
        starts_at=STARTS_AT,
    )


EEA: dict[str, Any] = {"countries": ["EEA"]}
ADULTS: dict[str, Any] = {"min_age": 18}
PUBLIC_CONTENT: dict[str, Any] = {"data_categories": ["user.content.public"]}

# id, audience (rules kwargs), user overrides, expected decision
CASES: list[tuple[str, dict[str, Any], dict[str, Any], Decision]] = [
    # countries: EEA is the EU plus NO, IS, LI; not CH, GB, US
    ("eea-BE", EEA, {"country": "BE"}, NOTIFY),
    ("eea-GR", EEA, {"country": "GR"}, NOTIFY),
    ("eea-NO", EEA, {"country": "NO"}, NOTIFY),
    ("eea-IS", EEA, {"country": "IS"}, NOTIFY),
    ("eea-LI", EEA, {"country": "LI"}, NOTIFY),
    ("eea-CH", EEA, {"country": "CH"}, OUTSIDE),
    ("eea-GB", EEA, {"country": "GB"}, OUTSIDE),
    ("eea-US", EEA, {"country": "US"}, OUTSIDE),
    ("eea-plus-CH", {"countries": ["EEA", "CH"]}, {"country": "CH"}, NOTIFY),
    ("list-FR-DE-FR", {"countries": ["FR", "DE"]}, {"country": "FR"}, NOTIFY),
    ("list-FR-DE-BE", {"countries": ["FR", "DE"]}, {"country": "BE"}, OUTSIDE),
    ("list-lower-case", {"countries": ["fr"]}, {"country": "FR"}, NOTIFY),
    ("countries-empty-US", {"countries": []}, {"country": "US"}, NOTIFY),
    ("countries-absent-US", {}, {"country": "US"}, NOTIFY),
    # age: year of the start date (2026) minus birth_year, against min_age
    ("age-exactly-min", ADULTS, {"birth_year": 2008}, NOTIFY),
    ("age-one-year-less", ADULTS, {"birth_year": 2009}, BELOW_MIN_AGE),
    ("age-well-below", ADULTS, {"birth_year": 2015}, BELOW_MIN_AGE),
    ("age-unknown", ADULTS, {"birth_year": None}, NOTIFY),
    ("no-min-age-child", {}, {"birth_year": 2020}, NOTIFY),
    ("min-age-0", {"min_age": 0}, {"birth_year": 2026}, NOTIFY),
    ("minor-suspended", ADULTS, {"birth_year": 2012, "status": "suspended"}, BELOW_MIN_AGE),
    ("minor-deactivated", ADULTS, {"birth_year": 2012, "status": "deactivated"}, BELOW_MIN_AGE),
    ("minor-without-email", ADULTS, {"birth_year": 2012, "email": None}, BELOW_MIN_AGE),
    ("minor-outside-countries", {**EEA, **ADULTS}, {"birth_year": 2012, "country": "US"}, OUTSIDE),
    (
        "minor-other-account-type",
        {"account_types": ["business"], **ADULTS},
        {"birth_year": 2012},
        OUTSIDE,
    ),
    (
        "minor-other-categories",
        {"data_categories": ["user.contact"], **ADULTS},
        {"birth_year": 2012, "data_categories": ["user.content"]},
        OUTSIDE,
    ),
    # data categories: fideslang keys, a dotted hierarchy matched both ways
    ("user-categories-absent", PUBLIC_CONTENT, {}, NOTIFY),
    ("user-categories-empty-holds-none", PUBLIC_CONTENT, {"data_categories": []}, OUTSIDE),
    (
        "audience-categories-empty",
        {"data_categories": []},
        {"data_categories": ["user.contact"]},
        NOTIFY,
    ),
    ("audience-categories-absent", {}, {"data_categories": ["user.contact"]}, NOTIFY),
    ("same-category", PUBLIC_CONTENT, {"data_categories": ["user.content.public"]}, NOTIFY),
    ("user-holds-broader", PUBLIC_CONTENT, {"data_categories": ["user.content"]}, NOTIFY),
    ("user-holds-root", PUBLIC_CONTENT, {"data_categories": ["user"]}, NOTIFY),
    (
        "user-holds-narrower",
        {"data_categories": ["user.content"]},
        {"data_categories": ["user.content.public"]},
        NOTIFY,
    ),
    (
        "one-of-several",
        {"data_categories": ["user.contact", "user.location"]},
        {"data_categories": ["user.device", "user.location.imprecise"]},
        NOTIFY,
    ),
    (
        "unrelated",
        {"data_categories": ["user.contact"]},
        {"data_categories": ["user.content.public"]},
        OUTSIDE,
    ),
    (
        "siblings",
        {"data_categories": ["user.content.private"]},
        {"data_categories": ["user.content.public"]},
        OUTSIDE,
    ),
    (
        "prefix-without-dot",
        {"data_categories": ["user.contentx"]},
        {"data_categories": ["user.content"]},
        OUTSIDE,
    ),
    (
        "prefix-without-dot-reversed",
        {"data_categories": ["user.content"]},
        {"data_categories": ["user.contentx"]},
        OUTSIDE,
    ),
    # account status: only active accounts are notified
    ("active", {}, {"status": "active"}, NOTIFY),
    ("suspended", {}, {"status": "suspended"}, OUTSIDE),
    ("deactivated", {}, {"status": "deactivated"}, OUTSIDE),
    ("suspended-without-email", {}, {"status": "suspended", "email": None}, OUTSIDE),
    # account types
    ("type-listed", {"account_types": ["standard", "business"]}, {}, NOTIFY),
    ("type-not-listed", {"account_types": ["business"]}, {"account_type": "standard"}, OUTSIDE),
    ("types-empty", {"account_types": []}, {"account_type": "creator"}, NOTIFY),
    ("types-absent", {}, {"account_type": "creator"}, NOTIFY),
    # suppression: no email, unusable email
    ("no-email", {}, {"email": None}, NO_EMAIL),
    ("empty-email", {}, {"email": ""}, NO_EMAIL),
    ("email-without-dotted-domain", {}, {"email": "a@b"}, INVALID_EMAIL),
    ("email-with-space", {}, {"email": "x y@example.com"}, INVALID_EMAIL),
    ("email-header-injection", {}, {"email": "a@example.com\r\nBcc: x@y.z"}, INVALID_EMAIL),
    ("email-overlong", {}, {"email": OVERLONG}, INVALID_EMAIL),
    ("valid-email", {**EEA, **ADULTS, **PUBLIC_CONTENT}, {}, NOTIFY),
]


@pytest.mark.parametrize(
    ("audience", "overrides", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_decide(audience: dict[str, Any], overrides: dict[str, Any], expected: Decision) -> None:
    assert decide(rules(**audience), user(**overrides)) == expected


# id, user overrides, objected, bounced, expected: the first reason that applies wins
SUPPRESSIONS: list[tuple[str, dict[str, Any], bool, bool, Decision]] = [
    ("objected", {}, True, False, ALREADY_OBJECTED),
    ("objected-before-no-email", {"email": None}, True, False, ALREADY_OBJECTED),
    ("objected-before-invalid-email", {"email": "a@b"}, True, False, ALREADY_OBJECTED),
    ("objected-before-bounced", {}, True, True, ALREADY_OBJECTED),
    ("no-email-before-bounced", {"email": None}, False, True, NO_EMAIL),
    ("invalid-email-before-bounced", {"email": "x y@example.com"}, False, True, INVALID_EMAIL),
    ("bounced-before", {}, False, True, BOUNCED_BEFORE),
    ("nothing", {}, False, False, NOTIFY),
    ("suspended-objected-is-outside", {"status": "suspended"}, True, True, OUTSIDE),
    ("minor-objected-is-excluded", {"birth_year": 2012}, True, True, BELOW_MIN_AGE),
]


@pytest.mark.parametrize(
    ("overrides", "objected", "bounced", "expected"),
    [case[1:] for case in SUPPRESSIONS],
    ids=[case[0] for case in SUPPRESSIONS],
)
def test_suppression_order(
    overrides: dict[str, Any], objected: bool, bounced: bool, expected: Decision
) -> None:
    decision = decide(rules(min_age=18), user(**overrides), objected=objected, bounced=bounced)
    assert decision == expected


def test_reasons_are_the_contracts() -> None:
    assert {d.reason for d in (ALREADY_OBJECTED, NO_EMAIL, INVALID_EMAIL, BOUNCED_BEFORE)} == {
        "already_objected",
        "no_email",
        "invalid_email",
        "bounced_before",
    }
    assert all(
        d.outcome is Verdict.SUPPRESS
        for d in (ALREADY_OBJECTED, NO_EMAIL, INVALID_EMAIL, BOUNCED_BEFORE)
    )
    assert (BELOW_MIN_AGE.outcome, BELOW_MIN_AGE.reason) == (Verdict.EXCLUDE, "below_min_age")
    assert NOTIFY.reason is None and OUTSIDE.reason is None


# --- recheck: what delivery checks again just before sending ------------------------------

#: (name, entry overrides, objected since the fan-out, bounced since, what delivery records)
RECHECKS = [
    ("still-notified", {}, False, False, NOTIFY),
    ("objected-since-the-fanout", {}, True, False, ALREADY_OBJECTED),
    ("objection-wins-over-everything", {"email": None}, True, True, ALREADY_OBJECTED),
    ("address-removed-since", {"email": None}, False, False, NO_EMAIL),
    ("address-empty", {"email": ""}, False, False, NO_EMAIL),
    ("no-address-wins-over-bounce", {"email": None}, False, True, NO_EMAIL),
    ("address-now-invalid", {"email": "ana@example..org"}, False, False, INVALID_EMAIL),
    (
        "address-now-header-injection",
        {"email": "a@b.org\r\nBcc: x@y.org"},
        False,
        False,
        INVALID_EMAIL,
    ),
    ("invalid-wins-over-bounce", {"email": "not-an-address"}, False, True, INVALID_EMAIL),
    ("bounced-since-the-fanout", {}, False, True, BOUNCED_BEFORE),
]


@pytest.mark.parametrize(
    ("overrides", "objected", "bounced", "expected"),
    [case[1:] for case in RECHECKS],
    ids=[case[0] for case in RECHECKS],
)
def test_recheck_at_send_time(
    overrides: dict[str, Any], objected: bool, bounced: bool, expected: Decision
) -> None:
    entry = stored({**user(), **overrides})
    assert recheck(entry, objected=objected, bounced=bounced) == expected


@pytest.mark.parametrize(
    ("overrides", "objected", "bounced", "expected"),
    [case[1:] for case in RECHECKS],
    ids=[case[0] for case in RECHECKS],
)
def test_decide_ends_with_the_recheck_for_a_notified_person(
    overrides: dict[str, Any], objected: bool, bounced: bool, expected: Decision
) -> None:
    # the fan-out and delivery take the same decision, with the same reasons
    entry = stored({**user(), **overrides})
    assert decide(rules(), entry, objected=objected, bounced=bounced) == expected


def test_recheck_gives_a_reason_exactly_when_it_suppresses() -> None:
    for *_, expected in RECHECKS:
        assert (expected.reason is not None) == (expected.outcome is Verdict.SUPPRESS)
        assert expected.outcome in (Verdict.NOTIFY, Verdict.SUPPRESS)


def test_recheck_does_not_look_at_the_audience_filters() -> None:
    # delivery re-checks only what can change for a person already notified
    moved = user(country="US", birth_year=2015, status="suspended")
    assert recheck(moved) == NOTIFY


def test_an_entry_without_status_counts_as_active() -> None:
    entry = stored({key: value for key, value in user().items() if key != "status"})
    assert decide(rules(), entry) == NOTIFY


def test_age_is_counted_in_the_year_of_the_start_date() -> None:
    late_start = AudienceRules.build(
        countries=None,
        min_age=18,
        account_types=None,
        data_categories=None,
        starts_at=datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert decide(late_start, user(birth_year=2009)) == NOTIFY
    assert decide(rules(min_age=18), user(birth_year=2009)) == BELOW_MIN_AGE


def test_unknown_country_in_an_audience_is_an_error_not_a_narrower_audience() -> None:
    with pytest.raises(ValueError, match="ISO 3166"):
        rules(countries=["EEA", "XX"])


DELIVERABLE = [
    "a@example.com",
    "camille.martin@example.org",
    "first.last+tag@mail.example.co.uk",
    "o'neil@example.ie",
    "x@xn--bcher-kva.example",
    "a@my-host.example",
    "a@1.example",
    "a" * 242 + "@example.com",  # 254 octets: the limit
]

UNDELIVERABLE = [
    "",
    "josé@example.com",  # needs SMTPUTF8, which the MIME layer does not produce
    "a",
    "a@b",
    "@example.com",
    "a@",
    "a@@example.com",
    "a@b@example.com",
    "x y@example.com",
    " a@example.com",
    "a@example.com ",
    "a@example.com\n",
    "a@example.com\r\nBcc: x@y.z",
    "a\x00@example.com",
    "a\x7f@example.com",
    "<a@example.com>",
    "Camille <a@example.com>",
    "a,b@example.com",
    "a;b@example.com",
    '"a"@example.com',
    "a@exa mple.com",
    "a@example_host.com",
    "a@-example.com",
    "a@.example.com",
    "a@example..com",
    "a@example.com.",
    "a@[192.0.2.1]",
    OVERLONG,
    "é" * 125 + "@x.com",  # 256 octets, only 131 characters
]


@pytest.mark.parametrize("address", DELIVERABLE, ids=[a[:40] for a in DELIVERABLE])
def test_deliverable_address(address: str) -> None:
    assert is_deliverable_address(address)


@pytest.mark.parametrize("address", UNDELIVERABLE, ids=[repr(a[:40]) for a in UNDELIVERABLE])
def test_undeliverable_address(address: str) -> None:
    assert not is_deliverable_address(address)
