"""The objection agents: thin loops from the topics to :mod:`streams.objections.handlers`.

- ``objection_requests`` (link, form, API through preavis) and
  ``consent_objections`` (what the platform records itself) run the objection
  handlers on the partition's tables.
- ``address_index`` (:mod:`streams.objections.address_index`) maps an
  objection confirmed through ``/object`` from its address's keyed hash to
  the account; its directory hooks keep the index up to date.

The ports are built here, once, from :class:`streams.wiring.Wiring`; the
reasons' and the index's erasure hooks are registered in that order.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from notifications.addresses import index_keys
from notifications.events import ObjectionRecorded, ObjectionWithdrawn
from notifications.internal_events import ObjectionRequest, decode_internal, encode_internal
from notifications.objection_reasons import RecordPosition
from streams.guarded_agents import run_guarded
from streams.objections.address_events import decode_address_record
from streams.objections.address_index import (
    AddressIndexPorts,
    handle_address_record,
    on_user_changed,
    released_on_erasure,
)
from streams.objections.confirmations import ConfirmationMailer
from streams.objections.handlers import ObjectionPorts, handle_platform_record, handle_request
from streams.objections.reasons import forget_reasons
from streams.objections.request_purge import RequestPurger
from streams.runtime.faust_ports import FaustTopic

if TYPE_CHECKING:
    from streams.app import PreavisApp
    from streams.wiring import Wiring


def position(raw: Any) -> RecordPosition:
    """Where a Faust event's record was read."""
    message = raw.message
    return RecordPosition(message.topic, message.partition, message.offset)


def objection_ports(wiring: Wiring) -> ObjectionPorts:
    tables, topics, settings = wiring.tables, wiring.topics, wiring.settings
    return ObjectionPorts(
        objections=tables.objections,
        exclusions=tables.exclusions,
        reasons=tables.objection_reasons,
        directory=tables.directory,
        campaign_shards=tables.campaign_shards,
        proof=FaustTopic(topics.objections),
        exclusion_list=FaustTopic(topics.exclusions),
        ledger=FaustTopic(topics.ledger),
        confirm=ConfirmationMailer(wiring.smtp, settings.mail_from, wiring.purpose_catalog),
    )


def index_ports(wiring: Wiring) -> AddressIndexPorts:
    return AddressIndexPorts(
        keys=index_keys(wiring.settings.link_keys().verifying),
        index=wiring.tables.address_index,
        owners=wiring.tables.address_owners,
        index_topic=FaustTopic(wiring.topics.address_index),
        requests=FaustTopic(wiring.topics.objection_requests),
    )


def register(app: PreavisApp, wiring: Wiring) -> None:
    """Add the objection agents (the ``objected`` lookup reads their table), and the index."""
    topics = wiring.topics
    ports = objection_ports(wiring)

    async def flush_producer() -> None:
        await app.producer.flush()

    # free text: kept apart, erased with the user
    purger = RequestPurger(wiring.settings, flush_producer)
    wiring.hooks.on_erase.append(partial(forget_reasons, ports.reasons, purger.schedule))

    async def on_request(request: ObjectionRequest, raw: Any) -> None:
        await handle_request(ports, request, position(raw))

    async def on_platform_record(event: ObjectionRecorded | ObjectionWithdrawn, raw: Any) -> None:
        await handle_platform_record(ports, event, position(raw))

    @app.agent(topics.objection_requests, name="objection_requests")
    async def objection_requests(stream: Any) -> None:
        await run_guarded(stream, on_request, topics.deadletter, decoder=decode_internal)

    @app.agent(topics.objections, name="consent_objections")
    async def consent_objections(stream: Any) -> None:
        await run_guarded(stream, on_platform_record, topics.deadletter)

    register_index(app, wiring)


def register_index(app: PreavisApp, wiring: Wiring) -> None:
    """The index's directory and erasure hooks, and its agent."""
    topics = wiring.topics
    ports = index_ports(wiring)

    async def on_change(
        user_id: str, old: Mapping[str, object] | None, new: Mapping[str, object], partition: int
    ) -> None:
        await on_user_changed(ports, user_id, new)

    def on_erase(user_id: str) -> None:
        """A hook is synchronous: the releases are sent with ``send_soon``."""
        for record in released_on_erasure(ports.owners, user_id):
            topics.address_index.send_soon(
                key=record.digest.encode(), value=encode_internal(record)
            )

    async def on_record(record: Any, raw: Any) -> None:
        await handle_address_record(ports, record)

    wiring.hooks.on_change.append(on_change)
    wiring.hooks.on_erase.append(on_erase)

    @app.agent(topics.address_index, name="address_index")
    async def address_index(stream: Any) -> None:
        await run_guarded(stream, on_record, topics.deadletter, decoder=decode_address_record)
