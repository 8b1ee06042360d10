"""Deferred notices wait here, not in a delivery slot.

A relay's "try again later" (4xx) puts the job on ``preavis.notice-retries``
with the time of its next attempt. This agent holds each retry until then
and puts the job back on ``preavis.notice-jobs``, in the same partition (the
one holding the user's directory entry and the deliveries table). Many
retries wait at once, each in its own task; they are acknowledged in the
order they arrived, so a crash makes the unfinished ones come back, never
skips one. A job put back twice (a crash after putting it back, before the
acknowledgement) is harmless: the deliveries table lets one copy through.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from notifications.internal_events import NoticeRetry, decode_internal, encode_internal
from streams.guarded_agents import run_guarded_concurrently
from streams.runtime.acked import send_acked

if TYPE_CHECKING:
    from streams.app import PreavisApp
    from streams.wiring import Wiring

#: Retries held at once by one worker. Each is a sleeping task of a few
#: hundred bytes; past this, later retries stay in Kafka until some are due.
MAX_WAITING_RETRIES = 10_000


async def put_back_when_due(
    retry: NoticeRetry,
    partition: int,
    jobs_topic: Any,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Wait until ``retry.due_at``, then store its job on ``jobs_topic`` in ``partition``."""
    wait = (retry.due_at - clock()).total_seconds()
    if wait > 0:
        await sleep(wait)
    await send_acked(
        jobs_topic,
        key=retry.job.user_id.encode(),
        value=encode_internal(retry.job),
        partition=partition,
    )


def register(app: PreavisApp, wiring: Wiring) -> None:
    """Add the agent that turns due retries back into notice jobs."""
    topics = wiring.topics

    async def handle(retry: NoticeRetry, raw: Any) -> None:
        await put_back_when_due(retry, raw.message.partition, topics.jobs)

    @app.agent(topics.retries, name="delivery_retries")
    async def delivery_retries(stream: Any) -> None:
        await run_guarded_concurrently(
            stream,
            handle,
            topics.deadletter,
            decode_internal,
            MAX_WAITING_RETRIES,
            gaps=wiring.offset_gaps,
        )
