"""The board keeps each campaign's latest document from the ``campaigns`` changelog."""

from __future__ import annotations

import json

from streams.board import CampaignBoard


def record(campaign_id: str, doc: dict[str, object] | None) -> tuple[bytes, bytes | None]:
    """A changelog record as Faust writes it: JSON key, JSON value (None: a tombstone)."""
    return json.dumps(campaign_id).encode(), None if doc is None else json.dumps(doc).encode()


def test_the_latest_document_wins_and_a_tombstone_deletes() -> None:
    board = CampaignBoard()
    board.take(*record("c1", {"campaign_id": "c1", "status": "running"}))
    board.take(*record("c2", {"campaign_id": "c2", "status": "running"}))
    board.take(*record("c1", {"campaign_id": "c1", "status": "completed"}))
    board.take(*record("c2", None))

    assert board.documents == {"c1": {"campaign_id": "c1", "status": "completed"}}


def test_records_that_are_not_documents_are_skipped() -> None:
    board = CampaignBoard()
    board.take(b"not json", b"{}")
    board.take(None, b"{}")
    board.take(json.dumps("c1").encode(), b"[1, 2]")
    board.take(json.dumps(7).encode(), b"{}")

    assert board.documents == {}
