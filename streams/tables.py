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

    from notifications.address_index import AddressIndexEntry, OwnedDigests
    from notifications.campaign import SeenCampaign
    from notifications.campaign_status import CampaignStatus
    from notifications.delivery_policy import DeliveryStatus, SuppressedAddresses
    from notifications.directory import DirectoryEntry
    from notifications.exclusions import ExclusionEntry
    from notifications.kept_documents import KeptDocument
    from notifications.ledger_step import FinalMark
    from notifications.objection_reasons import ReasonsEntry
    from notifications.objections import ObjectionState
    from streams.settings import Settings

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
    """The worker's tables, by role, each typed with its value (notifications' TypedDicts)."""

    directory: FaustTable[DirectoryEntry]
    campaigns_seen: FaustTable[SeenCampaign]
    # each reader types its own view of an entry (campaigns: ShardRegistry;
    # delivery and objection counts: kind and change only)
    campaign_shards: FaustTable[Any]
    late_decisions: FaustTable[str]
    exclusions: FaustTable[ExclusionEntry]
    campaigns: FaustTable[CampaignStatus]
    campaign_finals: FaustTable[FinalMark]
    deliveries: FaustTable[DeliveryStatus]
    suppression: FaustTable[SuppressedAddresses]
    objections: FaustTable[ObjectionState]
    objection_reasons: FaustTable[ReasonsEntry]
    address_index: FaustTable[AddressIndexEntry]
    address_owners: FaustTable[OwnedDigests]
    documents: FaustTable[KeptDocument]


def declare_tables(app: faust.App, settings: Settings) -> Tables:
    """Declare every table on ``app``, co-partitioned with the topics."""

    def table(name: str) -> FaustTable[Any]:
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
