"""The address index's state, as pure functions: whose address is a digest, and what waits.

The ``address_index`` table (key: an address's keyed hash,
:func:`notifications.addresses.address_digest`) holds an
:class:`AddressIndexEntry`: the account that has the address now, or none and
the objections confirmed for it while it had none (:class:`PendingObjection`,
without their free-text reason), to forward the day the address joins. The
``address_owners`` table (key: user_id) holds the digests published for a
user's address, so that erasure can release them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict, cast

from notifications.addresses import address_digest
from notifications.event_types import ObjectionChannel
from notifications.internal_events import ObjectionRequest


class PendingObjection(TypedDict, total=False):
    """An objection kept for an address of nobody: its request, without who, what and why.

    ``ObjectionRequest.model_dump(mode="json")`` minus ``user_id``,
    ``purposes`` and ``reason``: times are ISO strings.
    """

    type: str
    request_id: str
    campaign_id: str | None
    channel: ObjectionChannel
    language: str
    received_at: str


class AddressIndexEntry(TypedDict, total=False):
    """An ``address_index`` table value: the owner (None: nobody yet) and what waits for one."""

    user_id: str | None
    pending: dict[str, PendingObjection]


#: An ``address_owners`` table value: the digests published for the user's address.
OwnedDigests = list[str]


def digests_of(keys: tuple[bytes, ...], entry: Mapping[str, object] | None) -> list[str]:
    """The index digests of a directory entry's address, one per key (none without one)."""
    address = (entry or {}).get("email")
    if not isinstance(address, str) or not address.strip():
        return []
    return sorted({address_digest(key, address) for key in keys})


def pending_request(owner: str, purpose_id: str, kept: PendingObjection) -> ObjectionRequest:
    """A kept objection, as the owner's request (the objections agent dedupes it).

    Its request id differs from the pseudonymous record's, so that the two
    ``objection.recorded`` events never share an ``objection_id``.
    """
    fields: dict[str, object] = {**kept, "user_id": owner, "purposes": [purpose_id]}
    fields["request_id"] = f"{kept['request_id']}-joined"
    return ObjectionRequest.model_validate(fields)


def with_pending(entry: AddressIndexEntry | None, request: ObjectionRequest) -> AddressIndexEntry:
    """An address of nobody, remembering ``request``'s purposes for the day it joins.

    A purpose already pending keeps its first request. The reason stays with
    the pseudonymous record only: no free text is kept here.
    """
    pending = dict((entry or {}).get("pending") or {})
    kept = cast(
        PendingObjection,
        request.model_dump(mode="json", exclude={"user_id", "purposes", "reason"}),
    )
    for purpose_id in request.purposes:
        pending.setdefault(purpose_id, kept)
    return {"user_id": None, "pending": pending}
