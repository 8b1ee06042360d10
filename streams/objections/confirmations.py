"""The emails of the objection flow: "your objection is recorded", "confirm your objection".

They are courtesies around the record, not the record itself: the objection
is on ``consent.objections`` and in the exclusion list before any email is
attempted, so the handler only hands its :class:`Confirmation` to a
:class:`ConfirmationMailer`, which sends it in the background. A few retries
ride out a relay's hiccup; after that the failure is logged (without the
address) and the objection stands.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Protocol

from notifications.backoff import backoff_delay
from notifications.languages import notice_language
from notifications.mime import HeaderInjection, build_notice, message_id_for
from notifications.mime import sender as from_header
from notifications.smtp import Outcome, SendResult
from notifications.web_pages import Email, PurposeSummary, WebPages
from streams.objections.handlers import Confirmation
from streams.purpose_catalog import PurposeCatalog

log = logging.getLogger(__name__)

ATTEMPTS = 5
PAGES = WebPages()


class Relay(Protocol):
    """What sends a prepared message (an :class:`notifications.smtp.SmtpPool`)."""

    async def send(self, sender: str, recipient: str, message: bytes) -> SendResult: ...


async def send_email(
    relay: Relay,
    mail_from: str,
    to_address: str,
    email: Email,
    kind: str,
    reference: str,
    *,
    controller: Mapping[str, object] | None = None,
) -> bool:
    """Send ``email``; True once the relay accepted it.

    With the ``controller`` known, the email comes from its name and replies
    go to its ``contact_email`` (the email says "reply to this message").
    """
    sender = parseaddr(mail_from)[1]
    domain = sender.rpartition("@")[2] or "localhost"
    name = (controller or {}).get("name")
    contact = (controller or {}).get("contact_email")
    try:
        message = build_notice(
            from_header=from_header(name if isinstance(name, str) else None, mail_from),
            reply_to=contact if isinstance(contact, str) else None,
            to_address=to_address,
            subject=email.subject,
            text=email.text,
            html=email.html,
            language=email.language,
            message_id=message_id_for(kind, reference, domain),
            campaign_id=kind,
            date=datetime.now(UTC),
        )
    except HeaderInjection:
        log.warning("%s email not sent: the address is not deliverable", kind)
        return False
    for attempt in range(1, ATTEMPTS + 1):
        result = await relay.send(sender, to_address, message)
        if result.outcome is Outcome.SENT:
            return True
        if result.outcome is not Outcome.DEFERRED:
            break
        await asyncio.sleep(backoff_delay(attempt, cap=10.0))
    log.warning("%s email not sent: %s", kind, result.reply)
    return False


async def send_confirmation(
    relay: Relay, mail_from: str, catalog: PurposeCatalog, confirmation: Confirmation
) -> None:
    """Tell the user which objections were just recorded, and what objecting changes.

    In one language, like the notice: the reader's, where the operator wrote
    every text of the purposes in it (:func:`notifications.languages.notice_language`).
    """
    purposes = confirmation.purposes
    written = catalog.written_languages(purposes)
    language = notice_language(confirmation.locale, confirmation.country, written)
    summaries = [catalog.summary(p, language) for p in purposes]
    controller = catalog.controller(confirmation.request.campaign_id, purposes)
    name = controller.get("name")
    email = PAGES.objection_confirmed_email(
        language, summaries, name if isinstance(name, str) else None
    )
    await send_email(
        relay,
        mail_from,
        confirmation.to_address,
        email,
        "objection-confirmation",
        confirmation.request.request_id,
        controller=controller,
    )


async def send_object_request(
    relay: Relay, mail_from: str, to_address: str, purpose: PurposeSummary, url: str, language: str
) -> bool:
    """The /object flow: a link that records the objection only when clicked."""
    email = PAGES.objection_request_email(language, purpose, url)
    reference = hashlib.sha256(url.encode()).hexdigest()[:32]
    return await send_email(relay, mail_from, to_address, email, "objection-request", reference)


@dataclass
class ConfirmationMailer:
    """Sends each confirmation in a task of its own: the objections agent never waits."""

    relay: Relay
    mail_from: str
    catalog: PurposeCatalog
    pending: set[asyncio.Task[None]] = field(default_factory=set)

    def __call__(self, confirmation: Confirmation) -> None:
        task = asyncio.ensure_future(
            send_confirmation(self.relay, self.mail_from, self.catalog, confirmation)
        )
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)
