"""From an address to its account: objections made through ``/object`` reach the user_id.

``/object`` knows a person only by the address they typed, so the link it
emails carries a pseudonymous user id, ``email-hmac:<digest>`` (a keyed hash,
:mod:`notifications.addresses`). The exclusion list must name the account's
user_id when the address has one, or the ML pipeline keeps training on that
person. The directory, though, is partitioned by user_id. So:

1. A directory hook (in the user's partition, :func:`on_user_changed`)
   publishes, for every change of a user's address, ``address.indexed`` for
   the new digest and ``address.released`` for the old one on
   ``preavis.address-index``, keyed by digest; the ``address_owners`` table
   (user_id -> digests, in the user's partition) remembers what was
   published, so that erasure can release it (:func:`released_on_erasure`).
2. The ``address_index`` agent (:func:`handle_address_record`) holds, per
   digest, the owner and the purposes objected to while there was none. An
   ``address.objection`` for an address with an owner becomes that user's
   :class:`ObjectionRequest` (the objections agent records and excludes it,
   once); without an owner it is recorded under the pseudonym as before, and
   kept pending.
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
from collections.abc import Mapping
from dataclasses import dataclass

from notifications.address_index import (
    AddressIndexEntry,
    OwnedDigests,
    digests_of,
    pending_request,
    with_pending,
)
from notifications.internal_events import ObjectionRequest, encode_internal
from streams.objections.address_events import (
    AddressIndexed,
    AddressObjection,
    AddressRecord,
    AddressReleased,
)
from streams.ports import Table, Topic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AddressIndexPorts:
    """What the index's hooks and agent read and write."""

    #: the index key of each verifying link secret, the current one first
    keys: tuple[bytes, ...]
    index: Table[AddressIndexEntry]
    owners: Table[OwnedDigests]
    #: ``preavis.address-index``
    index_topic: Topic
    #: ``preavis.objection-requests``
    requests: Topic


async def publish(ports: AddressIndexPorts, record: AddressIndexed | AddressReleased) -> None:
    await ports.index_topic.send(key=record.digest.encode(), value=encode_internal(record))


async def on_user_changed(
    ports: AddressIndexPorts, user_id: str, new: Mapping[str, object]
) -> None:
    """After a directory upsert: publish the digests the user's address gained and lost."""
    before = set(ports.owners.get(user_id) or [])
    after = set(digests_of(ports.keys, new))
    if before == after:
        return
    for digest in sorted(before - after):
        await publish(ports, AddressReleased(digest=digest, user_id=user_id))
    for digest in sorted(after - before):
        await publish(ports, AddressIndexed(digest=digest, user_id=user_id))
    if after:
        ports.owners[user_id] = sorted(after)
    else:
        del ports.owners[user_id]


def released_on_erasure(owners: Table[OwnedDigests], user_id: str) -> list[AddressReleased]:
    """Erasure: forget the user's digests; the releases the caller must publish."""
    digests = owners.get(user_id)
    if digests is None:
        return []
    del owners[user_id]
    return [AddressReleased(digest=digest, user_id=user_id) for digest in digests]


async def forward(ports: AddressIndexPorts, request: ObjectionRequest) -> None:
    await ports.requests.send(key=request.user_id.encode(), value=encode_internal(request))


async def forget_on_topic(ports: AddressIndexPorts, digest: str) -> None:
    await ports.index_topic.send(key=digest.encode(), value=None)


async def handle_address_record(ports: AddressIndexPorts, record: AddressRecord | None) -> None:
    """Apply one record of ``preavis.address-index`` (None: a tombstone, ours)."""
    if record is None:
        return
    state = ports.index.get(record.digest) or {}
    owner = state.get("user_id")
    if isinstance(record, AddressIndexed):
        pending = state.get("pending") or {}
        ports.index[record.digest] = {"user_id": record.user_id}
        for purpose_id, kept in sorted(pending.items()):
            await forward(ports, pending_request(record.user_id, purpose_id, kept))
        if pending:
            log.info("objections made before the account existed: %d forwarded", len(pending))
    elif isinstance(record, AddressReleased):
        if owner == record.user_id:
            del ports.index[record.digest]
            await forget_on_topic(ports, record.digest)
    elif isinstance(record, AddressObjection):
        request = record.request
        if owner:
            await forward(ports, request.model_copy(update={"user_id": owner}))
        else:
            await forward(ports, request)  # under the pseudonym, as for an address of nobody
            ports.index[record.digest] = with_pending(state, request)
        if request.reason:
            await forget_on_topic(ports, record.digest)
