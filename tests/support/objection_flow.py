"""The objection handlers' ports on in-memory fakes, and readers of what they wrote."""

from __future__ import annotations

from dataclasses import dataclass, field

from notifications import topic_names as names
from notifications.campaign import RegisteredCampaign
from notifications.directory import DirectoryEntry
from notifications.events import ObjectionRecorded, TrainingExclusion, decode
from notifications.exclusions import ExclusionEntry
from notifications.internal_events import TOPIC_LEDGER, CampaignObjection, decode_internal
from notifications.objection_reasons import ReasonsEntry
from notifications.objections import ObjectionState
from streams.objections.handlers import Confirmation, ObjectionPorts
from tests.support.fakes import MemoryTable, RecordingTopic


@dataclass
class Flow:
    """The ports of one partition, and what was handed to the mailer."""

    objections: MemoryTable[ObjectionState] = field(default_factory=MemoryTable)
    exclusions: MemoryTable[ExclusionEntry] = field(default_factory=MemoryTable)
    reasons: MemoryTable[ReasonsEntry] = field(default_factory=MemoryTable)
    directory: MemoryTable[DirectoryEntry] = field(default_factory=MemoryTable)
    shards: MemoryTable[dict[str, RegisteredCampaign]] = field(default_factory=MemoryTable)
    proof: RecordingTopic = field(default_factory=lambda: RecordingTopic(names.TOPIC_OBJECTIONS))
    exclusion_list: RecordingTopic = field(
        default_factory=lambda: RecordingTopic(names.TOPIC_EXCLUSIONS)
    )
    ledger: RecordingTopic = field(default_factory=lambda: RecordingTopic(TOPIC_LEDGER))
    confirmations: list[Confirmation] = field(default_factory=list)

    @property
    def ports(self) -> ObjectionPorts:
        return ObjectionPorts(
            objections=self.objections,
            exclusions=self.exclusions,
            reasons=self.reasons,
            directory=self.directory,
            campaign_shards=self.shards,
            proof=self.proof,
            exclusion_list=self.exclusion_list,
            ledger=self.ledger,
            confirm=self.confirmations.append,
        )

    def recorded(self) -> list[ObjectionRecorded]:
        events = [decode(names.TOPIC_OBJECTIONS, s.key, s.value) for s in self.proof.sent]
        assert all(isinstance(e, ObjectionRecorded) for e in events)
        return [e for e in events if isinstance(e, ObjectionRecorded)]

    def published(self) -> list[tuple[bytes | None, TrainingExclusion | None]]:
        """``training.exclusions`` as sent: (key, the record, or None for a tombstone)."""
        out: list[tuple[bytes | None, TrainingExclusion | None]] = []
        for sent in self.exclusion_list.sent:
            record = decode(names.TOPIC_EXCLUSIONS, sent.key, sent.value)
            assert record is None or isinstance(record, TrainingExclusion)
            out.append((sent.key, record))
        return out

    def counted(self) -> list[CampaignObjection]:
        entries = [decode_internal(TOPIC_LEDGER, s.key, s.value) for s in self.ledger.sent]
        assert all(isinstance(e, CampaignObjection) for e in entries)
        return entries

    def everything_written(self) -> tuple[object, ...]:
        return (
            list(self.proof.sent),
            list(self.exclusion_list.sent),
            list(self.ledger.sent),
            list(self.confirmations),
            dict(self.objections.data),
            dict(self.exclusions.data),
            dict(self.reasons.data),
        )
