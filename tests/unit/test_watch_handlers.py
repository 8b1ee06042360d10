"""The watch's flow without a broker: ``streams.watch.handlers`` on in-memory ports.

Versions are real ``document.version`` models, the detector and the diff are
the real ones, the drafts go to a temporary folder; the records written are
decoded with the contract's models. tests/integration/test_document_watch.py
stays the proof on Kafka, with the archived corpus.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from notifications import topic_names as topics
from notifications.events import ComplianceAlert, DocumentChange, DocumentVersion, decode
from notifications.kept_documents import KeptDocument
from streams.watch.drafts import DraftFolder
from streams.watch.handlers import WatchPorts, handle_version
from tests.support.fakes import MemoryTable, RecordingTopic

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
FIRST = datetime(2026, 3, 1, 8, tzinfo=UTC)
BASE = (
    "# Privacy policy\n\n"
    "We collect the information you give us when you create an account. "
    "We use it to provide the service and to keep your account secure.\n"
)
AI_CLAUSE = "We use your posts, comments and photos to train our generative AI models."
PLAIN_CHANGE = "We keep your messages for twelve months after you close your account."


def version(text: str, fetched_at: datetime) -> DocumentVersion:
    return DocumentVersion(
        document_id="acme-privacy",
        service="Acme",
        document_type="Privacy Policy",
        url="https://example.com/privacy",
        fetched_at=fetched_at,
        text=text,
    )


@dataclass
class World:
    drafts_dir: Path
    documents: MemoryTable[KeptDocument] = field(default_factory=MemoryTable)
    changes: RecordingTopic = field(
        default_factory=lambda: RecordingTopic(topics.TOPIC_DOCUMENT_CHANGES)
    )
    alerts: RecordingTopic = field(default_factory=lambda: RecordingTopic(topics.TOPIC_ALERTS))

    @property
    def ports(self) -> WatchPorts:
        return WatchPorts(
            documents=self.documents,
            document_changes=self.changes,
            alerts=self.alerts,
            drafts=DraftFolder(self.drafts_dir),
            clock=lambda: NOW,
        )

    def sent_changes(self) -> list[DocumentChange]:
        decoded = [decode(topics.TOPIC_DOCUMENT_CHANGES, s.key, s.value) for s in self.changes.sent]
        assert all(isinstance(event, DocumentChange) for event in decoded)
        return [event for event in decoded if isinstance(event, DocumentChange)]

    def sent_alerts(self) -> list[ComplianceAlert]:
        decoded = [decode(topics.TOPIC_ALERTS, s.key, s.value) for s in self.alerts.sent]
        assert all(isinstance(event, ComplianceAlert) for event in decoded)
        return [event for event in decoded if isinstance(event, ComplianceAlert)]


async def test_the_first_version_is_the_baseline(tmp_path: Path) -> None:
    world = World(tmp_path / "drafts")

    await handle_version(world.ports, version(BASE + AI_CLAUSE, FIRST))

    kept = world.documents.get("acme-privacy")
    assert kept == {"text": BASE + AI_CLAUSE, "fetched_at": FIRST.isoformat()}
    assert world.changes.sent == [] and world.alerts.sent == []


async def test_a_version_adding_an_ai_training_clause_is_published_alerted_and_drafted(
    tmp_path: Path,
) -> None:
    world = World(tmp_path / "drafts")
    later = FIRST + timedelta(days=30)
    await handle_version(world.ports, version(BASE, FIRST))

    await handle_version(world.ports, version(BASE + AI_CLAUSE + "\n", later))

    [change] = world.sent_changes()
    assert world.changes.sent[0].key == b"acme-privacy"
    assert change.ai_training and change.evidence == [AI_CLAUSE]
    assert change.added == [AI_CLAUSE] and change.removed == []
    assert (change.previous_fetched_at, change.fetched_at, change.at) == (FIRST, later, NOW)
    [alert] = world.sent_alerts()
    assert world.alerts.sent[0].key == b"document:acme-privacy"
    assert (alert.code, alert.severity) == ("ai_training_clause_detected", "critical")
    assert alert.details["evidence"] == [AI_CLAUSE]
    draft = json.loads(Path(alert.details["draft"]).read_text("utf-8"))
    assert Path(alert.details["draft"]).parent == tmp_path / "drafts"
    assert draft["_draft"]["evidence"] == [AI_CLAUSE] and draft["data_use"] == "train_ai_system"
    kept = world.documents.get("acme-privacy")
    assert kept is not None and kept["fetched_at"] == later.isoformat()


async def test_an_unchanged_version_publishes_nothing(tmp_path: Path) -> None:
    world = World(tmp_path / "drafts")
    await handle_version(world.ports, version(BASE + AI_CLAUSE, FIRST))

    await handle_version(world.ports, version(BASE + AI_CLAUSE, FIRST + timedelta(days=1)))

    assert world.changes.sent == [] and world.alerts.sent == []
    assert not (tmp_path / "drafts").exists()


async def test_a_change_without_ai_training_is_published_without_an_alert(tmp_path: Path) -> None:
    world = World(tmp_path / "drafts")
    await handle_version(world.ports, version(BASE, FIRST))

    await handle_version(world.ports, version(BASE + PLAIN_CHANGE, FIRST + timedelta(days=1)))

    [change] = world.sent_changes()
    assert change.added == [PLAIN_CHANGE] and not change.ai_training and change.evidence == []
    assert world.alerts.sent == [] and not (tmp_path / "drafts").exists()


async def test_an_older_version_is_a_replay_and_the_newest_stays_the_reference(
    tmp_path: Path,
) -> None:
    world = World(tmp_path / "drafts")
    await handle_version(world.ports, version(BASE, FIRST))

    await handle_version(world.ports, version(BASE + AI_CLAUSE, FIRST - timedelta(days=1)))
    await handle_version(world.ports, version(BASE + AI_CLAUSE, FIRST))  # the same time again

    assert world.documents.get("acme-privacy") == {"text": BASE, "fetched_at": FIRST.isoformat()}
    assert world.changes.sent == [] and world.alerts.sent == []
