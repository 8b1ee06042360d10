"""Every campaign's status, on every worker: what the API and the dashboard show.

A campaign's document is folded by the ``campaign_ledger`` agent on the one
worker that owns its ledger partition, into the ``campaigns`` table; an HTTP
request may reach any worker. Each worker therefore follows that table's
changelog, whole, from the beginning, with a plain consumer outside the
consumer group, and keeps the latest document of each campaign in memory.

It follows the table rather than folding ``preavis.campaign-ledger`` itself:
the agent folds each record once even when Kafka delivers it twice, and
counts one final outcome per person even when a notice went out twice
(:mod:`notifications.ledger_step`), and the changelog is compacted, so a
worker's start reads one document per campaign, not every notice's history.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiokafka import TopicPartition

from streams import kafka

if TYPE_CHECKING:
    from streams.app import PreavisApp
    from streams.settings import Settings
    from streams.wiring import Wiring

log = logging.getLogger(__name__)

#: A ``campaigns`` table value, folded by the campaigns domain
#: (:func:`notifications.campaign_status.fold`); that domain owns its shape,
#: and its ``TypedDict`` belongs here once it has one.
CampaignDocument = dict[str, Any]


@dataclass
class CampaignDocuments:
    """Campaign documents by id, as the ``campaigns`` table last stored them."""

    documents: dict[str, CampaignDocument] = field(default_factory=dict)

    def take(self, key: bytes | None, value: bytes | None) -> None:
        """Apply one changelog record: a document, or a tombstone (``None``) that deletes."""
        try:
            campaign_id = json.loads(key) if key is not None else None
            document = json.loads(value) if value is not None else None
        except ValueError:
            log.warning("a campaigns changelog record that is not JSON was skipped")
            return
        if not isinstance(campaign_id, str):
            return
        if document is None:
            self.documents.pop(campaign_id, None)
        elif isinstance(document, dict):
            self.documents[campaign_id] = document


async def follow(
    documents: CampaignDocuments, settings: Settings, topic: str, partitions: int
) -> None:
    """Keep ``documents`` up to date with changelog ``topic`` until cancelled."""
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    async for fetch in kafka.read_to_end(settings, tps, follow=True):
        for records in fetch.records.values():
            # a campaign's document is rewritten for every notice's outcome
            # (~2 KB each): only the last of a batch is worth parsing
            latest = {record.key: record.value for record in records}
            for key, value in latest.items():
                documents.take(key, value)


def register(app: PreavisApp, wiring: Wiring) -> None:
    """Give the app its campaign documents and keep it following the campaigns table."""
    settings = wiring.settings

    @app.task  # type: ignore[untyped-decorator]
    async def follow_campaign_documents() -> None:
        await follow(
            wiring.campaign_documents,
            settings,
            wiring.tables.campaigns.changelog_topic_name,
            settings.topic_partitions,
        )
