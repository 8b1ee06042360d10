"""The event contract: what decodes, what is an InvalidEvent, and what the error says."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from notifications import topic_names as topics
from notifications.countries import EEA_COUNTRIES
from notifications.errors import InvalidEvent, PreavisError
from notifications.events import (
    ADAPTERS,
    PurposeDeclared,
    TermsPublished,
    UserErased,
    UserUpserted,
    decode,
    encode,
)
from tests import examples

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"

VALID: list[tuple[str, Callable[..., dict[str, Any]]]] = [
    (topics.TOPIC_PURPOSES, examples.purpose_declared),
    (topics.TOPIC_TERMS, examples.terms_published),
    (topics.TOPIC_USERS, examples.user_upserted),
    (topics.TOPIC_USERS, examples.user_erased),
    (topics.TOPIC_OBJECTIONS, examples.objection_recorded),
    (topics.TOPIC_OBJECTIONS, examples.objection_withdrawn),
    (topics.TOPIC_DELIVERY, examples.notice_delivery),
    (topics.TOPIC_EXCLUSIONS, examples.training_exclusion),
    (topics.TOPIC_ALERTS, examples.compliance_alert),
    (topics.TOPIC_DEADLETTER, examples.dead_letter),
    (topics.TOPIC_DOCUMENTS, examples.document_version),
    (topics.TOPIC_DOCUMENT_CHANGES, examples.document_change),
]


def raw(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8")


def decode_ok(topic: str, value: dict[str, Any]) -> Any:
    event = decode(topic, b"key", raw(value))
    assert event is not None
    return event


@pytest.mark.parametrize(("topic", "factory"), VALID, ids=[f.__name__ for _, f in VALID])
def test_valid_event_decodes_and_round_trips(
    topic: str, factory: Callable[..., dict[str, Any]]
) -> None:
    value = factory()
    event = decode_ok(topic, value)
    assert event.type == value["type"]
    encoded = encode(event)
    assert json.loads(encoded)["schema_version"] == 1
    compact = json.dumps(json.loads(encoded), separators=(",", ":"), ensure_ascii=False)
    assert encoded == compact.encode("utf-8")
    assert decode(topic, b"key", encoded) == event


def test_every_event_type_has_a_valid_example() -> None:
    tags = {factory()["type"] for _, factory in VALID}
    assert len(tags) == 12
    assert {topic for topic, _ in VALID} == set(ADAPTERS)


INVALID: list[tuple[str, str, dict[str, Any], str, str]] = [
    # (id, topic, value, field named by the error, words in the reason)
    (
        "missing user_id",
        topics.TOPIC_USERS,
        examples.without(examples.user_upserted(), "user_id"),
        "user_id",
        "required",
    ),
    (
        "naive datetime",
        topics.TOPIC_PURPOSES,
        examples.purpose_declared(starts_at="2026-04-16T09:00:00"),
        "starts_at",
        "must carry a UTC offset",
    ),
    (
        "bad country",
        topics.TOPIC_USERS,
        examples.user_upserted(country="XX"),
        "country",
        "not an ISO 3166 alpha-2 country code",
    ),
    (
        "bad audience country",
        topics.TOPIC_PURPOSES,
        examples.purpose_declared(audience={"countries": ["FR", "XX"]}),
        "audience.countries[1]",
        "not an ISO 3166 alpha-2 country code",
    ),
    (
        "Localized without en",
        topics.TOPIC_PURPOSES,
        examples.purpose_declared(description={"fr": "Entraînement"}),
        "description",
        "must include an 'en' text",
    ),
    (
        "Localized with a bad tag",
        topics.TOPIC_TERMS,
        examples.terms_published(summary={"en": "x", "english!": "x"}),
        "summary.english![key]",
        "BCP 47",
    ),
    (
        "unknown type",
        topics.TOPIC_USERS,
        examples.user_upserted(type="user.deleted"),
        "type",
        "unknown event type 'user.deleted'",
    ),
    (
        "type of another topic",
        topics.TOPIC_USERS,
        examples.purpose_declared(),
        "type",
        "'user.upserted', 'user.erased'",
    ),
    (
        "missing type",
        topics.TOPIC_OBJECTIONS,
        examples.without(examples.objection_recorded(), "type"),
        "type",
        "missing",
    ),
    (
        "schema_version 2",
        topics.TOPIC_PURPOSES,
        examples.purpose_declared(schema_version=2),
        "schema_version",
        "1",
    ),
    (
        "legal_basis because",
        topics.TOPIC_PURPOSES,
        examples.purpose_declared(legal_basis="because"),
        "legal_basis",
        "legitimate_interest",
    ),
    (
        "purpose_id not a slug",
        topics.TOPIC_PURPOSES,
        examples.purpose_declared(purpose_id="AI Training"),
        "purpose_id",
        "pattern",
    ),
    (
        "version 0",
        topics.TOPIC_PURPOSES,
        examples.purpose_declared(version=0),
        "version",
        "greater than or equal to 1",
    ),
    (
        "missing starts_at",
        topics.TOPIC_PURPOSES,
        examples.without(examples.purpose_declared(), "starts_at"),
        "starts_at",
        "required",
    ),
    (
        "birth_year out of range",
        topics.TOPIC_USERS,
        examples.user_upserted(birth_year=1850),
        "birth_year",
        "1900",
    ),
    (
        "unknown channel",
        topics.TOPIC_OBJECTIONS,
        examples.objection_recorded(channel="fax"),
        "channel",
        "email_link",
    ),
]


@pytest.mark.parametrize(
    ("topic", "value", "field", "reason"),
    [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)
def test_invalid_event_names_the_field(
    topic: str, value: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(InvalidEvent) as caught:
        decode(topic, b"key", raw(value))
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")
    assert reason in caught.value.reason
    assert isinstance(caught.value.__cause__, ValidationError)


@pytest.mark.parametrize(
    ("topic", "value", "reason"),
    [
        (topics.TOPIC_USERS, b"\xff\xfe{}", "not valid UTF-8"),
        (topics.TOPIC_USERS, b"not json", "Invalid JSON"),
        (topics.TOPIC_USERS, b"", "Invalid JSON"),
        (topics.TOPIC_PURPOSES, b"[1, 2]", "object"),
        (topics.TOPIC_PURPOSES, b'"purpose.declared"', "object"),
        (topics.TOPIC_PURPOSES, None, "no tombstones"),
    ],
    ids=["invalid UTF-8", "not JSON", "empty", "JSON array", "JSON string", "null value"],
)
def test_unreadable_value_is_an_error_about_the_root(
    topic: str, value: bytes | None, reason: str
) -> None:
    with pytest.raises(InvalidEvent) as caught:
        decode(topic, b"key", value)
    assert caught.value.field == "<root>"
    assert reason in str(caught.value)


def test_unknown_topic_is_an_error() -> None:
    with pytest.raises(InvalidEvent, match="unknown topic 'nope'"):
        decode("nope", None, raw(examples.user_upserted()))


def test_invalid_event_is_a_value_error_and_counts_the_others() -> None:
    value = examples.user_upserted(country="XX", birth_year="old", status="gone")
    with pytest.raises(ValueError) as caught:
        decode(topics.TOPIC_USERS, b"u-0001", raw(value))
    error = caught.value
    assert isinstance(error, InvalidEvent)
    assert isinstance(error, PreavisError)
    assert error.reason.endswith("(and 2 other errors)")


def test_null_value_on_users_is_an_erasure() -> None:
    erased_at = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
    event = decode(topics.TOPIC_USERS, b"u-0001", None, now=lambda: erased_at)
    assert event == UserErased(user_id="u-0001", erased_at=erased_at)


@pytest.mark.parametrize("key", [None, b"", b"\xff"], ids=["no key", "empty key", "not UTF-8"])
def test_null_value_on_users_needs_a_user_id_key(key: bytes | None) -> None:
    with pytest.raises(InvalidEvent) as caught:
        decode(topics.TOPIC_USERS, key, None)
    assert caught.value.field == "key"


def test_null_value_on_training_exclusions_is_a_tombstone() -> None:
    assert decode(topics.TOPIC_EXCLUSIONS, b"u-0001", None) is None


def test_unknown_fields_are_ignored() -> None:
    value = examples.purpose_declared(added_in_v1_1={"anything": True})
    value["controller"]["fax"] = "+33 1 00 00 00 00"
    event = decode_ok(topics.TOPIC_PURPOSES, value)
    assert b"added_in_v1_1" not in encode(event)
    assert b"fax" not in encode(event)


def test_art_13_content_may_be_missing_for_the_requirements_check() -> None:
    minimal = {
        "type": "purpose.declared",
        "purpose_id": "ai-training",
        "version": 2,
        "published_at": examples.PUBLISHED_AT,
        "starts_at": examples.STARTS_AT,
        "legal_basis": "legitimate_interest",
        "controller": {"name": "Example Platform SAS"},
    }
    event = decode_ok(topics.TOPIC_PURPOSES, minimal)
    assert isinstance(event, PurposeDeclared)
    assert event.legitimate_interest is None and event.retention is None
    assert event.controller is not None and event.controller.dpo_email is None
    assert event.audience.resolved_countries is None  # absent audience: everyone
    assert event.campaign_id == "purpose:ai-training:v2"
    assert event.right_to_object


def test_normalized_inputs() -> None:
    user = decode_ok(topics.TOPIC_USERS, examples.user_upserted(country="be ", locale="FR_be"))
    assert isinstance(user, UserUpserted)
    assert (user.country, user.locale) == ("BE", "fr-BE")
    purpose = decode_ok(
        topics.TOPIC_PURPOSES,
        examples.purpose_declared(audience={"countries": ["eea", "ch"]}, retention="1 year"),
    )
    assert isinstance(purpose, PurposeDeclared)
    assert purpose.audience.countries == ["EEA", "CH"]
    assert purpose.audience.resolved_countries == EEA_COUNTRIES | {"CH"}
    assert purpose.retention == {"en": "1 year"}


@pytest.mark.parametrize(
    ("written", "parsed"),
    [("fr", "fr"), ("FR_be", "fr-BE"), ("en-us", "en-US"), ("sr_latn_rs", "sr-Latn-RS")],
)
def test_locale_gets_one_spelling(written: str, parsed: str) -> None:
    user = decode_ok(topics.TOPIC_USERS, examples.user_upserted(locale=written))
    assert user.locale == parsed


@pytest.mark.parametrize("locale", ["french", "f", "fr-", "fr BE", ""])
def test_locale_that_is_not_a_language_tag_is_refused(locale: str) -> None:
    with pytest.raises(InvalidEvent, match=r"^locale: not a BCP 47 language tag"):
        decode(topics.TOPIC_USERS, b"u-0001", raw(examples.user_upserted(locale=locale)))


def test_terms_campaign_id_and_numeric_version() -> None:
    terms = decode_ok(topics.TOPIC_TERMS, examples.terms_published(version=2026))
    assert isinstance(terms, TermsPublished)
    assert terms.campaign_id == "terms:terms-of-service:2026"


def test_a_long_objection_reason_is_cut_not_rejected() -> None:
    value = examples.objection_recorded(reason="x" * 5000)
    event = decode_ok(topics.TOPIC_OBJECTIONS, value)
    assert len(event.reason) == 2000


def test_times_keep_their_offset() -> None:
    event = decode_ok(topics.TOPIC_OBJECTIONS, examples.objection_recorded())
    assert event.received_at.utcoffset().total_seconds() == 3600
    assert b'"received_at":"2026-03-10T14:30:00+01:00"' in encode(event)


@pytest.mark.parametrize(
    ("path", "topic"),
    [
        ("purpose-ai-training.json", topics.TOPIC_PURPOSES),
        ("terms-2026.json", topics.TOPIC_TERMS),
        ("users-sample.jsonl", topics.TOPIC_USERS),
    ],
)
def test_example_files_decode(path: str, topic: str) -> None:
    text = (EXAMPLES_DIR / path).read_text(encoding="utf-8")
    lines = text.splitlines() if path.endswith(".jsonl") else [text]
    for line in lines:
        assert decode(topic, b"key", line.encode("utf-8")) is not None
