"""What the ``documents`` table keeps of a watched document: its latest version.

One value per document_id, the reference the next version is compared with.
Only the text and the fetch time: the diff needs the text, and the time
tells a newer version from a replay of the topic or an older fetch.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from notifications.events import DocumentVersion


class KeptDocument(TypedDict):
    """A ``documents`` table value; the time is ISO text, as the table's JSON stores it."""

    text: str
    fetched_at: str


def kept_document(version: DocumentVersion) -> KeptDocument:
    """The table value that makes ``version`` the reference."""
    return {"text": version.text, "fetched_at": version.fetched_at.isoformat()}


def kept_at(kept: KeptDocument) -> datetime:
    """When the kept version was fetched (parsed from the table's text)."""
    return datetime.fromisoformat(kept["fetched_at"])
