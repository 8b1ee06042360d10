"""A change seen as a campaign: the model and the registry's JSON give the same answers."""

from __future__ import annotations

import pytest

from notifications.campaign import (
    Change,
    change_digest,
    change_json,
    kind_of,
    parse_change,
    purposes_of,
    rules_of,
    start_of,
)
from notifications.errors import InvalidEvent
from notifications.events import PurposeDeclared, TermsPublished
from tests import examples

PURPOSE = PurposeDeclared.model_validate(examples.purpose_declared())
TERMS = TermsPublished.model_validate(examples.terms_published(purposes_added=["ai-training"]))
PLAIN_TERMS = TermsPublished.model_validate(examples.terms_published(purposes_added=None))
CHANGES: list[Change] = [PURPOSE, TERMS, PLAIN_TERMS]


@pytest.mark.parametrize("change", CHANGES, ids=lambda c: c.campaign_id)
def test_the_json_form_answers_as_the_model(change: Change) -> None:
    kind, data = kind_of(change), change_json(change)
    assert purposes_of(data, kind) == purposes_of(change)
    assert start_of(data, kind) == start_of(change)
    assert parse_change(kind, data) == change


def test_what_each_kind_says() -> None:
    purpose, terms, plain_terms = PURPOSE, TERMS, PLAIN_TERMS
    assert (kind_of(purpose), purposes_of(purpose)) == ("purpose", ["ai-training"])
    assert start_of(purpose) == purpose.starts_at
    assert (kind_of(terms), purposes_of(terms), purposes_of(plain_terms)) == (
        "terms",
        ["ai-training"],
        [],
    )
    assert start_of(terms) == terms.effective_at
    rules = rules_of(purpose)  # EEA, 18 and over, in the start's year
    assert rules.min_age == 18 and rules.countries is not None and "NO" in rules.countries
    assert rules.reference_year == purpose.starts_at.year


def test_the_digest_ignores_field_order_and_sees_any_change() -> None:
    data = change_json(CHANGES[0])
    assert change_digest(dict(reversed(list(data.items())))) == change_digest(data)
    assert change_digest({**data, "retention": "Kept for ever."}) != change_digest(data)


def test_a_registry_text_that_does_not_parse_names_the_field() -> None:
    data = {**change_json(CHANGES[0]), "starts_at": "tomorrow"}
    with pytest.raises(InvalidEvent) as caught:
        parse_change("purpose", data)
    assert caught.value.field == "starts_at"
