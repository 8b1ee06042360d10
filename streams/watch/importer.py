"""``preavis watch import FOLDER``: publish archived document versions, in order.

The folder is a change archived the way Open Terms Archive's exports are
laid out (``before.md``, ``after.md``, ``meta.json`` with the service, the
document, the repository path, the commits and the dates), or a folder of
such changes. Each change becomes two ``document.version`` events, and all of
them are published in order of their fetch time, so the watch agent compares
each version with the one before. The document id is the change folder's name
without its date suffix: one id per archived document.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from notifications import topic_names as names
from notifications.errors import InvalidEvent
from notifications.events import DocumentVersion, encode
from streams import kafka
from streams.admin import ensure_topics
from streams.settings import Settings

DATE_SUFFIX = re.compile(r"-\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class ImportReport:
    published: int
    documents: int

    def summary(self) -> str:
        return (
            f"published {self.published} document version(s) of {self.documents} "
            f"document(s) to {names.TOPIC_DOCUMENTS}"
        )


def change_folders(folder: Path) -> list[Path]:
    """The change folders under ``folder`` (or ``folder`` itself)."""
    if (folder / "meta.json").is_file():
        return [folder]
    found = sorted(p.parent for p in folder.glob("*/meta.json"))
    if not found:
        raise InvalidEvent(str(folder), "no meta.json here nor in its subfolders")
    return found


def versions_of(change: Path) -> list[DocumentVersion]:
    """The two versions of one archived change."""
    meta = json.loads((change / "meta.json").read_text("utf-8"))
    document_id = DATE_SUFFIX.sub("", change.name)
    versions = []
    for side in ("before", "after"):
        path = meta["path"].replace(" ", "%20")
        url = f"https://github.com/{meta['repo']}/blob/{meta[f'{side}_commit']}/{path}"
        versions.append(
            DocumentVersion(
                document_id=document_id,
                service=meta["service"],
                document_type=meta["document"],
                url=url,
                fetched_at=datetime.fromisoformat(meta[f"{side}_date"]),
                text=(change / f"{side}.md").read_text("utf-8"),
            )
        )
    return versions


async def import_folder(settings: Settings, folder: Path) -> ImportReport:
    """Publish every version found under ``folder``, oldest first."""
    versions = [v for change in change_folders(folder) for v in versions_of(change)]
    versions.sort(key=lambda v: (v.fetched_at, v.document_id))
    await ensure_topics(settings)
    producer = kafka.producer(settings, acks="all", max_request_size=4 * 1024 * 1024)
    await producer.start()
    try:
        for version in versions:
            await producer.send_and_wait(
                names.TOPIC_DOCUMENTS, encode(version), key=version.document_id.encode()
            )
    finally:
        await producer.stop()
    return ImportReport(len(versions), len({v.document_id for v in versions}))
