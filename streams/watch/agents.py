"""Watching documents: each new version is compared with the last one kept.

The ``documents`` table keeps the latest version of each document (key:
document_id). A newer version is diffed against it (``notifications.
document_diff``); the change goes to ``policy.document_changes``, and when
the added sentences introduce AI training (``notifications.ai_clauses``) a
``compliance.alert`` ``ai_training_clause_detected`` quotes them, and a draft
purpose is written to ``PREAVIS_DRAFTS_DIR`` for the operator to complete.
The first version of a document is the baseline: nothing to compare yet.
A version older than the one kept is a replay and changes nothing.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from notifications.ai_clauses import detect
from notifications.document_diff import diff
from notifications.events import ComplianceAlert, DocumentChange, DocumentVersion, encode
from notifications.purpose_draft import draft_purpose
from streams.guarded_agents import run_guarded

if TYPE_CHECKING:
    from streams.app import PreavisApp
    from streams.wiring import Wiring

log = logging.getLogger(__name__)


def register(app: PreavisApp, wiring: Wiring) -> None:
    """Add the documents table and the agent that compares versions."""
    topics, settings = wiring.topics, wiring.settings
    documents = wiring.tables.documents.raw

    def write_draft(version: DocumentVersion, evidence: list[str]) -> Path:
        folder = Path(settings.drafts_dir)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = version.fetched_at.strftime("%Y%m%dT%H%M%S")
        path = folder / f"{version.document_id}-{stamp}.purpose.json"
        draft = draft_purpose(
            document_id=version.document_id,
            service=version.service,
            url=version.url,
            fetched_at=version.fetched_at.isoformat(),
            evidence=evidence,
        )
        path.write_text(json.dumps(draft, indent=2, ensure_ascii=False) + "\n", "utf-8")
        return path

    async def on_version(version: DocumentVersion, raw: Any) -> None:
        previous = documents.get(version.document_id)
        kept = {
            "text": version.text,
            "fetched_at": version.fetched_at.isoformat(),
        }
        if previous is None:
            documents[version.document_id] = kept
            return
        previous_at = datetime.fromisoformat(previous["fetched_at"])
        if version.fetched_at <= previous_at:
            return  # a replay or an older version: the newest stays the reference
        documents[version.document_id] = kept
        change = diff(previous["text"], version.text)
        if not change.added and not change.removed:
            return
        detection = detect(change)
        now = datetime.now(UTC)
        event = DocumentChange(
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
        await topics.document_changes.send(key=version.document_id.encode(), value=encode(event))
        if detection.flagged:
            draft = write_draft(version, list(detection.evidence))
            alert = ComplianceAlert(
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
            await topics.alerts.send(key=alert.campaign_id.encode(), value=encode(alert))
            log.warning("AI-training clause detected in %s", version.document_id)

    @app.agent(topics.documents, name="document_watch")
    async def document_watch(stream: Any) -> None:
        await run_guarded(stream, on_version, topics.deadletter)
