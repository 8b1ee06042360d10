"""Every event type survives a trip through its topic on the real broker."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from notifications import topic_names as names
from notifications.events import decode, encode
from streams.settings import Settings
from tests import examples
from tests.support.kafka import produce, read_topic

CASES: list[tuple[str, Callable[..., dict[str, Any]], str]] = [
    (names.TOPIC_PURPOSES, examples.purpose_declared, "purpose_id"),
    (names.TOPIC_TERMS, examples.terms_published, "document_id"),
    (names.TOPIC_USERS, examples.user_upserted, "user_id"),
    (names.TOPIC_USERS, examples.user_erased, "user_id"),
    (names.TOPIC_OBJECTIONS, examples.objection_recorded, "user_id"),
    (names.TOPIC_OBJECTIONS, examples.objection_withdrawn, "user_id"),
    (names.TOPIC_DELIVERY, examples.notice_delivery, "user_id"),
    (names.TOPIC_EXCLUSIONS, examples.training_exclusion, "user_id"),
    (names.TOPIC_ALERTS, examples.compliance_alert, "campaign_id"),
    (names.TOPIC_DEADLETTER, examples.dead_letter, "topic"),
]


@pytest.mark.parametrize(("topic", "factory", "key_field"), CASES)
async def test_event_round_trips_through_its_topic(
    clean_topics: None, settings: Settings, topic: str, factory: Any, key_field: str
) -> None:
    original = decode(topic, None, json.dumps(factory()).encode())
    assert original is not None
    key = str(getattr(original, key_field)).encode()

    await produce(topic, [(key, encode(original))])
    records = await read_topic(topic, until=lambda rs: len(rs) >= 1, timeout=15)

    assert len(records) == 1
    assert records[0].key == key
    assert decode(topic, records[0].key, records[0].value) == original


async def test_null_value_on_users_reads_back_as_erasure(clean_topics: None) -> None:
    await produce(names.TOPIC_USERS, [(b"u-erased", None)])
    records = await read_topic(names.TOPIC_USERS, until=lambda rs: len(rs) >= 1, timeout=15)

    erased = decode(names.TOPIC_USERS, records[0].key, records[0].value)
    assert erased is not None
    assert erased.type == "user.erased"
    assert erased.user_id == "u-erased"
