"""The campaign follower keeps each campaign's latest document from the ``campaigns`` changelog."""

from __future__ import annotations

import json

from streams.compliance.campaign_documents import CampaignDocuments


def record(campaign_id: str, doc: dict[str, object] | None) -> tuple[bytes, bytes | None]:
    """A changelog record as Faust writes it: JSON key, JSON value (None: a tombstone)."""
    return json.dumps(campaign_id).encode(), None if doc is None else json.dumps(doc).encode()


def test_the_latest_document_wins_and_a_tombstone_deletes() -> None:
    documents = CampaignDocuments()
    documents.take(*record("c1", {"campaign_id": "c1", "status": "running"}))
    documents.take(*record("c2", {"campaign_id": "c2", "status": "running"}))
    documents.take(*record("c1", {"campaign_id": "c1", "status": "completed"}))
    documents.take(*record("c2", None))

    assert documents.documents == {"c1": {"campaign_id": "c1", "status": "completed"}}


def test_records_that_are_not_documents_are_skipped() -> None:
    documents = CampaignDocuments()
    documents.take(b"not json", b"{}")
    documents.take(None, b"{}")
    documents.take(json.dumps("c1").encode(), b"[1, 2]")
    documents.take(json.dumps(7).encode(), b"{}")

    assert documents.documents == {}
