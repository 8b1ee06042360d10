"""The ``/object`` emails, sent in the background on a connection of their own.

The form must answer at once and the same way whether a mail goes out or not,
and it must never slow the legal notices down. So the handler only offers a
:class:`ObjectMail` to a bounded queue (``PREAVIS_OBJECT_QUEUE_SIZE``): when
the queue is full the mail is dropped and counted, the handler never waits.
One task drains it through an :class:`SmtpPool` of its own, one connection
and :data:`MAX_RATE` messages per second, never the shared pool (``Wiring.smtp``): a flood
of ``/object`` requests queues here, not in front of a campaign.

The queue holds addresses in memory only until sent; they are never logged.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter

from notifications.smtp import SmtpPool
from notifications.web_pages import PurposeSummary
from streams.objections.confirmations import send_object_request
from streams.settings import smtp_config

if TYPE_CHECKING:
    from streams.app import PreavisApp
    from streams.settings import Settings

log = logging.getLogger(__name__)

#: Messages per second of the /object pool, apart from the notices' budget.
MAX_RATE = 2.0


@dataclass(frozen=True, slots=True)
class ObjectMail:
    """One confirmation link to email."""

    address: str = dataclasses.field(repr=False)
    purpose: PurposeSummary
    url: str = dataclasses.field(repr=False)
    language: str


Sender = Callable[[ObjectMail], Awaitable[bool]]


class ObjectMailQueue:
    """A bounded queue of mails: offering never blocks, a full queue drops."""

    def __init__(self, size: int, counter: Counter | None = None) -> None:
        self._queue: asyncio.Queue[ObjectMail] = asyncio.Queue(maxsize=size)
        self._counter = counter
        self.counts: dict[str, int] = {"queued": 0, "dropped": 0, "sent": 0, "failed": 0}

    def count(self, outcome: str) -> None:
        """Count an outcome (also in ``preavis_object_mail_total``)."""
        self.counts[outcome] = self.counts.get(outcome, 0) + 1
        if self._counter is not None:
            self._counter.labels(outcome=outcome).inc()

    def has_room(self) -> bool:
        """Whether an offer now would be queued (the event loop is single-threaded)."""
        return not self._queue.full()

    def offer(self, mail: ObjectMail) -> bool:
        """Queue ``mail``; False (counted as dropped) when the queue is full."""
        try:
            self._queue.put_nowait(mail)
        except asyncio.QueueFull:
            self.count("dropped")
            return False
        self.count("queued")
        return True

    def __len__(self) -> int:
        return self._queue.qsize()

    async def drain(self, send: Sender) -> None:
        """Send every mail, one at a time, forever (cancelled at shutdown)."""
        while True:
            mail = await self._queue.get()
            try:
                self.count("sent" if await send(mail) else "failed")
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug must not stop the drain; the address is not logged
                log.exception("/object email not sent")
                self.count("failed")
            finally:
                self._queue.task_done()


def start_object_mailer(app: PreavisApp, settings: Settings) -> ObjectMailQueue:
    """The queue the ``/object`` handler offers to, drained by a task of the app."""
    config = dataclasses.replace(smtp_config(settings), connections=1, max_rate=MAX_RATE)
    pool = SmtpPool(config)
    counter = Counter(
        "preavis_object_mail",
        "/object confirmation emails by outcome (queued, dropped, sent, failed, limited)",
        ["outcome"],
        registry=app.preavis.metrics.registry,
    )
    queue = ObjectMailQueue(settings.object_queue_size, counter)

    async def send(mail: ObjectMail) -> bool:
        return await send_object_request(
            pool, settings.mail_from, mail.address, mail.purpose, mail.url, mail.language
        )

    @app.task  # type: ignore[untyped-decorator]
    async def send_object_mails() -> None:
        await queue.drain(send)

    async def _close_pool(app: Any, *args: Any, **kwargs: Any) -> None:
        await pool.close()

    app.on_before_shutdown.connect(_close_pool)  # type: ignore[arg-type]
    return queue
