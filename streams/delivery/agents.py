"""Delivery: each notice job becomes one email, or a recorded reason why not.

Thin agent over ``streams.delivery.attempts``: it finds what the job needs on
this partition (the user's directory entry, the campaign's text from the
partition's registry), then hands over to the delivery loop. One actor keeps
up to ``PREAVIS_SMTP_CONNECTIONS`` jobs in progress (they may finish out of
order, which notices do not mind) and acknowledges them in arrival order, so
the committed offset never passes a job still in progress: nothing is
skipped after a crash.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from notifications.internal_events import NoticeJob, decode_internal
from notifications.links import TokenClaims, objection_url, sign_token
from notifications.render import NoticeRenderer
from streams.delivery.attempts import DeliveryContext, deliver
from streams.guarded_agents import run_guarded_concurrently

if TYPE_CHECKING:
    from streams.app import PreavisApp
    from streams.wiring import Wiring

log = logging.getLogger(__name__)


def register(app: PreavisApp, wiring: Wiring) -> None:
    """Add the deliveries table, the suppression list and the delivery agent."""
    topics, settings = wiring.topics, wiring.settings
    deliveries = wiring.tables.deliveries.raw
    suppression = wiring.tables.suppression.raw
    renderer = NoticeRenderer()
    pool = wiring.smtp
    in_flight: set[str] = set()

    link_keys = settings.link_keys() if settings.link_secret is not None else None

    def link_for(user_id: str, purposes: list[str], campaign_id: str, language: str) -> str | None:
        if not purposes or link_keys is None:
            return None
        claims = TokenClaims(user_id, tuple(purposes), campaign_id, language)
        return objection_url(settings.public_url, sign_token(link_keys, claims))

    context = DeliveryContext(
        directory=wiring.tables.directory.raw,
        shards=wiring.tables.campaign_shards.raw,
        lookups=wiring.lookups,
        metrics=wiring.metrics,
        topics=topics,
        settings=settings,
        deliveries=deliveries,
        suppression=suppression,
        renderer=renderer,
        pool=pool,
        link_for=link_for,
        in_flight=in_flight,
    )

    def forget_addresses(user_id: str) -> None:
        """Erasure: even the hash of an address is personal data (pseudonymous)."""
        if user_id in suppression:
            del suppression[user_id]

    wiring.hooks.on_erase.append(forget_addresses)

    async def handle(job: NoticeJob, raw: Any) -> None:
        await deliver(context, job, raw.message.partition)

    @app.agent(topics.jobs, name="delivery")
    async def delivery(stream: Any) -> None:
        await run_guarded_concurrently(
            stream,
            handle,
            topics.deadletter,
            decode_internal,
            settings.smtp_connections,
            gaps=wiring.offset_gaps,
        )

    async def _close_pool(app: Any, *args: Any, **kwargs: Any) -> None:
        await pool.close()

    app.on_before_shutdown.connect(_close_pool)  # type: ignore[arg-type]
