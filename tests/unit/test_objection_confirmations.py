"""The confirmation email, on a recording relay: one message, in the user's language."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes

from notifications.internal_events import ObjectionRequest
from notifications.smtp import Outcome, SendResult
from streams.objections.confirmations import ConfirmationMailer
from streams.objections.handlers import Confirmation
from streams.purpose_catalog import PurposeCatalog

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
