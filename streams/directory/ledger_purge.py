"""Erasure reaches the campaign ledger: its folded records are deleted.

``preavis.campaign-ledger`` is a delete-policy queue keyed by campaign_id, and
some of its records name a person with their country and language
(``campaign.final_outcome``, ``campaign.objection``, ``campaign.late_decision``):
the campaign's statistics by country and language are folded from them into
the ``campaigns`` table, which keeps only counts. Once folded, a record has
served its purpose, and one record cannot be removed on its own; so after an
erasure the ledger's records before the consumer group's committed offsets
(every one of them folded) are deleted with Kafka's DeleteRecords. Nothing
reads the ledger from its beginning again: the ledger agent resumes at its
committed offset and the API reads the ``campaigns`` table.

One purge runs at a time; erasures that arrive meanwhile ask for one more
after it, so a bulk erasure of many users costs a few purges, not one each.
It waits a commit interval first, so that the records folded just before the
erasure are committed, and so deleted, too. A record not yet folded then
stays until the next erasure's purge, or the topic's retention.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiokafka import TopicPartition
from aiokafka.admin.records_to_delete import RecordsToDelete

from notifications.errors import TransientKafkaError
from notifications.internal_events import TOPIC_LEDGER
from streams import kafka
from streams.failures import kafka_errors

if TYPE_CHECKING:
    from streams.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class LedgerPurge:
    """Deletes the folded records of ``preavis.campaign-ledger`` after erasures."""

    settings: Settings
    group_id: str
    delay: float
    _task: asyncio.Task[None] | None = None
    _again: bool = False

    def request(self) -> None:
        """Ask for a purge (the user's records of the ledger are in the folded part)."""
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while True:
            self._again = False
            await asyncio.sleep(self.delay)
            await self.purge_once()
            if not self._again:
                return

    async def purge_once(self) -> dict[int, int]:
        """Delete the records before the group's committed offsets; partition -> offset."""
        admin = kafka.admin(self.settings)
        try:
            with kafka_errors():
                await admin.start()
                committed = await admin.list_consumer_group_offsets(self.group_id)
                upto = {
                    tp.partition: meta.offset
                    for tp, meta in committed.items()
                    if tp.topic == TOPIC_LEDGER and meta.offset > 0
                }
                if upto:
                    await admin.delete_records(
                        {
                            TopicPartition(TOPIC_LEDGER, p): RecordsToDelete(before_offset=o)
                            for p, o in upto.items()
                        },
                        timeout_ms=30_000,
                    )
                log.info("erasure: deleted the folded campaign ledger records up to %s", upto)
                return upto
        except TransientKafkaError as exc:  # they then go with the topic's retention
            log.warning("erasure: could not delete the folded campaign ledger: %r", exc.__cause__)
            return {}
        finally:
            await admin.close()
