"""The folder the watch writes draft purposes to (``PREAVIS_DRAFTS_DIR``).

A draft is for the operator to complete and publish; nothing reads it back.
It is named after the document and the version's fetch time, so the same
version detected twice (a replay) overwrites its own draft.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from notifications.events import DocumentVersion
from notifications.purpose_draft import draft_purpose


@dataclass(frozen=True)
class DraftFolder:
    """Writes :func:`notifications.purpose_draft.draft_purpose` files into ``folder``."""

    folder: Path

    def write(self, version: DocumentVersion, evidence: list[str]) -> Path:
        """Write the draft for ``version`` quoting ``evidence``; return its path."""
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = version.fetched_at.strftime("%Y%m%dT%H%M%S")
        path = self.folder / f"{version.document_id}-{stamp}.purpose.json"
        draft = draft_purpose(
            document_id=version.document_id,
            service=version.service,
            url=version.url,
            fetched_at=version.fetched_at.isoformat(),
            evidence=evidence,
        )
        path.write_text(json.dumps(draft, indent=2, ensure_ascii=False) + "\n", "utf-8")
        return path
