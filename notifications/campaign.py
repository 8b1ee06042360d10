"""A published change seen as a campaign: its kind, purposes, start and audience rules.

The rules take the change as the contract's model, parsed once. Each
partition's campaign registry (table ``campaign_shards``) keeps the change as
JSON, the form in which it travels on the fan-out topic, so that every
partition decides on exactly the text that was validated; :func:`parse_change`
turns that JSON back into the model. A campaign id's text never changes (a
republication with another text is refused), so a caller parses it once per
campaign and process (``streams.campaigns.registry``), never once per user.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Literal, TypedDict, overload

from pydantic import ValidationError

from notifications.audience import AudienceRules
from notifications.errors import InvalidEvent
from notifications.events import PurposeDeclared, TermsPublished

#: A change that starts a campaign.
Change = PurposeDeclared | TermsPublished
Kind = Literal["purpose", "terms"]
#: A change as JSON (``model_dump(mode="json", exclude_none=True)``), as the registry keeps it.
ChangeJson = Mapping[str, object]


class RegisteredCampaign(TypedDict):
    """What other domains read of a campaign in its partition's registry (``campaign_shards``).

    The campaigns domain keeps more there (progress, tally); delivery renders
    the change exactly as it was validated, and the objection count reads
    which purposes it covers.
    """

    kind: Kind
    change: ChangeJson


class TallyCounts(TypedDict):
    """A partition's fan-out outcomes so far, as its registry entry keeps them."""

    notified: int
    suppressed: dict[str, int]
    excluded: dict[str, int]
    # the audience (notified + suppressed) by country and by language
    by_country: dict[str, int]
    by_language: dict[str, int]
    suppressed_by_country: dict[str, int]
    suppressed_by_language: dict[str, int]


class ShardState(TypedDict):
    """One campaign in a partition's registry: its text, how far the fan-out got, its tally.

    ``progress`` is the last user_id decided (the fan-out walks the partition
    in key order), or ``streams.campaigns.registry.DONE``; ``None`` before the
    first chunk. The registry itself (the table value, key: the partition
    number) is a ``dict`` from campaign id to this.
    """

    kind: Kind
    change: dict[str, object]
    progress: str | None
    tally: TallyCounts


ShardRegistry = dict[str, ShardState]


class SeenCampaign(TypedDict):
    """The ``campaigns_seen`` table's value: what intake decided for a campaign id, and on what.

    ``digest`` is :func:`change_digest` of the text it decided on, so that a
    republication with another text is told apart from a replay.
    """

    status: Literal["running", "rejected"]
    digest: str
    at: str


def kind_of(change: Change) -> Kind:
    """``purpose`` for a ``purpose.declared``, ``terms`` for a ``terms.published``."""
    return "purpose" if change.type == "purpose.declared" else "terms"


def change_json(change: Change) -> dict[str, object]:
    """The change as the fan-out topic and the registry carry it (absent fields left out)."""
    return change.model_dump(mode="json", exclude_none=True)


def change_digest(change: ChangeJson) -> str:
    """A fingerprint of a change's text, the same whatever the order of its fields."""
    return hashlib.sha256(json.dumps(change, sort_keys=True).encode()).hexdigest()


def parse_change(kind: Kind, data: ChangeJson) -> Change:
    """The model of a change kept as JSON; :class:`InvalidEvent` names the field if it is not."""
    model = PurposeDeclared if kind == "purpose" else TermsPublished
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidEvent.from_validation_error(exc) from exc


@overload
def start_of(change: Change) -> datetime: ...
@overload
def start_of(change: ChangeJson, kind: Kind) -> datetime: ...
def start_of(change: Change | ChangeJson, kind: Kind | None = None) -> datetime:
    """When processing starts (purpose) or the new terms apply.

    The ``(json, kind)`` form serves the callers that still read the registry's
    JSON themselves (delivery); it parses the one field it needs.
    """
    if isinstance(change, PurposeDeclared):
        return change.starts_at
    if isinstance(change, TermsPublished):
        return change.effective_at
    return datetime.fromisoformat(str(change["starts_at" if kind == "purpose" else "effective_at"]))


@overload
def purposes_of(change: Change) -> list[str]: ...
@overload
def purposes_of(change: ChangeJson, kind: Kind) -> list[str]: ...
def purposes_of(change: Change | ChangeJson, kind: Kind | None = None) -> list[str]:
    """The purposes an objection to this campaign covers.

    The ``(json, kind)`` form serves the callers that still read the registry's
    JSON themselves (delivery).
    """
    if isinstance(change, PurposeDeclared):
        return [change.purpose_id]
    if isinstance(change, TermsPublished):
        return list(change.purposes_added or ())
    if kind == "purpose":
        return [str(change["purpose_id"])]
    added = change.get("purposes_added")
    return [str(purpose) for purpose in added] if isinstance(added, list) else []


def rules_of(change: Change) -> AudienceRules:
    """The campaign's audience rules, prepared for many decisions."""
    audience = change.audience
    return AudienceRules.build(
        countries=audience.countries,
        min_age=audience.min_age,
        account_types=audience.account_types,
        data_categories=audience.data_categories,
        starts_at=start_of(change),
    )
