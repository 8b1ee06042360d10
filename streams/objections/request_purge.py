"""Deleting the request queue's copies of an erased user's reasons (Kafka's DeleteRecords).

Erasure (:func:`streams.objections.reasons.forget_reasons`) says up to which
offset each partition of ``preavis.objection-requests`` holds a copy; this
deletes the records before it, in the background: the erasure hook is
synchronous, and the records the processed requests produced must reach the
broker first (the producer is flushed), or deleting their input could lose
them. A failure is logged: the copy then goes with the queue's retention.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiokafka import TopicPartition
from aiokafka.admin.records_to_delete import RecordsToDelete

from notifications.errors import TransientKafkaError
from notifications.internal_events import TOPIC_OBJECTION_REQUESTS
from streams import kafka
from streams.failures import kafka_errors
from streams.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class RequestPurger:
    """Schedules DeleteRecords on the request queue; ``flush`` is the app's producer's."""

    settings: Settings
    flush: Callable[[], Awaitable[object]]
    purges: set[asyncio.Task[None]] = field(default_factory=set)

    def schedule(self, upto: dict[int, int]) -> None:
        """Delete, in the background, each partition's records before ``upto[partition]``."""
        task = asyncio.ensure_future(self.purge(upto))
        self.purges.add(task)
        task.add_done_callback(self.purges.discard)

    async def purge(self, upto: dict[int, int]) -> None:
        # what the processed requests produced must be on the broker first
        await self.flush()
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
