"""Objection reasons: kept where erasure can reach them, and nowhere else.

A reason is free text ("I am Erin, 12 rue des Lilas...") and may say anything
about its author. ``consent.objections`` is the proof of the objection and is
kept for years on a delete-policy topic, where one record cannot be removed
on its own: so preavis writes its ``objection.recorded`` there *without* the
reason (the field stays in the contract, optional), and keeps the reason in
the table ``objection_reasons`` (user_id -> objection_id -> purpose, reason,
time), whose changelog is compacted. On ``user.erased`` the user's entry is
deleted: a tombstone on the changelog, and the old values go with the next
compaction.

The reason also crossed ``preavis.objection-requests`` (from the web page to
this partition's agent), a delete-policy queue. Once the reason is here, that
copy has served its purpose; on erasure, the records of the partition up to
the last request that carried one of the user's reasons are deleted from the
queue (Kafka's DeleteRecords), after the producer is flushed. The queue is
only read by the objections agent, which processes it in order: every record
before a processed one is processed too, so nothing is lost but copies.

A reason the platform itself writes on ``consent.objections`` is kept here
too, but its copy there is the platform's record: preavis cannot delete it.
Platforms should send reasons through ``POST /api/v1/objections`` instead.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiokafka import TopicPartition
from aiokafka.admin.records_to_delete import RecordsToDelete

from notifications.errors import TransientKafkaError
from notifications.internal_events import TOPIC_OBJECTION_REQUESTS
from streams import kafka
from streams.failures import kafka_errors

if TYPE_CHECKING:
    from streams.app import PreavisApp
    from streams.wiring import Wiring

log = logging.getLogger(__name__)

TABLE_NAME = "objection_reasons"


@dataclass
class ReasonStore:
    """The ``objection_reasons`` table and what erasure does to it."""

    app: Any
    settings: Any
    table: Any
    purges: set[asyncio.Task[None]] = field(default_factory=set)

    def keep(
        self,
        user_id: str,
        objection_id: str,
        purpose_id: str,
        reason: str | None,
        received_at: datetime,
        message: Any,
    ) -> None:
        """Keep ``reason`` (if any) of one objection, and where it came from."""
        if not reason:
            return
        entry = dict(self.table.get(user_id) or {})
        entry[objection_id] = {
            "purpose_id": purpose_id,
            "reason": reason,
            "received_at": received_at.isoformat(),
            "source": [message.topic, message.partition, message.offset],
        }
        self.table[user_id] = entry

    def forget(self, user_id: str) -> None:
        """Erasure: delete the user's reasons, and their copies in the request queue."""
        entry = self.table.get(user_id)
        if entry is None:
            return
        del self.table[user_id]
        upto: dict[int, int] = {}
        for kept in entry.values():
            topic, partition, offset = kept.get("source") or (None, 0, 0)
            if topic == TOPIC_OBJECTION_REQUESTS:
                upto[partition] = max(upto.get(partition, 0), offset + 1)
        if upto:
            task = asyncio.ensure_future(self._purge_requests(upto))
            self.purges.add(task)
            task.add_done_callback(self.purges.discard)

    async def _purge_requests(self, upto: dict[int, int]) -> None:
        # what the processed requests produced must be on the broker first
        await self.app.producer.flush()
        admin = kafka.admin(self.settings)
        try:
            with kafka_errors():
                await admin.start()
                await admin.delete_records(
                    {
                        TopicPartition(TOPIC_OBJECTION_REQUESTS, p): RecordsToDelete(
                            before_offset=o
                        )
                        for p, o in upto.items()
                    },
                    timeout_ms=30_000,
                )
                log.info("erasure: deleted processed objection requests up to %s", upto)
        except TransientKafkaError as exc:  # the copy then goes with the queue's retention
            log.warning("erasure: could not delete processed objection requests: %r", exc.__cause__)
        finally:
            await admin.close()


def attach_reasons(app: PreavisApp, wiring: Wiring) -> ReasonStore:
    """Add the ``objection_reasons`` table and its erasure hook; the agents keep reasons."""
    table = wiring.tables.objection_reasons.raw
    store = ReasonStore(app=app, settings=wiring.settings, table=table)
    wiring.hooks.on_erase.append(store.forget)
    return store
