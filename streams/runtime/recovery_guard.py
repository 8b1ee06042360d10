"""Keep the fetcher still while Faust ends a recovery, so that no event is dropped.

The fault suite lost notices in about one SIGKILL-and-restart run in eight:
a dozen consecutive notice jobs per partition, never processed, with the
committed offset past them. The worker log and the topics told how. When a
worker finishes restoring its tables, Faust's ``Recovery.on_recovery_completed``

1. resumes the stream partitions (the fetcher is already running: it was
   started to read the changelogs),
2. awaits the seek to the committed offsets, and only then
3. resumes flow control, which empties every stream buffer.

Events fetched during step 2 go into the buffers: the agent takes a few,
step 3 throws the rest away. Faust has already counted them as read, so the
next fetched offset looks like a jump, which Faust records as a gap (as it
would for a compacted topic) and commits over. The jobs are gone without a
trace: no error, no dead letter, no email.

``on_rebalance_complete`` is sent at the very start of step 1. Stopping the
consumer's flow there holds the fetcher until step 3 is over: Faust resumes
the flow itself right after emptying the buffers, and fetching starts from
the committed offsets with nothing in between.

Upstream (faust-streaming 0.15): ``faust/tables/recovery.py``,
``Recovery.on_recovery_completed`` (the order: ``app.on_rebalance_complete``
sent, ``consumer.resume_partitions``, ``consumer.perform_seek``,
``app.flow_control.resume``, ``consumer.resume_flow``), and
``faust/transport/consumer.py``, ``Consumer.stop_flow``. The signal is
public; the order inside the recovery is not, and the canary test checks it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from streams.app import PreavisApp
    from streams.wiring import Wiring


def register(app: PreavisApp, wiring: Wiring) -> None:
    """Hold the fetcher from the end of a recovery until Faust resumes the flow."""

    async def hold_fetching(sender: Any, **kwargs: Any) -> None:
        app.consumer.stop_flow()
        # partitions may come back further on: their next offset is a new start
        wiring.offset_gaps.forget()

    app.on_rebalance_complete.connect(hold_fetching)  # type: ignore[arg-type]
