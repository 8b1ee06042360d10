"""The watch's flow: each new version of a document compared with the one kept.

The ``documents`` table keeps the latest version of each document (key:
document_id). A newer version is diffed against it (``notifications.
document_diff``); the change goes to ``policy.document_changes``, and when
the added sentences introduce AI training (``notifications.ai_clauses``,
called once, in :func:`handle_version`) a ``compliance.alert``
``ai_training_clause_detected`` quotes them, and a draft purpose is written
for the operator to complete. The first version of a document is the
baseline: nothing to compare yet. A version older than the one kept is a
replay and changes nothing.

No Faust here: :mod:`streams.watch.agents` builds the ports from the wiring,
a unit test passes in-memory fakes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from notifications.ai_clauses import Detection, detect
from notifications.document_diff import DocumentDiff, diff
from notifications.events import ComplianceAlert, DocumentChange, DocumentVersion, encode
from notifications.kept_documents import KeptDocument, kept_at, kept_document
from streams.ports import Table, Topic

log = logging.getLogger(__name__)


class DraftWriter(Protocol):
    """Where draft purposes go (:class:`streams.watch.drafts.DraftFolder`)."""

    def write(self, version: DocumentVersion, evidence: list[str]) -> Path:
        """Write the draft of ``version`` quoting ``evidence``; return where it is."""
        ...


@dataclass(frozen=True)
class WatchPorts:
    """What the watch reads and writes."""

    documents: Table[KeptDocument]
    document_changes: Topic
    alerts: Topic
    drafts: DraftWriter
    clock: Callable[[], datetime]


async def handle_version(ports: WatchPorts, version: DocumentVersion) -> None:
    """Keep ``version`` if it is the newest; publish what changed, and alert on AI training."""
    previous = ports.documents.get(version.document_id)
    if previous is None:
        ports.documents[version.document_id] = kept_document(version)
        return
    previous_at = kept_at(previous)
    if version.fetched_at <= previous_at:
        return  # a replay or an older version: the newest stays the reference
    ports.documents[version.document_id] = kept_document(version)
    change = diff(previous["text"], version.text)
    if not change.added and not change.removed:
        return
    detection = detect(change)
    now = ports.clock()
    event = document_change(version, previous_at, change, detection, now)
    await ports.document_changes.send(key=version.document_id.encode(), value=encode(event))
    if detection.flagged:
        draft = ports.drafts.write(version, list(detection.evidence))
        alert = clause_alert(version, detection, draft, now)
        await ports.alerts.send(key=alert.campaign_id.encode(), value=encode(alert))
        log.warning("AI-training clause detected in %s", version.document_id)


def document_change(
    version: DocumentVersion,
    previous_at: datetime,
    change: DocumentDiff,
    detection: Detection,
    now: datetime,
) -> DocumentChange:
    """The ``document.change`` record of ``version`` against the version kept before it."""
    return DocumentChange(
        document_id=version.document_id,
        service=version.service,
        document_type=version.document_type,
        url=version.url,
        previous_fetched_at=previous_at,
        fetched_at=version.fetched_at,
        added=list(change.added),
        removed=list(change.removed),
        ai_training=detection.flagged,
        evidence=list(detection.evidence),
        rules=list(detection.rules),
        at=now,
    )


def clause_alert(
    version: DocumentVersion, detection: Detection, draft: Path, now: datetime
) -> ComplianceAlert:
    """The critical alert quoting the clauses found, with where the draft purpose is."""
    return ComplianceAlert(
        campaign_id=f"document:{version.document_id}",
        severity="critical",
        code="ai_training_clause_detected",
        message=f"{version.service} {version.document_type}: the version of "
        f"{version.fetched_at.date()} appears to allow training AI models on users' "
        f"data ({len(detection.evidence)} sentence(s)); no purpose was declared",
        details={
            "document_id": version.document_id,
            "url": version.url,
            "fetched_at": version.fetched_at.isoformat(),
            "evidence": list(detection.evidence),
            "rules": list(detection.rules),
            "draft": str(draft),
        },
        at=now,
    )
