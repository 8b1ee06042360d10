"""The records of ``preavis.address-index`` (internal, compacted, key: an address digest).

The directory is partitioned by user_id, so "whose address is this?" cannot
be asked of it; this topic re-keys the question by the address's keyed hash
(:mod:`notifications.addresses`), so that one agent holds everything about
one address, in order:

- ``address.indexed``: the address now belongs to ``user_id`` (a directory
  upsert gave the user this address).
- ``address.released``: it no longer belongs to ``user_id`` (the address
  changed, or the user was erased). It names the user, so that a release
  arriving after another user took the address releases nothing.
- ``address.objection``: someone confirmed, through the ``/object`` link,
  an objection for the address; the index agent records it under the
  account, or under the pseudonym when the address belongs to nobody yet.

No address travels here, only its digest. The state lives in the index
agent's table; the topic is only its input, so the agent writes a null
tombstone on a digest after a release that emptied it, or after an objection
that carried a free-text reason: compaction then drops the user id of an
erased user and the reason from the topic (the table's changelog is
compacted by Faust the same way).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from notifications.errors import ROOT, InvalidEvent
from notifications.internal_events import TOPIC_ADDRESS_INDEX, ObjectionRequest

__all__ = [
    "AddressIndexed",
    "AddressObjection",
    "AddressRecord",
    "AddressReleased",
    "decode_address_record",
]


class _AddressEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    digest: str = Field(min_length=1)


class AddressIndexed(_AddressEvent):
    """The address of ``digest`` belongs to ``user_id``."""

    type: Literal["address.indexed"] = "address.indexed"
    user_id: str


class AddressReleased(_AddressEvent):
    """The address of ``digest`` no longer belongs to ``user_id``."""

    type: Literal["address.released"] = "address.released"
    user_id: str


class AddressObjection(_AddressEvent):
    """An objection confirmed for the address of ``digest`` (its pseudonymous request)."""

    type: Literal["address.objection"] = "address.objection"
    request: ObjectionRequest


AddressRecord = Annotated[
    AddressIndexed | AddressReleased | AddressObjection, Field(discriminator="type")
]
_ADAPTER: TypeAdapter[AddressRecord] = TypeAdapter(AddressRecord)


def decode_address_record(
    topic: str, key: bytes | None, value: bytes | None
) -> AddressRecord | None:
    """Parse a record of the index topic (None for a tombstone); :class:`InvalidEvent`
    names the field."""
    if topic != TOPIC_ADDRESS_INDEX:
        raise InvalidEvent(ROOT, f"no address records on topic {topic!r}")
    if value is None:
        return None
    try:
        return _ADAPTER.validate_json(value)
    except ValidationError as exc:
        raise InvalidEvent.from_validation_error(exc) from exc
