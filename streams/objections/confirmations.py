"""The emails of the objection flow: "your objection is recorded", "confirm your objection".

They are courtesies around the record, not the record itself: the objection
is on ``consent.objections`` and in the exclusion list before any email is
attempted. A few retries ride out a relay's hiccup; after that the failure is
logged (without the address) and the objection stands.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Any

from notifications.backoff import backoff_delay
from notifications.i18n import pick_language
from notifications.mime import HeaderInjection, build_notice, message_id_for
from notifications.smtp import Outcome, SmtpPool
from notifications.web_pages import Email, PurposeSummary, WebPages

log = logging.getLogger(__name__)

ATTEMPTS = 5
PAGES = WebPages()


async def send_email(
    pool: SmtpPool, settings: Any, to_address: str, email: Email, kind: str, reference: str
) -> bool:
    """Send ``email``; True once the relay accepted it."""
    sender = parseaddr(settings.mail_from)[1]
    domain = sender.rpartition("@")[2] or "localhost"
    try:
        message = build_notice(
            from_header=settings.mail_from,
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
        result = await pool.send(sender, to_address, message)
        if result.outcome is Outcome.SENT:
            return True
        if result.outcome is not Outcome.DEFERRED:
            break
        await asyncio.sleep(backoff_delay(attempt, cap=10.0))
    log.warning("%s email not sent: %s", kind, result.reply)
    return False


async def send_confirmation(
    pool: SmtpPool,
    settings: Any,
    catalog: Any,
    to_address: str,
    request: Any,
    purposes: list[str],
    locale: str,
) -> None:
    """Tell the user which objections were just recorded."""
    language = pick_language(locale)
    summaries = [catalog.summary(p, language) for p in purposes]
    email = PAGES.objection_confirmed_email(
        language, summaries, catalog.controller_name(request.campaign_id, purposes)
    )
    await send_email(
        pool, settings, to_address, email, "objection-confirmation", request.request_id
    )


async def send_object_request(
    pool: SmtpPool, settings: Any, to_address: str, purpose: PurposeSummary, url: str, language: str
) -> bool:
    """The /object flow: a link that records the objection only when clicked."""
    email = PAGES.objection_request_email(language, purpose, url)
    reference = hashlib.sha256(url.encode()).hexdigest()[:32]
    return await send_email(pool, settings, to_address, email, "objection-request", reference)
