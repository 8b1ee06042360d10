"""Where a campaign's decisions go: jobs, suppressions, exclusions, the ledger.

One object with one method per outcome, so that the fan-out and the late match
write exactly the same records, and a test can swap the clock. The records
written once per person are encoded by ``streams.campaigns.records``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from notifications.audience import Decision
from notifications.directory import DirectoryEntry
from notifications.exclusions import ExclusionEntry, as_exclusion_reason
from notifications.i18n import pick_language
from notifications.internal_events import TOPIC_JOBS, PersonDecided, encode_internal
from notifications.topic_names import TOPIC_DELIVERY
from streams.campaigns.records import job_bytes, suppressed_bytes
from streams.objections import exclusions
from streams.ports import Table, Topic


def notice_id(campaign_id: str, user_id: str) -> str:
    """The notice's stable id: one (campaign, user), one id, whoever computes it."""
    return hashlib.sha256(f"{campaign_id}\x00{user_id}".encode()).hexdigest()[:32]


def utcnow() -> datetime:
    return datetime.now(UTC)


class RecordWriter(Protocol):
    """Records for one partition, sent in batches (``streams.runtime.batch_writer``)."""

    async def append(self, topic: str, key: bytes | None, value: bytes | None) -> None: ...

    async def flush(self) -> None:
        """Send what is pending and wait until the broker has acknowledged all of it."""
        ...


@dataclass(frozen=True)
class CampaignOutputs:
    """The topics and the exclusions table a campaign writes to.

    Jobs and suppressed deliveries, one per user, go through a
    :class:`RecordWriter` (the caller flushes it); exclusions go through
    the exclusions table, whose changelog Faust writes.
    """

    exclusions_topic: Topic
    exclusions_table: Table[ExclusionEntry]
    ledger: Topic
    clock: Callable[[], datetime] = utcnow

    async def notify(
        self, writer: RecordWriter, campaign_id: str, user_id: str, *, late: bool = False
    ) -> None:
        job = job_bytes(campaign_id, user_id, self.clock(), late=late)
        await writer.append(TOPIC_JOBS, user_id.encode(), job)

    async def suppress(
        self, writer: RecordWriter, campaign_id: str, user_id: str, reason: str
    ) -> None:
        record = suppressed_bytes(
            notice_id(campaign_id, user_id), campaign_id, user_id, reason, self.clock()
        )
        await writer.append(TOPIC_DELIVERY, user_id.encode(), record)

    async def exclude(self, purposes: list[str], user_id: str, reason: str) -> None:
        now, why = self.clock(), as_exclusion_reason(reason)
        for purpose_id in purposes:
            await exclusions.exclude(
                self.exclusions_table, self.exclusions_topic, user_id, purpose_id, why, now
            )

    async def late_decision(
        self, campaign_id: str, user_id: str, decision: Decision, user: DirectoryEntry
    ) -> None:
        entry = PersonDecided.model_validate(
            {
                "campaign_id": campaign_id,
                "user_id": user_id,
                "outcome": decision.outcome.value,
                "reason": decision.reason,
                "country": user.get("country"),
                "language": pick_language(user.get("locale") or "en"),
                "at": self.clock(),
            }
        )
        await self.ledger.send(key=campaign_id.encode(), value=encode_internal(entry))
