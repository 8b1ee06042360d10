"""Whether a change may go out: Art. 13/14 content and the notice period.

Inputs are the contract's examples parsed by the real models and dumped with
``model_dump()``: the shape the campaign agent passes to ``check_change``.
Cases the parser already refuses (a Localized without ``en``, a blank text)
are made by editing the dump: the pure function must not rely on the parser.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from notifications import events, requirements
from notifications import topic_names as topics
from notifications.requirements import Verdict, check_change
from tests import examples

PUBLISHED = datetime.fromisoformat(examples.PUBLISHED_AT)
MIN_DAYS = 30


def parsed(topic: str, value: dict[str, Any]) -> dict[str, Any]:
    """``value`` as the agent sees it: decoded by the contract's models, then dumped."""
    event = events.decode(topic, b"key", json.dumps(value).encode())
    assert isinstance(event, events.PurposeDeclared | events.TermsPublished)
    return event.model_dump()


def purpose(*removed: str, **overrides: Any) -> dict[str, Any]:
    value = examples.without(examples.purpose_declared(**overrides), *removed)
    return parsed(topics.TOPIC_PURPOSES, value)


def terms(*removed: str, **overrides: Any) -> dict[str, Any]:
    value = examples.without(examples.terms_published(**overrides), *removed)
    return parsed(topics.TOPIC_TERMS, value)


def after(days: float) -> str:
    """The RFC 3339 time ``days`` after the example's publication."""
    return (PUBLISHED + timedelta(days=days)).isoformat()


def check_purpose(event: dict[str, Any], min_notice_days: int = MIN_DAYS) -> Verdict:
    return check_change(event, kind="purpose", min_notice_days=min_notice_days)


def check_terms(event: dict[str, Any], min_notice_days: int = MIN_DAYS) -> Verdict:
    return check_change(event, kind="terms", min_notice_days=min_notice_days)


# --- content (Art. 13(1)-(2)) ---------------------------------------------------------


def test_complete_example_purpose_is_accepted() -> None:
    verdict = check_purpose(purpose())
    assert verdict.accepted
    assert verdict == Verdict(missing=(), notice_period=None)
    assert verdict.alerts() == []


PURPOSE_REQUIRED = [
    "name",
    "description",
    "legal_basis",
    "data_use",
    "data_categories",
    "retention",
    "recipients",
    "policy_url",
    "controller",
    "legitimate_interest",  # the example's basis is legitimate_interest
]


@pytest.mark.parametrize("field", PURPOSE_REQUIRED, ids=PURPOSE_REQUIRED)
def test_each_required_purpose_field_removed_is_reported_alone(field: str) -> None:
    verdict = check_purpose(purpose(field))
    assert not verdict.accepted
    assert verdict.missing == (field,)
    assert verdict.notice_period is None


CONTROLLER_REQUIRED = ["name", "address", "contact_email", "dpo_email"]


@pytest.mark.parametrize("field", CONTROLLER_REQUIRED, ids=CONTROLLER_REQUIRED)
def test_each_required_controller_field_removed_is_reported_alone(field: str) -> None:
    controller = examples.without(examples.controller(), field)
    assert check_purpose(purpose(controller=controller)).missing == (f"controller.{field}",)
    assert check_terms(terms(controller=controller)).missing == (f"controller.{field}",)


def test_supervisory_authority_url_is_optional() -> None:
    controller = examples.without(examples.controller(), "supervisory_authority_url")
    assert check_purpose(purpose(controller=controller)).accepted


def test_transfers_is_optional() -> None:
    assert check_purpose(purpose("transfers")).accepted


BASES = [
    ("consent", False),
    ("contract", False),
    ("legal_obligation", False),
    ("vital_interests", False),
    ("public_interest", False),
    ("legitimate_interest", True),
]


@pytest.mark.parametrize(("basis", "required"), BASES, ids=[b for b, _ in BASES])
def test_legitimate_interest_is_required_only_for_that_basis(basis: str, required: bool) -> None:
    verdict = check_purpose(purpose("legitimate_interest", legal_basis=basis))
    assert verdict.missing == (("legitimate_interest",) if required else ())


