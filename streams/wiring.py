"""What the domains share, built once by :func:`streams.app.create_app`.

Everything one domain gives another goes through here as a typed attribute:
the tables (:mod:`streams.tables`), the audience lookups, the directory's
hooks, the shared SMTP pool, the followed views of the policy topics and of
the campaign documents. Nothing is left for a domain to fill in at
registration, so the domains can register in any order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from notifications.addresses import suppression_digest
from notifications.directory import DirectoryEntry
from notifications.objections import objected_to_any

if TYPE_CHECKING:
    from notifications.smtp import SmtpPool
    from streams.compliance.campaign_documents import CampaignDocuments
    from streams.locks import PartitionLocks
    from streams.metrics import Metrics
    from streams.ports import Table
    from streams.purpose_catalog import PurposeCatalog
    from streams.runtime.offset_gaps import OffsetGaps
    from streams.settings import Settings
    from streams.tables import Tables
    from streams.topics import Topics

#: After a directory upsert: (user_id, old entry, new entry, partition).
UserHook = Callable[[str, DirectoryEntry | None, DirectoryEntry, int], Awaitable[None]]
#: On erasure, in the users event's partition: (user_id).
EraseHook = Callable[[str], None]


@dataclass(frozen=True)
class AudienceLookups:
    """What the audience rules need to know besides the directory entry.

    Read by the fan-out and again by delivery just before it sends
    (:func:`notifications.audience.recheck`).
    """

    objections: Table[Any]
    suppression: Table[Any]

    def objected(self, user_id: str, purposes: list[str]) -> bool:
        """Has ``user_id`` objected to any of ``purposes``?"""
        return objected_to_any(self.objections.get(user_id), purposes)

    def bounced(self, user_id: str, entry: DirectoryEntry) -> bool:
        """Did the entry's current address hard-bounce before?"""
        email = entry.get("email")
        if not email:
            return False
        return suppression_digest(email) in (self.suppression.get(user_id) or [])


@dataclass
class DirectoryHooks:
    """Who the directory tells about an upsert or an erasure, in registration order."""

    on_change: list[UserHook] = field(default_factory=list)
    on_erase: list[EraseHook] = field(default_factory=list)


@dataclass(frozen=True)
class Wiring:
    """The shared parts of one worker, passed to every domain's ``register``."""

    settings: Settings
    topics: Topics
    tables: Tables
    lookups: AudienceLookups
    hooks: DirectoryHooks
    locks: PartitionLocks
    smtp: SmtpPool
    metrics: Metrics
    offset_gaps: OffsetGaps
    purpose_catalog: PurposeCatalog
    campaign_documents: CampaignDocuments
