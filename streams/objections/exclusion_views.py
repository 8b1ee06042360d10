"""``GET /api/v1/exclusions?purpose_id=``: the current exclusion list, one JSON object a line.

The list is ``training.exclusions`` itself, the compacted topic ML pipelines
read. The ``exclusions`` table is partitioned by user and each worker holds
only its partitions, but any worker must answer for every user: so each
worker follows the topic, whole, with a plain consumer outside the consumer
group (:func:`streams.kafka.read_from_start`), from the beginning once at
start and then record by record, and keeps the last record per user in
memory (:class:`ExclusionList`); a tombstone drops the user. A request is
served from there, not from a scan of the topic: it takes the topic's end
offsets and waits until the follower has read up to them, so the answer holds
everything the topic held when the request came (as a scan would), then it
streams the users excluded from the purpose (all users with an exclusion,
without ``purpose_id``). It is an export: the read-only compliance role may
read it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.web import View

from notifications import topic_names as names
from streams import kafka
from streams.web.auth import Role, may

if TYPE_CHECKING:
    from streams.app import PreavisApp
    from streams.settings import Settings
    from streams.wiring import Wiring

#: seconds a request waits for the follower to reach the topic's end
CATCH_UP_SECONDS = kafka.READ_STALL_SECONDS

NOT_READY = {"error": "the exclusion list is still being read; try again shortly"}


class ExclusionList:
    """The last ``training.exclusion`` record of every user, as this worker has read it."""

    def __init__(self) -> None:
        # the records as read (bytes: a third of a parsed dict's memory), parsed per request
        self.records: dict[bytes, bytes] = {}
        self.positions: dict[TopicPartition, int] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._partitions: list[TopicPartition] = []
        self._progress = asyncio.Event()

    def take(self, fetch: kafka.Fetch) -> None:
        """Apply one poll of the topic: records (a tombstone deletes), then the positions."""
        for records in fetch.records.values():
            for record in records:
                if record.key is None:
                    continue
                if record.value is None:
                    self.records.pop(record.key, None)
                else:
                    self.records[record.key] = record.value
        self.positions.update(fetch.positions)
        progress, self._progress = self._progress, asyncio.Event()
        progress.set()

    def has_read(self, ends: dict[TopicPartition, int]) -> bool:
        """Whether every partition has been read up to ``ends``."""
        return all(self.positions.get(tp, 0) >= end for tp, end in ends.items())

    async def follow(self, settings: Settings, partitions: Sequence[TopicPartition]) -> None:
        """Read the topic from the beginning and keep up with it until cancelled."""
        consumer = kafka.consumer(
            settings, group_id=None, enable_auto_commit=False, isolation_level="read_committed"
        )
        await consumer.start()
        try:
            self._partitions = list(partitions)
            self._consumer = consumer
            async for fetch in kafka.read_from_start(consumer, self._partitions, follow=True):
                self.take(fetch)
        finally:
            self._consumer = None
            with contextlib.suppress(Exception):
                await consumer.stop()

    async def current(self, timeout: float = CATCH_UP_SECONDS) -> list[dict[str, Any]] | None:
        """Every user's record, once read up to the topic's end offsets of now; None if
        the follower did not get there within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while self._consumer is None:  # the worker is starting
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(0.05)
        ends: dict[TopicPartition, int] = await self._consumer.end_offsets(self._partitions)
        while not self.has_read(ends):
            progress = self._progress
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                await asyncio.wait_for(progress.wait(), remaining)
            except TimeoutError:
                return None
        return [json.loads(value) for value in list(self.records.values())]


def register(app: PreavisApp, wiring: Wiring) -> None:
    """Add the exclusion list API, and keep this worker's copy of the list."""
    settings = wiring.settings
    exclusions = ExclusionList()
    partitions = [
        TopicPartition(names.TOPIC_EXCLUSIONS, p) for p in range(settings.topic_partitions)
    ]

    @app.task  # type: ignore[untyped-decorator]
    async def follow_training_exclusions() -> None:
        await exclusions.follow(settings, partitions)

    @app.page("/api/v1/exclusions", name="api_exclusions")
    class ExclusionsView(View):
        async def get(self, request: Any) -> Any:
            if not may(request, Role.COMPLIANCE):
                return self.json({"error": "unauthorized"}, status=401)
            purpose_id = request.query.get("purpose_id")
            current = await exclusions.current()
            if current is None:
                return self.json(NOT_READY, status=503)
            response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
            await response.prepare(request)
            for record in current:
                if purpose_id is None or purpose_id in record.get("purposes", ()):
                    await response.write(json.dumps(record, separators=(",", ":")).encode() + b"\n")
            await response.write_eof()
            return response
