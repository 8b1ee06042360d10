"""Whether a change may go out: Art. 13/14 content and the notice period.

Inputs are the contract's examples parsed by the real models: what the
campaign intake passes to ``check_change``. Texts the parser already refuses
(a Localized without ``en``, a blank text) are put in with ``model_copy``,
which does not validate: the rule must not rely on the parser for them.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, TypeVar

import pytest

from notifications import events, requirements
from notifications import topic_names as topics
from notifications.campaign import Change, change_json, kind_of, parse_change
from notifications.errors import InvalidEvent
from notifications.languages import OPERATOR_TEXT_FIELDS
from notifications.requirements import MissingTranslation, Verdict, check_change
from tests import examples

PUBLISHED = datetime.fromisoformat(examples.PUBLISHED_AT)
MIN_DAYS = 30


def parsed(topic: str, value: dict[str, Any]) -> Change:
    """``value`` as the agent sees it: decoded by the contract's models."""
    event = events.decode(topic, b"key", json.dumps(value).encode())
    assert isinstance(event, events.PurposeDeclared | events.TermsPublished)
    return event


def purpose(*removed: str, **overrides: Any) -> events.PurposeDeclared:
    value = examples.without(examples.purpose_declared(**overrides), *removed)
    event = parsed(topics.TOPIC_PURPOSES, value)
    assert isinstance(event, events.PurposeDeclared)
    return event


def terms(*removed: str, **overrides: Any) -> events.TermsPublished:
    value = examples.without(examples.terms_published(**overrides), *removed)
    event = parsed(topics.TOPIC_TERMS, value)
    assert isinstance(event, events.TermsPublished)
    return event


def after(days: float) -> str:
    """The RFC 3339 time ``days`` after the example's publication."""
    return (PUBLISHED + timedelta(days=days)).isoformat()


def check_purpose(event: events.PurposeDeclared, min_notice_days: int = MIN_DAYS) -> Verdict:
    return check_change(event, min_notice_days=min_notice_days)


def check_terms(event: events.TermsPublished, min_notice_days: int = MIN_DAYS) -> Verdict:
    return check_change(event, min_notice_days=min_notice_days)


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


# Edits the parser would refuse, made without it: (field or controller.field, value, reported).
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
    ("controller", None, "controller"),
    ("controller.dpo_email", "", "controller.dpo_email"),
    ("controller.name", " ", "controller.name"),
]

E = TypeVar("E", events.PurposeDeclared, events.TermsPublished)


def edited(event: E, path: str, value: Any) -> E:
    """``event`` with one field (``controller.x``: of its controller) replaced, unvalidated."""
    head, _, tail = path.partition(".")
    if tail:
        assert head == "controller" and event.controller is not None
        value = event.controller.model_copy(update={tail: value})
    return event.model_copy(update={head: value})


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


DATES = [
    ("purpose", "starts_at", None),
    ("purpose", "published_at", "2026-03-02T09:00:00"),  # naive: ambiguous by up to a day
    ("purpose", "published_at", "not a date"),
    ("terms", "effective_at", None),
    ("terms", "published_at", None),
]


@pytest.mark.parametrize(
    ("kind", "field", "value"), DATES, ids=[f"{k}-{f}={v}" for k, f, v in DATES]
)
def test_a_change_without_its_dates_never_reaches_the_rule(
    kind: str, field: str, value: str | None
) -> None:
    """The parser refuses it, naming the field: the rule can rely on aware datetimes."""
    make = examples.purpose_declared if kind == "purpose" else examples.terms_published
    topic = topics.TOPIC_PURPOSES if kind == "purpose" else topics.TOPIC_TERMS
    change = make() if value is None else make(**{field: value})
    if value is None:
        del change[field]
    with pytest.raises(InvalidEvent) as caught:
        events.decode(topic, b"key", json.dumps(change).encode())
    assert caught.value.field == field


def test_the_text_kept_as_json_gives_the_same_verdict() -> None:
    """The registry's JSON, parsed back, is the change that was checked."""
    for event in (purpose("retention", starts_at=after(10)), terms(purposes_added=["x"])):
        again = parse_change(kind_of(event), change_json(event))
        assert again == event
        assert check_change(again, min_notice_days=MIN_DAYS) == check_change(
            event, min_notice_days=MIN_DAYS
        )


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
        ("controller.address", None, "controller.address"),
    ],
    ids=["summary-without-en", "title-empty", "no-controller-address"],
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
        assert verdict.notice_period.starts_at == event.effective_at


# --- the function's own contract ---------------------------------------------------------


def test_negative_min_notice_days_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="min_notice_days"):
        check_purpose(purpose(), -1)


def test_anything_but_a_change_is_a_programming_error() -> None:
    user = events.UserUpserted(user_id="u1", country="FR")
    with pytest.raises(TypeError, match="UserUpserted"):
        check_change(user, min_notice_days=30)  # type: ignore[arg-type]


# --- every language of the audience (Art. 12(1)) ----------------------------------------


