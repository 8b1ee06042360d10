"""The confirmation email, on a recording relay: one message, in the user's language."""

from __future__ import annotations

import asyncio
import email.policy
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes

from markupsafe import escape

from notifications import topic_names as names
from notifications.internal_events import ObjectionRequest
from notifications.smtp import Outcome, SendResult
from streams.objections.confirmations import ConfirmationMailer
from streams.objections.handlers import Confirmation
from streams.purpose_catalog import PurposeCatalog
from tests import examples

FROM = "Privacy Team <privacy@example.org>"


@dataclass
class RecordingRelay:
    """Answers each send with the next outcome (then SENT), keeping what was sent."""

    outcomes: list[Outcome] = field(default_factory=list)
    sent: list[tuple[str, str, bytes]] = field(default_factory=list)

    async def send(self, sender: str, recipient: str, message: bytes) -> SendResult:
        self.sent.append((sender, recipient, message))
        outcome = self.outcomes.pop(0) if self.outcomes else Outcome.SENT
        return SendResult(outcome, "250 ok" if outcome is Outcome.SENT else "550 no", None)


def confirmation(address: str = "camille@example.org") -> Confirmation:
    request = ObjectionRequest(
        request_id="r1",
        user_id="camille",
        purposes=["ai-training"],
        channel="email_link",
        received_at=datetime(2026, 3, 2, tzinfo=UTC),
    )
    return Confirmation(address, request, ["ai-training"], "fr-BE")


def catalog() -> PurposeCatalog:
    known = PurposeCatalog()
    known.purposes["ai-training"] = {
        "version": 1,
        "name": {"en": "AI training", "fr": "Entraînement de l'IA"},
        "controller": {"name": "Example SA"},
    }
    return known


async def test_one_confirmation_in_the_users_language_from_the_configured_sender() -> None:
    relay = RecordingRelay()
    mailer = ConfirmationMailer(relay, FROM, catalog())
    mailer(confirmation())
    await asyncio.gather(*mailer.pending)

    [(sender, recipient, raw)] = relay.sent
    assert (sender, recipient) == ("privacy@example.org", "camille@example.org")
    message = message_from_bytes(raw)
    assert message["Content-Language"] == "fr"
    assert message["X-Preavis-Campaign"] == "objection-confirmation"
    payloads = [part.get_payload(decode=True) for part in message.walk() if not part.is_multipart()]
    texts = [payload.decode("utf-8") for payload in payloads if isinstance(payload, bytes)]
    assert len(texts) == 2 and all("Entraînement de l" in text for text in texts)
    assert not mailer.pending


async def test_a_refused_confirmation_is_not_retried_and_an_unsafe_address_never_sent() -> None:
    relay = RecordingRelay([Outcome.FAILED])
    mailer = ConfirmationMailer(relay, FROM, catalog())
    mailer(confirmation())
    mailer(confirmation("camille@example.org\r\nBcc: everyone@example.org"))
    await asyncio.gather(*mailer.pending)
    assert [recipient for _, recipient, _ in relay.sent] == ["camille@example.org"]


def parts(raw: bytes) -> list[str]:
    message = message_from_bytes(raw)
    payloads = [part.get_payload(decode=True) for part in message.walk() if not part.is_multipart()]
    return [payload.decode("utf-8") for payload in payloads if isinstance(payload, bytes)]


def published_catalog() -> PurposeCatalog:
    """The example purpose as the worker's catalog holds it once published."""
    known = PurposeCatalog()
    purpose = examples.purpose_declared()
    known.take(names.TOPIC_PURPOSES, json.dumps(purpose).encode())
    return known


async def test_the_confirmation_says_what_objecting_changes_from_the_controller() -> None:
    relay = RecordingRelay()
    mailer = ConfirmationMailer(relay, FROM, published_catalog())
    mailer(confirmation())
    await asyncio.gather(*mailer.pending)
    [(sender, _, raw)] = relay.sent
    message = message_from_bytes(raw, policy=email.policy.default)
    assert sender == "privacy@example.org"
    assert message["From"].addresses[0].display_name == "Example Platform SAS"
    assert message["From"].addresses[0].addr_spec == "privacy@example.org"
    assert str(message["Reply-To"]) == "privacy@example.com"
    effect = examples.purpose_declared()["objection_effect"]["fr"]
    for text in parts(raw):
        flat = " ".join(text.split())
        assert "Ce que change votre opposition" in flat
        assert " ".join(escape(effect).split()) in flat or " ".join(effect.split()) in flat
        assert examples.purpose_declared()["objection_effect"]["en"] not in flat


async def test_the_confirmation_is_in_one_language_the_operator_wrote() -> None:
    """A Japanese locale in Belgium (no Japanese): French, Belgium's first language."""
    relay = RecordingRelay()
    mailer = ConfirmationMailer(relay, FROM, published_catalog())
    request = confirmation().request
    mailer(Confirmation("kenji@example.org", request, ["ai-training"], "ja-BE", "BE"))
    await asyncio.gather(*mailer.pending)
    [(_, _, raw)] = relay.sent
    assert message_from_bytes(raw)["Content-Language"] == "fr"
    for text in parts(raw):
        assert "Entraînement de nos modèles d" in text
