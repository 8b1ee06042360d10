"""A campaign its operator did not write in every language of its audience sends nothing.

A real worker, the real broker and a mail catcher. The purpose's audience is
France and Poland, its texts lack Polish: the campaign agent raises one
``incomplete_translation`` alert naming each (field, language) and no email
leaves. A complete campaign published right after it is delivered (so that
the catcher is known to work and the first campaign had its chance to send):
its emails are the only ones received.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from notifications import topic_names as names
from notifications.languages import OPERATOR_TEXT_FIELDS
from tests import examples
from tests.support.kafka import declare_purpose, produce, read_topic
from tests.support.mail import received
from tests.support.worker import WorkerProcess

TEXT_FIELDS = OPERATOR_TEXT_FIELDS["purpose"]


async def test_a_missing_language_rejects_the_campaign_and_sends_nothing(
    smtp_worker: WorkerProcess, mail_dir: Path
) -> None:
    users = [
        examples.user_upserted(
            user_id=f"tr-{i:03d}",
            email=f"reader{i}@example.org",
            locale=("pl", "fr")[i % 2],
            country=("PL", "FR")[i % 2],
        )
        for i in range(10)
    ]
    await produce(
        names.TOPIC_USERS, [(u["user_id"].encode(), json.dumps(u).encode()) for u in users]
    )
    example = examples.purpose_declared()
    without_polish: dict[str, Any] = {
        field: {tag: text for tag, text in example[field].items() if tag != "pl"}
        for field in TEXT_FIELDS
    }
    await declare_purpose(
        purpose_id="untranslated", audience={"countries": ["FR", "PL"]}, **without_polish
    )
    alerts = await read_topic(names.TOPIC_ALERTS, until=lambda rs: len(rs) >= 1, timeout=60)
    [alert] = [r.json for r in alerts]
    assert alert["campaign_id"] == "purpose:untranslated:v1"
    assert alert["code"] == "incomplete_translation"
    assert alert["severity"] == "critical"
    assert alert["details"]["missing"] == [
        {"field": field, "language": "pl"} for field in TEXT_FIELDS
    ]

    # the same purpose for France only needs no Polish: it goes out, and alone
    await declare_purpose(purpose_id="translated", audience={"countries": ["FR"]}, **without_polish)
    messages = received(mail_dir, 5)
    assert len(messages) == 5
    assert {str(m["X-Preavis-Campaign"]) for m in messages} == {"purpose:translated:v1"}
    assert {str(m["Content-Language"]) for m in messages} == {"fr"}
    deliveries = await read_topic(names.TOPIC_DELIVERY, until=lambda rs: len(rs) >= 5, timeout=30)
    assert {r.json["campaign_id"] for r in deliveries} == {"purpose:translated:v1"}
