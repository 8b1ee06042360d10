"""Objections: from a request or the platform's record to the exclusion list.

- ``objection_requests`` (link, form, API through preavis): the agent that
  holds the user's objections records ``objection.recorded`` on
  ``consent.objections`` only for purposes not objected to yet (a repeated
  click records nothing new), excludes the user from them in
  ``training.exclusions``, and sends the user a confirmation email.
- ``consent_objections``: objections and withdrawals the platform records
  itself (Art. 21(5) through its own channels) are applied the same way; a
  record preavis wrote is already applied and changes nothing. A withdrawal
  lifts the exclusion.
- ``preavis.address-index`` (:mod:`streams.objections.address_index`): an
  objection confirmed through ``/object`` is mapped from its address's keyed
  hash to the account, and becomes that user's request here.

Objections are honoured whenever they arrive, before or after the start of
processing: the exclusion list is what the pipelines read at training time.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from notifications.campaign import purposes_of
from notifications.events import ObjectionRecorded, ObjectionWithdrawn, encode
from notifications.i18n import pick_language
from notifications.internal_events import (
    CampaignObjection,
    ObjectionRequest,
    decode_internal,
    encode_internal,
)
from notifications.objections import (
    new_purposes,
    with_objection,
    without_objection,
)
from streams import exclusions
from streams.guarded_agents import run_guarded
from streams.objections import address_index
from streams.objections.confirmations import send_confirmation
from streams.objections.reasons import attach_reasons
from streams.purpose_catalog import PurposeCatalog

if TYPE_CHECKING:
    from streams.app import PreavisApp
    from streams.wiring import Wiring

log = logging.getLogger(__name__)

TABLE_NAME = "objections"


def register(app: PreavisApp, wiring: Wiring) -> None:
    """Add the objection agents (the ``objected`` lookup reads their table)."""
    topics, settings = wiring.topics, wiring.settings
    objections = wiring.tables.objections.raw
    exclusion_table: Any = wiring.tables.exclusions.raw
    reasons = attach_reasons(app, wiring)  # free text: kept apart, erased with the user
    catalog: PurposeCatalog = wiring.purpose_catalog
    pending_emails: set[asyncio.Task[None]] = set()

    def campaigns_covering(purpose_id: str, partition: int, named: str | None) -> set[str]:
        """The running campaigns of this partition about ``purpose_id`` (and the one named)."""
        shards: Any = wiring.tables.campaign_shards.raw
        registry = shards.get(str(partition)) or {}
        found = {
            campaign_id
            for campaign_id, state in registry.items()
            if purpose_id in purposes_of(state["change"], state["kind"])
        }
        return found | ({named} if named else set())

    async def count_for_campaigns(event: ObjectionRecorded, partition: int) -> None:
        directory: Any = wiring.tables.directory.raw
        entry = directory.get(event.user_id) or {}
        for campaign_id in sorted(
            campaigns_covering(event.purpose_id, partition, event.campaign_id)
        ):
            counted = CampaignObjection(
                campaign_id=campaign_id,
                user_id=event.user_id,
                purpose_id=event.purpose_id,
                country=entry.get("country"),
                language=pick_language(entry["locale"]) if entry.get("locale") else None,
                at=event.received_at,
            )
            await topics.ledger.send(key=campaign_id.encode(), value=encode_internal(counted))

    async def record(event: ObjectionRecorded, partition: int) -> None:
        state = objections.get(event.user_id)
        objections[event.user_id] = with_objection(
            state,
            event.purpose_id,
            {
                "objection_id": event.objection_id,
                "campaign_id": event.campaign_id,
                "channel": event.channel,
                "received_at": event.received_at.isoformat(),
            },
        )
        await exclusions.exclude(
            exclusion_table,
            topics.exclusions,
            event.user_id,
            event.purpose_id,
            "objection",
            event.received_at,
        )
        await count_for_campaigns(event, partition)

    async def on_request(request: ObjectionRequest, raw: Any) -> None:
        fresh = new_purposes(objections.get(request.user_id), request.purposes)
        if not fresh:
            return  # already objected: a repeat records nothing new
        for purpose_id in fresh:
            event = ObjectionRecorded(
                objection_id=f"{request.request_id}-{purpose_id}",
                user_id=request.user_id,
                purpose_id=purpose_id,
                campaign_id=request.campaign_id,
                channel=request.channel,
                received_at=request.received_at,
                reason=None,  # never on the proof topic: streams.objections.reasons
            )
            reasons.keep(
                request.user_id,
                event.objection_id,
                purpose_id,
                request.reason,
                request.received_at,
                raw.message,
            )
            await topics.objections.send(
                key=request.user_id.encode(),
                value=encode(event),
                partition=raw.message.partition,
            )
            await record(event, raw.message.partition)
        directory: Any = wiring.tables.directory.raw
        entry = directory.get(request.user_id)
        if entry and entry.get("email"):
            task = asyncio.ensure_future(
                send_confirmation(
                    wiring.smtp,
                    settings,
                    catalog,
                    entry["email"],
                    request,
                    fresh,
                    entry.get("locale") or request.language,
                )
            )
            pending_emails.add(task)
            task.add_done_callback(pending_emails.discard)

    async def on_platform_record(event: Any, raw: Any) -> None:
        if isinstance(event, ObjectionRecorded):
            if event.purpose_id not in (objections.get(event.user_id) or {}):
                reasons.keep(
                    event.user_id,
                    event.objection_id,
                    event.purpose_id,
                    event.reason,
                    event.received_at,
                    raw.message,
                )
                await record(event, raw.message.partition)
        elif isinstance(event, ObjectionWithdrawn):
            state = without_objection(objections.get(event.user_id), event.purpose_id)
            if state is None:
                return
            if state:
                objections[event.user_id] = state
            else:
                del objections[event.user_id]
            await exclusions.unexclude(
                exclusion_table, topics.exclusions, event.user_id, event.purpose_id, "objection"
            )

    @app.agent(topics.objection_requests, name="objection_requests")
    async def objection_requests(stream: Any) -> None:
        await run_guarded(stream, on_request, topics.deadletter, decoder=decode_internal)

    @app.agent(topics.objections, name="consent_objections")
    async def consent_objections(stream: Any) -> None:
        await run_guarded(stream, on_platform_record, topics.deadletter)

    # objections through /object reach the account of their address
    address_index.register(app, wiring)
