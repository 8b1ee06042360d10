"""From a published purpose to the emails a real SMTP server received.

A real worker, the real broker, and an aiosmtpd server that writes each email
it receives to a file; the emails are parsed back with the standard library.
"""

from __future__ import annotations

import email
import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from notifications import topic_names as names
from tests import examples
from tests.support.kafka import declare_purpose, produce, read_topic
from tests.support.mail import received
from tests.support.worker import WorkerProcess

LOCALES = ["en", "fr", "fr-BE", "de", "es", "it", "nl", "pl", "ja-JP"]


def body(message: email.message.EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None
    return str(part.get_content())


async def test_published_purpose_becomes_one_email_per_user(
    smtp_worker: WorkerProcess, mail_dir: Path, worker_env: dict[str, str]
) -> None:
    users = [
        examples.user_upserted(
            user_id=f"mail-{i:03d}",
            email=f"person{i}@example.org",
            locale=LOCALES[i % len(LOCALES)],
            country="FR",
            birth_year=1980,
        )
        for i in range(27)
    ]
    users.append(examples.user_upserted(user_id="mail-noemail", email=None, country="FR"))
    await produce(
        names.TOPIC_USERS, [(u["user_id"].encode(), json.dumps(u).encode()) for u in users]
    )
    purpose = await declare_purpose()

    messages = received(mail_dir, 27)
    assert len(messages) == 27
    recipients = Counter(str(m["To"]) for m in messages)
    assert set(recipients) == {f"person{i}@example.org" for i in range(27)}
    assert max(recipients.values()) == 1
    start_day = datetime.fromisoformat(purpose["starts_at"]).day

    by_to: dict[str, Any] = {str(m["To"]): m for m in messages}
    for user in users[:27]:
        message = by_to[user["email"]]
        assert message["X-Preavis-Campaign"] == "purpose:ai-training:v1"
        # Japanese is not shipped: the language of the reader's country (France)
        assert message["Content-Language"] == {"fr-BE": "fr", "ja-JP": "fr"}.get(
            user["locale"], user["locale"]
        )
        # from the controller, at the configured sender; replies reach the controller
        assert message["From"].addresses[0].display_name == "Example Platform SAS"
        assert message["From"].addresses[0].addr_spec == "privacy@platform.example"
        assert str(message["Reply-To"]) == "privacy@example.com"
        assert str(message["Subject"]).startswith(purpose["name"][message["Content-Language"]])
        assert message.get_content_type() == "multipart/alternative"
        text, html = body(message, "plain"), body(message, "html")
        link = re.search(r"https?://\S+/o/[A-Za-z0-9_.\-]+", text)
        assert link, f"no objection link in the {user['locale']} notice"
        assert link.group(0) in html
        assert "dpo@example.com" in text and "Example Platform SAS" in text
        assert str(start_day) in text

    deliveries = await read_topic(names.TOPIC_DELIVERY, until=lambda rs: len(rs) >= 28, timeout=30)
    sent = {r.json["user_id"]: r.json for r in deliveries if r.json["status"] == "sent"}
    assert len(sent) == 27
    for user in users[:27]:
        record = sent[user["user_id"]]
        assert record["message_id"] == by_to[user["email"]]["Message-ID"]
        assert re.fullmatch(r"[0-9a-f]{64}", record["content_sha256"])
        assert record["attempt"] == 1
        assert "example.org" not in record["reason"]  # no address in the SMTP reply we keep
    suppressed = [r.json for r in deliveries if r.json["status"] == "suppressed"]
    assert [(s["user_id"], s["reason"]) for s in suppressed] == [("mail-noemail", "no_email")]