def only(languages: set[str], texts: dict[str, str]) -> dict[str, str]:
    return {tag: text for tag, text in texts.items() if tag in languages}


def test_a_text_lacking_a_language_of_the_audience_is_incomplete_translation() -> None:
    example = examples.purpose_declared()
    event = purpose(
        audience={"countries": ["FR", "BE", "FI"]},
        description=only({"en", "fr", "de", "fi"}, example["description"]),
        recipients=only({"en", "fr", "nl", "fi", "sv"}, example["recipients"]),
    )
    verdict = check_purpose(event)
    assert not verdict.accepted
    assert verdict.missing == () and verdict.notice_period is None
    assert verdict.languages == ("en", "de", "fi", "fr", "nl", "sv")
    [alert] = verdict.alerts()
    assert alert["code"] == "incomplete_translation"
    assert alert["severity"] == "critical"
    assert alert["details"]["missing"] == [
        {"field": "description", "language": "nl"},
        {"field": "description", "language": "sv"},
        {"field": "recipients", "language": "de"},
    ]
    assert "description in nl" in alert["message"]


def test_only_the_audience_s_languages_are_required() -> None:
    example = examples.purpose_declared()
    texts = {field: only({"en", "de"}, example[field]) for field in OPERATOR_TEXT_FIELDS["purpose"]}
    assert check_purpose(purpose(audience={"countries": ["AT", "DE", "LI"]}, **texts)).accepted
    assert check_purpose(
        purpose(
            audience={"countries": ["IE", "MT", "US"]},
            **{field: only({"en"}, text) for field, text in texts.items()},
        )
    ).accepted
    # an audience of every country needs every language of the table
    verdict = check_purpose(purpose(audience={}, **texts))
    assert not verdict.accepted
    assert len(verdict.languages) == 24
    assert MissingTranslation("name", "nb") in verdict.missing_translations


def test_a_regional_tag_and_the_no_alias_count_for_their_language() -> None:
    example = examples.purpose_declared()
    event = purpose(audience={"countries": ["NO", "BE"]})
    texts = {}
    for field in ("name", "description", "legitimate_interest", "retention", "recipients",
                  "transfers", "objection_effect"):  # fmt: skip
        text = example[field]
        texts[field] = {
            "en": text["en"], "no": text["nb"], "fr-BE": text["fr"], "nl-BE": text["nl"],
            "de": text["de"],
        }  # fmt: skip
    assert check_purpose(event.model_copy(update=texts)).accepted


def test_terms_lacking_a_language_are_incomplete_translation() -> None:
    verdict = check_terms(terms(title={"en": "Terms of Service", "fr": "Conditions"},
                                audience={"countries": ["FR", "PL"]}))  # fmt: skip
    [alert] = verdict.alerts()
    assert alert["code"] == "incomplete_translation"
    assert alert["details"]["missing"] == [{"field": "title", "language": "pl"}]


def test_a_blank_translation_is_missing_and_untranslated() -> None:
    event = purpose(audience={"countries": ["PL"]})
    blank = event.model_copy(update={"retention": {"en": "Deleted after a year.", "pl": " "}})
    verdict = check_purpose(blank)
    assert "retention.pl" in verdict.missing
    assert [m.as_json() for m in verdict.missing_translations] == [
        {"field": "retention", "language": "pl"}
    ]
    assert [alert["code"] for alert in verdict.alerts()] == [
        "incomplete_notice",
        "incomplete_translation",
    ]


# --- what an objection changes (objection_effect) -------------------------------------


def test_a_training_purpose_needs_objection_effect() -> None:
    verdict = check_purpose(purpose("objection_effect"))
    assert verdict.missing == ("objection_effect",)
    [alert] = verdict.alerts()
    assert alert["code"] == "incomplete_notice"
    assert "objection_effect" in alert["message"]
    child = purpose("objection_effect", data_use="train_ai_system.fine_tuning")
    assert check_purpose(child).missing == ("objection_effect",)


def test_objection_effect_is_optional_for_other_uses() -> None:
    assert check_purpose(purpose("objection_effect", data_use="personalize")).accepted


# --- words, not codes -----------------------------------------------------------------


def test_a_category_outside_fideslangs_taxonomy_is_refused_by_name() -> None:
    verdict = check_purpose(
        purpose(data_categories=["user.content.public", "user.contentx", "user.contentx"])
    )
    assert not verdict.accepted
    assert verdict.unknown_categories == ("user.contentx",)
    (alert,) = verdict.alerts()
    assert alert["code"] == "unknown_data_category"
    assert alert["details"] == {"unknown": ["user.contentx"]}
    assert "data_categories" in alert["message"] and "user.contentx" in alert["message"]


def test_every_category_of_the_taxonomy_is_accepted() -> None:
    from notifications.i18n import known_data_categories

    verdict = check_purpose(purpose(data_categories=sorted(known_data_categories())))
    assert verdict.accepted, verdict.alerts()
