"""``GET /api/v1/exclusions?purpose_id=``: the current exclusion list, one JSON object a line.

The list is ``training.exclusions`` itself, the compacted topic ML pipelines
read: the view reads it from the beginning on any worker (no routing to the
partition owners), keeps the last record per user, and streams the users
excluded from the purpose (all users with an exclusion, without
``purpose_id``). A tombstone drops the user. It is an export: the read-only
compliance role may read it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiokafka import TopicPartition
from faust.web import View

from streams import kafka
from streams import topic_names as names
from streams.web.auth import Role, may

if TYPE_CHECKING:
    from streams.app import PreavisApp
    from streams.settings import Settings
    from streams.topics import Topics


async def current_exclusions(settings: Settings) -> dict[bytes, dict[str, Any]]:
    """The last exclusion record of every user, read from ``training.exclusions``."""
    consumer = kafka.consumer(settings, enable_auto_commit=False)
    await consumer.start()
    latest: dict[bytes, dict[str, Any]] = {}
    try:
        tps = [TopicPartition(names.TOPIC_EXCLUSIONS, p) for p in range(settings.topic_partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        remaining = {tp for tp in tps if ends[tp] > 0}
        while remaining:
            for tp, records in (await consumer.getmany(*remaining, timeout_ms=1000)).items():
                for record in records:
                    if record.key is None:
                        continue
                    if record.value is None:
                        latest.pop(record.key, None)
                    else:
                        latest[record.key] = json.loads(record.value)
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        return latest
    finally:
        await consumer.stop()


def register(app: PreavisApp, topics: Topics, settings: Settings) -> None:
    """Add the exclusion list API."""

    @app.page("/api/v1/exclusions", name="api_exclusions")
    class ExclusionsView(View):
        async def get(self, request: Any) -> Any:
            if not may(request, Role.COMPLIANCE):
                return self.json({"error": "unauthorized"}, status=401)
            purpose_id = request.query.get("purpose_id")
            response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
            await response.prepare(request)
            for record in (await current_exclusions(settings)).values():
                if purpose_id is None or purpose_id in record.get("purposes", ()):
                    await response.write(json.dumps(record, separators=(",", ":")).encode() + b"\n")
            await response.write_eof()
            return response
