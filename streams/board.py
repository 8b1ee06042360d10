"""Every campaign's status, on every worker: what the API and the dashboard show.

The campaign ledger is keyed by campaign_id, so one campaign's document lives
on one worker; an HTTP request may reach any. Each worker therefore folds
``preavis.campaign-ledger`` whole, from the beginning, with a plain consumer
outside the consumer group (the same pure ``fold`` the ledger agent uses),
and keeps one small document per campaign in memory.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from notifications.campaign_status import fold
from streams.internal_events import TOPIC_LEDGER


@dataclass
class CampaignBoard:
    """Campaign documents by id, folded from the ledger."""

    documents: dict[str, dict[str, Any]] = field(default_factory=dict)

    def take(self, value: bytes | None) -> None:
        if value is None:
            return
        try:
            entry = json.loads(value)
            campaign_id = entry["campaign_id"]
        except (ValueError, KeyError, TypeError):
            return  # the ledger agent dead-letters it
        updated = fold(self.documents.get(campaign_id), entry)
        if updated is not None:
            self.documents[campaign_id] = updated


async def follow(board: CampaignBoard, bootstrap: list[str], partitions: int) -> None:
    """Keep ``board`` up to date until cancelled."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(TOPIC_LEDGER, p) for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        while True:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                for record in records:
                    board.take(record.value)
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()


def register(app: Any, topics: Any, settings: Any) -> None:
    """Give the app its board and keep it following the ledger."""
    app.preavis_board = CampaignBoard()

    @app.task  # type: ignore[untyped-decorator]
    async def follow_campaign_ledger() -> None:
        await follow(app.preavis_board, settings.bootstrap_servers, settings.topic_partitions)
