"""Every table of the worker, declared once, before any domain registers.

A domain that reads another's table (delivery reads the directory and the
campaign registry, objections read the registry) gets it from :class:`Tables`
as a typed attribute, not by looking a name up in ``app.tables``: the
dependency is visible, checked by mypy, and no longer depends on which domain
happened to register first.

The names are on the wire: a table's name is part of its changelog topic's
name, which holds every worker's state. Renaming one would start an empty
table beside the old changelog and orphan its data, so they stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from streams.runtime.faust_ports import FaustTable

if TYPE_CHECKING:
    import faust

    from streams.settings import Settings

#: A table's JSON value before its domain gives it a ``TypedDict``.
Json = Any

DIRECTORY = "directory"
CAMPAIGNS_SEEN = "campaigns_seen"
CAMPAIGN_SHARDS = "campaign_shards"
LATE_DECISIONS = "late_decisions"
EXCLUSIONS = "exclusions"
CAMPAIGNS = "campaigns"
CAMPAIGN_FINALS = "campaign_finals"
DELIVERIES = "deliveries"
SUPPRESSION = "suppression"
OBJECTIONS = "objections"
OBJECTION_REASONS = "objection_reasons"
ADDRESS_INDEX = "address_index"
ADDRESS_OWNERS = "address_owners"
DOCUMENTS = "documents"

_HELP: dict[str, str] = {
    DIRECTORY: "user_id -> contact and audience fields (personal data: erased on request)",
    CAMPAIGNS_SEEN: "campaign_id -> status and digest of the accepted change",
    CAMPAIGN_SHARDS: "partition -> campaigns that reached it, with progress",
    LATE_DECISIONS: "campaign_id|user_id -> decision for late matches",
    EXCLUSIONS: "user_id -> purposes excluded and why",
    CAMPAIGNS: "campaign_id -> status, counts (the ledger, folded)",
    CAMPAIGN_FINALS: "campaign_id|user_id -> final status counted, and its ledger offset",
    DELIVERIES: "campaign_id|user_id -> last delivery status (at most one email per pair)",
    SUPPRESSION: "user_id -> sha256 of addresses that hard-bounced",
    OBJECTIONS: "user_id -> purposes objected to (objection id, campaign, channel, time)",
    OBJECTION_REASONS: "user_id -> free-text objection reasons (personal data: erased on request)",
    ADDRESS_INDEX: "address digest -> owner user_id, objections made while it had none",
    ADDRESS_OWNERS: "user_id -> digests of their address published to the index (erased with them)",
    DOCUMENTS: "document_id -> the latest version seen",
}


@dataclass(frozen=True)
class Tables:
    """The worker's tables, by role; each value type is its domain's ``TypedDict``."""

    directory: FaustTable[Json]
    campaigns_seen: FaustTable[Json]
    campaign_shards: FaustTable[Json]
    late_decisions: FaustTable[Json]
    exclusions: FaustTable[Json]
    campaigns: FaustTable[Json]
    campaign_finals: FaustTable[Json]
    deliveries: FaustTable[Json]
    suppression: FaustTable[Json]
    objections: FaustTable[Json]
    objection_reasons: FaustTable[Json]
    address_index: FaustTable[Json]
    address_owners: FaustTable[Json]
    documents: FaustTable[Json]


def declare_tables(app: faust.App, settings: Settings) -> Tables:
    """Declare every table on ``app``, co-partitioned with the topics."""

    def table(name: str) -> FaustTable[Json]:
        return FaustTable(
            app.Table(
                name,
                key_type=str,
                value_type=None,
                partitions=settings.topic_partitions,
                help=_HELP[name],
            )
        )

    return Tables(**{name: table(name) for name in _HELP})
