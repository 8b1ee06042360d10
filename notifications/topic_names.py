"""The contract's topic names (CONTRACT.md, "Topics"), as plain constants.

Kept apart from ``streams.topics`` (which declares Faust topics) so that the
event models and command-line tools can name a topic without importing Faust.
"""

from __future__ import annotations

from typing import Final

TOPIC_PURPOSES: Final = "policy.purposes"
TOPIC_TERMS: Final = "policy.terms"
TOPIC_USERS: Final = "users"
TOPIC_OBJECTIONS: Final = "consent.objections"
TOPIC_DELIVERY: Final = "notices.delivery"
TOPIC_EXCLUSIONS: Final = "training.exclusions"
TOPIC_ALERTS: Final = "compliance.alerts"
TOPIC_DEADLETTER: Final = "preavis.deadletter"
TOPIC_DOCUMENTS: Final = "policy.documents"
TOPIC_DOCUMENT_CHANGES: Final = "policy.document_changes"

ALL_TOPICS: Final = (
    TOPIC_PURPOSES,
    TOPIC_TERMS,
    TOPIC_USERS,
    TOPIC_OBJECTIONS,
    TOPIC_DELIVERY,
    TOPIC_EXCLUSIONS,
    TOPIC_ALERTS,
    TOPIC_DEADLETTER,
    TOPIC_DOCUMENTS,
    TOPIC_DOCUMENT_CHANGES,
)
