"""Catch, classify, route: the loop every agent runs its events through.

An exception that escapes a Faust agent acknowledges the event, which is then
never processed again, and the agent itself stops. So no handler exception may
escape: :func:`run_guarded` decodes each message with the contract's models
and hands the typed event to the domain's handler, and

- a value that does not decode or validate goes to ``preavis.deadletter`` with
  the field and the reason (retrying cannot fix it), and never a copy of
  personal data (``streams.deadletter_redaction``);
- a transient failure (the broker or a downstream service briefly away, as
  :func:`streams.failures.transient` classifies it) is retried with capped
  exponential backoff, a bounded number of times;
- anything else (a bug) goes to ``preavis.deadletter`` too, with the exception
  class, so that the event can be replayed once the bug is fixed.

In every case the worker keeps running and the event is accounted for.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from notifications.errors import InvalidEvent
from notifications.events import DeadLetter, decode, encode
from streams.deadletter_redaction import holds_personal_data, mask_addresses, mask_text
from streams.failures import transient
from streams.runtime.offset_gaps import OffsetGaps

log = logging.getLogger(__name__)

Handler = Callable[[Any, Any], Awaitable[None]]

#: How often a transient error is retried (what is transient: streams.failures).
RETRY_ATTEMPTS = 6
RETRY_FIRST_DELAY = 0.2
RETRY_MAX_DELAY = 5.0


#: Larger values are not copied into the dead letter (it would not fit in a
#: Kafka request): the record says where the original stays.
MAX_DEAD_VALUE_BYTES = 256 * 1024


def dead_letter_for(message: Any, error: str) -> DeadLetter:
    """The dead letter record of a Faust message: where it came from, why, and what
    of its bytes may be copied (:mod:`streams.deadletter_redaction`).

    A record of a topic that holds personal data is not copied: the letter
    points to it. Others are copied with their email addresses masked, unless
    too large to copy at all.
    """
    key = message.key
    value = message.value
    where = f"{message.topic}[{message.partition}]@{message.offset}"
    redacted: bool | None = None
    if isinstance(value, bytes) and holds_personal_data(message.topic):
        error = f"{error} (personal data: not copied here; the record stays at {where})"
        value, redacted = None, True
    elif isinstance(value, bytes) and len(value) > MAX_DEAD_VALUE_BYTES:
        error = f"{error} (value of {len(value)} bytes not copied here; it stays at {where})"
        value = None
    elif isinstance(value, bytes):
        value, masked = mask_addresses(value)
        redacted = True if masked else None
    text_key = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
    return DeadLetter(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=mask_text(text_key) if isinstance(text_key, str) else text_key,
        value_b64=base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else None,
        value_redacted=redacted,
        error=mask_text(error[:2000]),
        at=datetime.now(UTC),
    )


Decoder = Callable[[str, bytes | None, bytes | None], Any]


async def run_guarded(
    stream: Any, handle: Handler, deadletter_topic: Any, decoder: Decoder = decode
) -> None:
    """Process every event of ``stream`` with ``handle``; never let one escape.

    ``handle`` receives the decoded event (``None`` for a tombstone the topic
    allows) and the raw Faust event, for the rare handler that needs its key.
    """
    async for event in stream.events():
        await _process(event, handle, deadletter_topic, decoder)


async def _process(event: Any, handle: Handler, deadletter_topic: Any, decoder: Decoder) -> None:
    """Decode one event and hand it to ``handle``; whatever fails is routed, not raised."""
    message = event.message
    try:
        decoded = decoder(message.topic, message.key, message.value)
    except InvalidEvent as exc:
        await _send_dead_letter(deadletter_topic, message, f"invalid event: {exc}")
        return
    await _handle_with_retries(handle, decoded, event, deadletter_topic)


async def _handle_with_retries(
    handle: Handler, decoded: Any, event: Any, deadletter_topic: Any
) -> None:
    message = event.message
    delay = RETRY_FIRST_DELAY
    for attempt in range(1, RETRY_ATTEMPTS + 1):
        try:
            await handle(decoded, event)
            return
        except InvalidEvent as exc:
            await _send_dead_letter(deadletter_topic, message, f"invalid event: {exc}")
            return
        except Exception as exc:
            if transient(exc) is None:  # a bug: keep the event, keep the worker
                log.exception(
                    "handler failed on %s[%s]@%s", message.topic, message.partition, message.offset
                )
                await _send_dead_letter(
                    deadletter_topic, message, f"internal error: {type(exc).__name__}: {exc}"
                )
                return
            if attempt == RETRY_ATTEMPTS:
                await _send_dead_letter(
                    deadletter_topic,
                    message,
                    f"gave up after {attempt} attempts: {type(exc).__name__}: {exc}",
                )
                return
            log.warning(
                "transient %s on %s[%s]@%s, retrying in %.1fs",
                type(exc).__name__,
                message.topic,
                message.partition,
                message.offset,
                delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_DELAY)


async def _send_dead_letter(deadletter_topic: Any, message: Any, error: str) -> None:
    log.warning(
        "dead letter from %s[%s]@%s: %s",
        message.topic,
        message.partition,
        message.offset,
        # the reason names the field, never echoes the value (it may hold an address)
        mask_text(error.split("\n", 1)[0][:300]),
    )
    record = dead_letter_for(message, error)
    key = message.key if not isinstance(message.key, bytes) or len(message.key) < 4096 else None
    if isinstance(key, bytes):
        key = mask_addresses(key)[0]
    await deadletter_topic.send(key=key, value=encode(record))


async def run_guarded_concurrently(
    stream: Any,
    handle: Handler,
    deadletter_topic: Any,
    decoder: Decoder,
    limit: int,
    gaps: OffsetGaps | None = None,
) -> None:
    """:func:`run_guarded` with up to ``limit`` events in progress at once.

    Faust's own ``concurrency=`` runs several actors whose acknowledgements
    arrive out of order, and its committer can then commit an offset past an
    event still in progress: a crash loses that event. Here one actor starts
    up to ``limit`` handlers and acknowledges events strictly in the order
    they arrived, each once every event before it is done, so the committed
    offset never passes an unfinished event.

    ``gaps``, for a topic whose offsets are contiguous, reports any offset
    that never reached this loop (``streams.runtime.offset_gaps``).
    """
    in_progress: deque[tuple[Any, asyncio.Task[None]]] = deque()
    running: set[asyncio.Task[None]] = set()
    slot_freed = asyncio.Event()

    def ack_finished_prefix() -> None:
        while in_progress and in_progress[0][1].done():
            event, _ = in_progress.popleft()
            event.ack()

    def finished(task: asyncio.Task[None]) -> None:
        running.discard(task)
        slot_freed.set()
        # acknowledge as soon as possible, not only when the next event comes
        ack_finished_prefix()

    async for event in stream.noack().events():
        if gaps is not None:
            message = event.message
            gaps.observe(message.topic, message.partition, message.offset)
        task = asyncio.ensure_future(_process(event, handle, deadletter_topic, decoder))
        in_progress.append((event, task))
        running.add(task)
        task.add_done_callback(finished)
        ack_finished_prefix()
        # finished events behind an unfinished one wait for their turn to be
        # acknowledged, but do not count against the limit
        while len(running) >= limit:
            slot_freed.clear()
            await slot_freed.wait()
