"""A partition Faust stopped fetching and never resumed: noticed, logged, resumed.

Faust takes a partition off its fetch list when the stream's buffer is under
pressure (and during recovery), and relies on callbacks to put it back. The
fault suite caught, about once in eight SIGKILL-and-restart runs, a notice-jobs
partition that stayed assigned with records waiting and was never fetched
again: no error, no progress, notices silently not sent. Whatever the race
inside Faust, the symptom is observable from outside, so this watch looks for
it: a partition that is assigned, has records past what this worker has read,
is not on the fetch list, while nothing is rebalancing and the stream's buffer
is not under pressure, for several checks in a row. It then logs everything
it saw (for the bug report), counts it, and puts the partition back on the
fetch list. A false alarm costs one redundant ``resume_partitions``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from streams.app import PreavisApp
    from streams.settings import Settings
    from streams.topics import Topics

log = logging.getLogger(__name__)

CHECK_EVERY_SECONDS = 10.0
#: Consecutive checks a partition must look stalled before it is resumed.
CHECKS_BEFORE_RESUME = 3


@dataclass(frozen=True, slots=True)
class PartitionView:
    """What one check sees of one assigned partition."""

    topic: str
    partition: int
    fetching: bool  # on Faust's active (fetch) list
    read_offset: int | None  # last offset handed to the streams (None: none yet)
    committed: int | None  # next offset to read after a restart
    end_offset: int | None  # the broker's high-water mark
    buffer_size: int  # events waiting in the stream buffers of the topic
    buffer_low: int  # buffer size at or under which Faust resumes fetching

    @property
    def has_unread_records(self) -> bool:
        """Records past the read position (may say so of the last one: erring to resume)."""
        if self.end_offset is None:
            return False
        # Faust's read offset is the last offset read, or the committed one
        # (the next to read) right after a seek: compare with it as is
        position = self.read_offset if self.read_offset is not None else self.committed
        return self.end_offset > (position or 0)


def looks_stalled(view: PartitionView, before: PartitionView | None) -> bool:
    """True when ``view`` shows records nobody is going to fetch.

    Not fetching, records waiting, nothing read since ``before``, and no
    pressure on the buffer that would justify the pause.
    """
    if before is None or view.fetching or not view.has_unread_records:
        return False
    if view.buffer_size > view.buffer_low:
        return False
    return view.read_offset == before.read_offset


class StallWatch:
    """Counts consecutive stalled checks per partition; says which to resume."""

    def __init__(self, checks_before_resume: int = CHECKS_BEFORE_RESUME) -> None:
        self.checks_before_resume = checks_before_resume
        self._last: dict[tuple[str, int], PartitionView] = {}
        self._stalled_checks: dict[tuple[str, int], int] = {}

    def observe(self, views: Iterable[PartitionView]) -> list[PartitionView]:
        """Record one check; return the partitions stalled long enough to resume."""
        to_resume: list[PartitionView] = []
        seen: dict[tuple[str, int], PartitionView] = {}
        for view in views:
            key = (view.topic, view.partition)
            seen[key] = view
            if looks_stalled(view, self._last.get(key)):
                count = self._stalled_checks.get(key, 0) + 1
                if count >= self.checks_before_resume:
                    to_resume.append(view)
                    count = 0
                self._stalled_checks[key] = count
            else:
                self._stalled_checks.pop(key, None)
        self._last = seen
        self._stalled_checks = {k: v for k, v in self._stalled_checks.items() if k in seen}
        return to_resume

    def forget(self) -> None:
        """A rebalance: offsets and assignment start over."""
        self._last.clear()
        self._stalled_checks.clear()


def _buffer_of(app: Any, tp: Any) -> tuple[int, int]:
    """Events waiting in the stream buffers fed by ``tp``, and Faust's resume threshold."""
    size, low = 0, 0
    for channel in app.topics._tp_index.get(tp, ()):
        queue = channel.queue
        size += queue.qsize()
        low = max(low, queue.pressure_drop_size)
    return size, low


async def _views(app: Any) -> list[PartitionView]:
    consumer = app.consumer
    changelogs = set(app.tables.changelog_topics)
    assigned = [tp for tp in consumer.assignment() if tp.topic not in changelogs]
    if not assigned:
        return []
    end_offsets: Mapping[Any, int] = await consumer.highwaters(*assigned)
    active = consumer._active_partitions or set()
    views = []
    for tp in assigned:
        size, low = _buffer_of(app, tp)
        views.append(
            PartitionView(
                topic=tp.topic,
                partition=tp.partition,
                fetching=tp in active,
                read_offset=consumer._read_offset.get(tp),
                committed=consumer._committed_offset.get(tp),
                end_offset=end_offsets.get(tp),
                buffer_size=size,
                buffer_low=low,
            )
        )
    return views


def _busy(app: Any) -> bool:
    """Rebalancing or recovering: Faust pauses partitions on purpose then."""
    return bool(
        app.rebalancing or getattr(app, "in_recovery", False) or not app.consumer.flow_active
    )


def register(app: PreavisApp, topics: Topics, settings: Settings) -> None:
    """Add the watch as a timer of the worker."""
    watch = StallWatch()

    @app.timer(CHECK_EVERY_SECONDS)  # type: ignore[untyped-decorator]
    async def watch_partitions() -> None:
        if _busy(app):
            watch.forget()
            return
        with contextlib.suppress(Exception):  # never let the watch take the worker down
            views = await _views(app)
            if _busy(app):
                watch.forget()
                return
            for view in watch.observe(views):
                _resume(app, view)


def _resume(app: Any, view: PartitionView) -> None:
    consumer = app.consumer
    tp = next(
        tp
        for tp in consumer.assignment()
        if tp.topic == view.topic and tp.partition == view.partition
    )
    log.warning(
        "partition %s[%s] was not being fetched (read %s, committed %s, end %s, "
        "buffer %s, paused %s, buffered %s): resuming it",
        view.topic,
        view.partition,
        view.read_offset,
        view.committed,
        view.end_offset,
        view.buffer_size,
        tp in consumer._paused_partitions,
        tp in consumer._buffered_partitions,
    )
    app.preavis_metrics.stalls.labels(topic=view.topic).inc()
    consumer._buffered_partitions.discard(tp)
    consumer.resume_partitions({tp})
