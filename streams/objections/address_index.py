"""From an address to its account: objections made through ``/object`` reach the user_id.

``/object`` knows a person only by the address they typed, so the link it
emails carries a pseudonymous user id, ``email-hmac:<digest>`` (a keyed hash,
:mod:`notifications.addresses`). The exclusion list must name the account's
user_id when the address has one, or the ML pipeline keeps training on that
person. The directory, though, is partitioned by user_id. So:

1. A directory hook (in the user's partition) publishes, for every change of
   a user's address, ``address.indexed`` for the new digest and
   ``address.released`` for the old one on ``preavis.address-index``, keyed
   by digest; the ``address_owners`` table (user_id -> digests, in the user's
   partition) remembers what was published, so that erasure can release it.
2. The ``address_index`` agent holds, per digest, the owner and the purposes
   objected to while there was none. An ``address.objection`` for an address
   with an owner becomes that user's :class:`ObjectionRequest` (the
   objections agent records and excludes it, once); without an owner it is
   recorded under the pseudonym as before, and kept pending.
3. When an address with pending objections is indexed (the address joins),
   they are forwarded to the new owner's partition, and forgotten here.
4. A release that empties a digest, and an objection with a reason, are
   followed by a tombstone on the topic (see ``address_events``), so that
   compaction keeps neither an erased user's id nor a reason there.

One digest per link secret (current and old): a token signed before a
rotation still finds its account, as long as its secret is configured.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from notifications.addresses import address_digest, index_keys
from notifications.internal_events import ObjectionRequest, encode_internal
from streams.guarded_agents import run_guarded
from streams.objections.address_events import (
    AddressIndexed,
    AddressObjection,
    AddressReleased,
    decode_address_record,
)

if TYPE_CHECKING:
    from streams.app import PreavisApp
    from streams.wiring import Wiring

log = logging.getLogger(__name__)

INDEX_TABLE = "address_index"
OWNERS_TABLE = "address_owners"


def digests_of(keys: tuple[bytes, ...], entry: dict[str, Any] | None) -> list[str]:
    """The index digests of a directory entry's address (none without one)."""
    address = (entry or {}).get("email")
    if not isinstance(address, str) or not address.strip():
        return []
    return sorted({address_digest(key, address) for key in keys})


def pending_request(owner: str, purpose_id: str, kept: dict[str, Any]) -> ObjectionRequest:
    """A kept objection, as the owner's request (the objections agent dedupes it).

    Its request id differs from the pseudonymous record's, so that the two
    ``objection.recorded`` events never share an ``objection_id``.
    """
    fields = {**kept, "user_id": owner, "purposes": [purpose_id]}
    fields["request_id"] = f"{kept['request_id']}-joined"
    return ObjectionRequest.model_validate(fields)


def register(app: PreavisApp, wiring: Wiring) -> None:
    """Add the index, its directory and erasure hooks, and its agent."""
    topics, settings = wiring.topics, wiring.settings
    keys = index_keys(settings.link_keys().verifying)
    index = wiring.tables.address_index.raw
    owners = wiring.tables.address_owners.raw

    async def publish(record: AddressIndexed | AddressReleased | AddressObjection) -> None:
        await topics.address_index.send(key=record.digest.encode(), value=encode_internal(record))

    async def on_user_changed(
        user_id: str, old: dict[str, Any] | None, new: dict[str, Any], partition: int
    ) -> None:
        before = set(owners.get(user_id) or [])
        after = set(digests_of(keys, new))
        if before == after:
            return
        for digest in sorted(before - after):
            await publish(AddressReleased(digest=digest, user_id=user_id))
        for digest in sorted(after - before):
            await publish(AddressIndexed(digest=digest, user_id=user_id))
        if after:
            owners[user_id] = sorted(after)
        else:
            del owners[user_id]

    def on_user_erased(user_id: str) -> None:
        """Erasure: the user's digests leave the index (a hook is synchronous: send_soon)."""
        digests = owners.get(user_id)
        if digests is None:
            return
        del owners[user_id]
        for digest in digests:
            record = AddressReleased(digest=digest, user_id=user_id)
            topics.address_index.send_soon(key=digest.encode(), value=encode_internal(record))

    async def forward(request: ObjectionRequest) -> None:
        await topics.objection_requests.send(
            key=request.user_id.encode(), value=encode_internal(request)
        )

    async def forget_on_topic(digest: str) -> None:
        await topics.address_index.send(key=digest.encode(), value=None)

    async def on_record(record: Any, raw: Any) -> None:
        if record is None:
            return  # our own tombstone
        state: dict[str, Any] = dict(index.get(record.digest) or {})
        owner = state.get("user_id")
        if isinstance(record, AddressIndexed):
            pending: dict[str, Any] = state.get("pending") or {}
            index[record.digest] = {"user_id": record.user_id}
            for purpose_id, kept in sorted(pending.items()):
                await forward(pending_request(record.user_id, purpose_id, kept))
            if pending:
                log.info("objections made before the account existed: %d forwarded", len(pending))
        elif isinstance(record, AddressReleased):
            if owner == record.user_id:
                del index[record.digest]
                await forget_on_topic(record.digest)
        elif isinstance(record, AddressObjection):
            request = record.request
            if owner:
                await forward(request.model_copy(update={"user_id": owner}))
            else:
                await forward(request)  # under the pseudonym, as for an address of nobody
                keep_pending(record.digest, state, request)
            if request.reason:
                await forget_on_topic(record.digest)

    def keep_pending(digest: str, state: dict[str, Any], request: ObjectionRequest) -> None:
        """Remember the purposes objected to, for the day the address joins."""
        pending = dict(state.get("pending") or {})
        for purpose_id in request.purposes:
            # the reason stays with the pseudonymous record only: no free text kept here
            pending.setdefault(
                purpose_id,
                request.model_dump(mode="json", exclude={"user_id", "purposes", "reason"}),
            )
        index[digest] = {"user_id": None, "pending": pending}

    wiring.hooks.on_change.append(on_user_changed)
    wiring.hooks.on_erase.append(on_user_erased)

    @app.agent(topics.address_index, name="address_index")
    async def address_index(stream: Any) -> None:
        await run_guarded(stream, on_record, topics.deadletter, decoder=decode_address_record)
