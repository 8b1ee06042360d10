"""Offsets that never reached an agent: the trace a silent loss leaves.

On a topic that is neither compacted nor written in transactions (the job
topics), the offsets of one partition reach the agent one after another. A
jump means records were fetched and then dropped before the agent saw them:
exactly how notice jobs were lost when Faust ended a recovery
(``streams.runtime.recovery_guard``). Faust commits over such a jump as if it were a
compaction gap, so nothing else would ever show it. The watch logs it as an
error and counts it; the fault suite fails on the log line.

Upstream (faust-streaming 0.15): ``faust/transport/consumer.py``,
``Consumer._add_gap`` / ``Consumer._new_offset``: a jump in the offsets acked
is taken for a compaction gap and committed over. Nothing of Faust is called
here; the module lives with the workaround it watches
(:mod:`streams.runtime.recovery_guard`).
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

#: The log message the fault tests look for.
GAP_MESSAGE = "offsets never reached the agent"


class OffsetGaps:
    """The last offset seen per partition, and the jumps after it."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, int], int] = {}
        self.found = 0

    def observe(self, topic: str, partition: int, offset: int) -> tuple[int, int] | None:
        """Record ``offset``; return the range (first, last) of offsets skipped before it."""
        key = (topic, partition)
        last = self._last.get(key)
        self._last[key] = offset
        if last is None or offset <= last + 1:  # first sight, next one, or read again
            return None
        self.found += 1
        log.error(
            "%s: %s[%s] %s..%s (%s record(s))",
            GAP_MESSAGE,
            topic,
            partition,
            last + 1,
            offset - 1,
            offset - last - 1,
        )
        return last + 1, offset - 1

    def forget(self) -> None:
        """A rebalance: a partition may come back further on, processed by another worker."""
        self._last.clear()
