"""The objection flow, as plain async functions of typed ports.

- :func:`submit_objection` (the pages and the API): a request goes to the
  agent that holds the user's objections, or, for someone known only by an
  address (``/object``), to the address index, which finds the account.
- :func:`handle_request` (``preavis.objection-requests``): records
  ``objection.recorded`` on ``consent.objections`` only for purposes not
  objected to yet (a repeated click records nothing new), excludes the user
  from them in ``training.exclusions``, counts the objection for the
  campaigns it concerns, and hands one confirmation email to the mailer.
- :func:`handle_platform_record` (``consent.objections``): objections and
  withdrawals the platform records itself (Art. 21(5) through its own
  channels) are applied the same way; a record preavis wrote is already
  applied and changes nothing. A withdrawal lifts the exclusion.

Objections are honoured whenever they arrive, before or after the start of
processing: the exclusion list is what the pipelines read at training time.
The order of the writes is the old agents': reason kept, proof queued,
objection held, exclusion published, campaigns counted, then the email.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from notifications.addresses import digest_of_pseudonym
from notifications.campaign import RegisteredCampaign
from notifications.directory import DirectoryEntry
from notifications.event_types import ObjectionChannel
from notifications.events import ObjectionRecorded, ObjectionWithdrawn, encode
from notifications.exclusions import ExclusionEntry
from notifications.internal_events import ObjectionRequest, encode_internal
from notifications.links import TokenClaims
from notifications.objection_counts import campaign_objections
from notifications.objection_reasons import ReasonsEntry, RecordPosition
from notifications.objections import (
    REASON_MAX_CHARS,
    ObjectionState,
    new_purposes,
    with_objection,
    without_objection,
)
from streams.objections.address_events import AddressObjection
from streams.objections.exclusions import exclude, unexclude
from streams.objections.reasons import keep_reason
from streams.ports import Table, Topic


@dataclass(frozen=True, slots=True)
class Confirmation:
    """One "your objection is recorded" email: to whom, for which request and purposes."""

    to_address: str = dataclasses.field(repr=False)
    request: ObjectionRequest
    purposes: list[str]
    locale: str
    #: the user's country: its language, when the operator did not write the locale's
    country: str | None = None


@dataclass(frozen=True)
class ObjectionPorts:
    """What the objection handlers read and write."""

    objections: Table[ObjectionState]
    exclusions: Table[ExclusionEntry]
    reasons: Table[ReasonsEntry]
    directory: Table[DirectoryEntry]
    #: partition (as a string) -> campaign_id -> the campaign, as the campaigns domain keeps it
    campaign_shards: Table[dict[str, RegisteredCampaign]]
    #: ``consent.objections``, the proof
    proof: Topic
    #: ``training.exclusions``, what the pipelines read
    exclusion_list: Topic
    #: ``preavis.campaign-ledger``, where objections are counted
    ledger: Topic
    #: hands an email to the background mailer; never waits for the relay
    confirm: Callable[[Confirmation], None]


@dataclass(frozen=True)
class IntakePorts:
    """Where a request to object goes: the objections agent, or the address index."""

    requests: Topic
    address_index: Topic


async def submit_objection(
    ports: IntakePorts,
    claims: TokenClaims,
    channel: ObjectionChannel,
    reason: str | None,
    *,
    request_id: str,
    now: datetime,
) -> ObjectionRequest:
    """Ask for the objection ``claims`` carry (a blank reason is none; a long one is cut)."""
    request = ObjectionRequest(
        request_id=request_id,
        user_id=claims.user_id,
        purposes=list(claims.purposes),
        campaign_id=claims.campaign_id,
        channel=channel,
        language=claims.language,
        reason=(reason or "").strip()[:REASON_MAX_CHARS] or None,
        received_at=now,
    )
    digest = digest_of_pseudonym(claims.user_id)
    if digest is not None:  # someone known by an address: the index finds the account
        record = AddressObjection(digest=digest, request=request)
        await ports.address_index.send(key=digest.encode(), value=encode_internal(record))
    else:
        await ports.requests.send(key=claims.user_id.encode(), value=encode_internal(request))
    return request


async def record(ports: ObjectionPorts, event: ObjectionRecorded, partition: int) -> None:
    """Hold the objection, exclude the user from its purpose, count it for its campaigns."""
    ports.objections[event.user_id] = with_objection(ports.objections.get(event.user_id), event)
    await exclude(
        ports.exclusions,
        ports.exclusion_list,
        event.user_id,
        event.purpose_id,
        "objection",
        event.received_at,
    )
    registry = ports.campaign_shards.get(str(partition))
    entry = ports.directory.get(event.user_id)
    for counted in campaign_objections(event, registry, entry):
        await ports.ledger.send(key=counted.campaign_id.encode(), value=encode_internal(counted))


async def handle_request(
    ports: ObjectionPorts, request: ObjectionRequest, source: RecordPosition
) -> None:
    """Record what ``request`` objects to anew; confirm it by email when there was any."""
    fresh = new_purposes(ports.objections.get(request.user_id), request.purposes)
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
        keep_reason(ports.reasons, event, request.reason, source)
        await ports.proof.send(
            key=request.user_id.encode(), value=encode(event), partition=source.partition
        )
        await record(ports, event, source.partition)
    entry = ports.directory.get(request.user_id)
    address = entry.get("email") if entry else None
    if entry and address:
        locale = entry.get("locale") or request.language
        ports.confirm(Confirmation(address, request, fresh, locale, entry.get("country")))


async def handle_platform_record(
    ports: ObjectionPorts, event: ObjectionRecorded | ObjectionWithdrawn, source: RecordPosition
) -> None:
    """Apply an objection or a withdrawal read on ``consent.objections``."""
    if isinstance(event, ObjectionRecorded):
        if event.purpose_id not in (ports.objections.get(event.user_id) or {}):
            keep_reason(ports.reasons, event, event.reason, source)
            await record(ports, event, source.partition)
        return
    state = without_objection(ports.objections.get(event.user_id), event.purpose_id)
    if state is None:
        return
    if state:
        ports.objections[event.user_id] = state
    else:
        del ports.objections[event.user_id]
    await unexclude(
        ports.exclusions, ports.exclusion_list, event.user_id, event.purpose_id, "objection"
    )