# Edits of the dump that the parser would refuse: (path in the dump, value, reported path).
BLANK = [
    ("name", "", "name"),
    ("name", {}, "name"),
    ("name", {"en": "  "}, "name.en"),
    ("description", {"fr": "Nous utiliserons vos publications."}, "description.en"),
    ("description", {"en": "We will use your posts.", "fr": ""}, "description.fr"),
    ("legitimate_interest", {"de": "Verbesserung"}, "legitimate_interest.en"),
    ("legitimate_interest", "   ", "legitimate_interest"),
    ("recipients", {}, "recipients"),
    ("retention", {"fr": "12 mois"}, "retention.en"),
    ("data_use", "", "data_use"),
    ("legal_basis", "", "legal_basis"),
    ("policy_url", "", "policy_url"),
    ("data_categories", [], "data_categories"),
    ("data_categories", [""], "data_categories"),
    ("controller", {}, "controller"),
    ("controller.dpo_email", "", "controller.dpo_email"),
    ("controller.name", " ", "controller.name"),
    ("starts_at", None, "starts_at"),
    ("published_at", datetime(2026, 3, 2, 9), "published_at"),  # naive: ambiguous
    ("published_at", "not a date", "published_at"),
]


def edited(event: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    head, _, tail = path.partition(".")
    if tail:
        return {**event, head: {**event[head], tail: value}}
    return {**event, head: value}


@pytest.mark.parametrize(
    ("path", "value", "reported"), BLANK, ids=[f"{p}={v!r}" for p, v, _ in BLANK]
)
def test_blank_or_unusable_values_count_as_missing(path: str, value: Any, reported: str) -> None:
    verdict = check_purpose(edited(purpose(), path, value))
    assert verdict.missing == (reported,)
    assert verdict.notice_period is None


def test_every_missing_field_is_listed_in_one_alert() -> None:
    verdict = check_purpose(purpose("retention", "policy_url", controller={"name": "Example"}))
    assert verdict.missing == (
        "retention",
        "policy_url",
        "controller.address",
        "controller.contact_email",
        "controller.dpo_email",
    )
    [alert] = verdict.alerts()
    assert alert["code"] == "incomplete_notice"
    assert alert["severity"] == "critical"
    assert alert["details"] == {"missing": list(verdict.missing)}
    assert "retention, policy_url, controller.address" in alert["message"]


def test_a_json_mode_dump_gives_the_same_verdict() -> None:
    value = examples.purpose_declared(starts_at=after(10))
    event = events.decode(topics.TOPIC_PURPOSES, b"key", json.dumps(value).encode())
    assert event is not None
    assert check_purpose(event.model_dump(mode="json")) == check_purpose(event.model_dump())


# --- the notice period (Art. 21, Art. 13(3)) ------------------------------------------

PERIODS = [
    # id, legal basis, days between publication and start, min_notice_days, accepted
    ("contract-1-day", "contract", 1, 30, True),
    ("consent-same-instant", "consent", 0, 30, True),
    ("legal-obligation-2-days", "legal_obligation", 2, 30, True),
    ("legitimate-29-days", "legitimate_interest", 29, 30, False),
    ("legitimate-30-days", "legitimate_interest", 30, 30, True),
    ("legitimate-one-minute-short", "legitimate_interest", 30 - 1 / 1440, 30, False),
    ("public-29-days", "public_interest", 29, 30, False),
    ("public-30-days", "public_interest", 30, 30, True),
    ("legitimate-0-days-min-0", "legitimate_interest", 0, 0, True),
    ("public-0-days-min-0", "public_interest", 0, 0, True),
    ("consent-starts-before", "consent", -1, 30, False),
    ("contract-starts-an-hour-before", "contract", -1 / 24, 0, False),
    ("legitimate-starts-before-min-0", "legitimate_interest", -1, 0, False),
]


@pytest.mark.parametrize(
    ("basis", "days", "min_days", "accepted"),
    [case[1:] for case in PERIODS],
    ids=[case[0] for case in PERIODS],
)
def test_notice_period(basis: str, days: float, min_days: int, accepted: bool) -> None:
    verdict = check_purpose(purpose(legal_basis=basis, starts_at=after(days)), min_days)
    assert verdict.missing == ()
    assert verdict.accepted is accepted
    if accepted:
        assert verdict.notice_period is None
    else:
        problem = verdict.notice_period
        assert problem is not None
        assert problem.days_given == pytest.approx(days)
        objectable = basis in requirements.OBJECTABLE_BASES
        assert problem.days_required == (min_days if objectable else 0)
        [alert] = verdict.alerts()
        assert alert["code"] == "notice_period_too_short"


def test_short_notice_alert_details() -> None:
    verdict = check_purpose(purpose(starts_at=after(29)))
    [alert] = verdict.alerts()
    assert alert == {
        "severity": "critical",
        "code": "notice_period_too_short",
        "message": alert["message"],
        "details": {
            "published_at": "2026-03-02T09:00:00+00:00",
            "starts_at": "2026-03-31T09:00:00+00:00",
            "days_given": 29.0,
            "days_required": 30,
        },
    }
    assert "29 days" in alert["message"]
    assert "30 days" in alert["message"]


def test_start_before_publication_says_so() -> None:
    [alert] = check_purpose(purpose(legal_basis="consent", starts_at=after(-2))).alerts()
    assert "before the notice is published" in alert["message"]
    assert alert["details"]["days_given"] == -2.0
    assert alert["details"]["days_required"] == 0


def test_almost_enough_days_do_not_read_as_enough() -> None:
    [alert] = check_purpose(purpose(starts_at=after(30 - 1 / 86400))).alerts()
    assert "29.99 days" in alert["message"]


def test_both_problems_give_two_alerts() -> None:
    verdict = check_purpose(purpose("legitimate_interest", starts_at=after(10)))
    assert not verdict.accepted
    incomplete, too_short = verdict.alerts()
    assert incomplete["code"] == "incomplete_notice"
    assert incomplete["details"] == {"missing": ["legitimate_interest"]}
    assert too_short["code"] == "notice_period_too_short"
    assert too_short["details"]["days_given"] == 10.0
    assert too_short["details"]["days_required"] == MIN_DAYS


def test_alerts_make_valid_compliance_alert_events() -> None:
    verdict = check_purpose(purpose("retention", starts_at=after(3)))
    for alert in verdict.alerts():
        value = {
            "type": "compliance.alert",
            "campaign_id": "purpose:ai-training:v1",
            "at": examples.PUBLISHED_AT,
            **alert,
        }
        event = events.decode(topics.TOPIC_ALERTS, b"key", json.dumps(value).encode())
        assert isinstance(event, events.ComplianceAlert)


# --- terms -----------------------------------------------------------------------------


def test_complete_example_terms_are_accepted() -> None:
    assert check_terms(terms()).accepted


TERMS_REQUIRED = ["title", "summary", "url", "controller"]


@pytest.mark.parametrize("field", TERMS_REQUIRED, ids=TERMS_REQUIRED)
def test_each_required_terms_field_removed_is_reported_alone(field: str) -> None:
    verdict = check_terms(terms(field))
    assert not verdict.accepted
    assert verdict.missing == (field,)
    assert verdict.alerts()[0]["details"] == {"missing": [field]}


@pytest.mark.parametrize(
    ("path", "value", "reported"),
    [
        ("summary", {"fr": "Ce qui change."}, "summary.en"),
        ("title", "", "title"),
        ("effective_at", None, "effective_at"),
        ("published_at", None, "published_at"),
    ],
    ids=["summary-without-en", "title-empty", "no-effective-at", "no-published-at"],
)
def test_terms_blank_or_unusable_values(path: str, value: Any, reported: str) -> None:
    assert check_terms(edited(terms(), path, value)).missing == (reported,)


TERMS_PERIODS = [
    ("adds-purposes-10-days", ["ai-training"], 10, False),
    ("adds-purposes-30-days", ["ai-training"], 30, True),
    ("no-purposes-10-days", None, 10, True),
    ("empty-purposes-10-days", [], 10, True),
    ("no-purposes-effective-before", None, -1, False),
]


@pytest.mark.parametrize(
    ("purposes_added", "days", "accepted"),
    [case[1:] for case in TERMS_PERIODS],
    ids=[case[0] for case in TERMS_PERIODS],
)
def test_terms_notice_period(purposes_added: list[str] | None, days: int, accepted: bool) -> None:
    event = terms(purposes_added=purposes_added, effective_at=after(days))
    verdict = check_terms(event)
    assert verdict.missing == ()
    assert verdict.accepted is accepted
    if not accepted:
        assert verdict.notice_period is not None
        assert verdict.notice_period.days_given == days
        assert verdict.notice_period.starts_at == event["effective_at"]


# --- the function's own contract ---------------------------------------------------------


def test_negative_min_notice_days_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="min_notice_days"):
        check_purpose(purpose(), -1)


def test_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="kind"):
        check_change(purpose(), kind="policy", min_notice_days=30)  # type: ignore[arg-type]
