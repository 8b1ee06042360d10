"""Delivery's agents: notice jobs become emails, deferred jobs come back when due.

Thin loops over ``streams.delivery.handlers``, with the ports built once from
the wiring. The delivery actor keeps up to ``PREAVIS_DELIVERY_WINDOW`` jobs
in progress, whatever the number of SMTP connections (the pool queues the
sends; the others are checked, rendered and built meanwhile, and their
broker writes are acknowledged together). They may finish out of order,
which notices do not mind, and the
retry actor up to :data:`MAX_WAITING_RETRIES` retries waiting; both
acknowledge in arrival order (``streams.guarded_agents``), so the committed
offset never passes a job still in progress: nothing is skipped after a crash.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from notifications.internal_events import NoticeJob, NoticeRetry, decode_internal
from notifications.render import NoticeRenderer
from notifications.render_cache import CachedRenderer
from streams.delivery.handlers import (
    DeliveryPorts,
    RetryPorts,
    forget_addresses,
    handle_job,
    handle_retry,
    objection_link_maker,
)
from streams.guarded_agents import Handler, run_guarded_concurrently
from streams.runtime.direct_topic import DirectTopic
from streams.runtime.faust_ports import FaustTopic

if TYPE_CHECKING:
    from streams.app import PreavisApp
    from streams.wiring import Wiring

#: Retries held at once by one worker. Each is a sleeping task of a few
#: hundred bytes; past this, later retries stay in Kafka until some are due.
MAX_WAITING_RETRIES = 10_000


def register(app: PreavisApp, wiring: Wiring) -> None:
    """Add the delivery and retry agents, and forget bounced addresses on erasure."""
    topics, tables, settings = wiring.topics, wiring.tables, wiring.settings
    link_keys = settings.link_keys() if settings.link_secret is not None else None
    ports = DeliveryPorts(
        directory=tables.directory,
        campaign_shards=tables.campaign_shards,
        deliveries=tables.deliveries,
        suppression=tables.suppression,
        # the window's writes go straight to aiokafka (streams.runtime.direct_topic)
        delivery_events=DirectTopic(app, topics.delivery.get_topic_name()),
        ledger=DirectTopic(app, topics.ledger.get_topic_name()),
        retries=DirectTopic(app, topics.retries.get_topic_name()),
        sender=wiring.smtp,
        renderer=CachedRenderer(NoticeRenderer()),
        link_for=objection_link_maker(settings.public_url, link_keys),
        lookups=wiring.lookups,
        metrics=wiring.metrics,
        mail_from=settings.mail_from,
    )
    retry_ports = RetryPorts(jobs=FaustTopic(topics.jobs))
    wiring.hooks.on_erase.append(partial(forget_addresses, ports))

    async def deliver(job: NoticeJob, raw: Any) -> None:
        await handle_job(ports, job, raw.message.partition)

    async def put_back(retry: NoticeRetry, raw: Any) -> None:
        await handle_retry(retry_ports, retry, raw.message.partition)

    def guarded(handle: Handler, limit: int) -> Callable[[Any], Awaitable[None]]:
        async def agent(stream: Any) -> None:
            await run_guarded_concurrently(
                stream, handle, topics.deadletter, decode_internal, limit, gaps=wiring.offset_gaps
            )

        return agent

    app.agent(topics.jobs, name="delivery")(guarded(deliver, settings.delivery_window))
    app.agent(topics.retries, name="delivery_retries")(guarded(put_back, MAX_WAITING_RETRIES))

    async def _close_pool(app: Any, *args: Any, **kwargs: Any) -> None:
        await wiring.smtp.close()

    app.on_before_shutdown.connect(_close_pool)  # type: ignore[arg-type]
