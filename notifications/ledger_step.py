"""One campaign-ledger record applied exactly once, though Kafka delivers it at least once.

The campaign's counts are what a compliance team shows a supervisory
authority, so a record folded twice is a wrong figure, and a final outcome
counted twice can even mark a campaign ``completed`` while people are still
waiting for their notice. Two things repeat records:

- **A replay.** The worker that folded a record can die before its offset is
  committed; the partition's next owner reads it again. The campaign's
  document stores the ledger offset it has folded up to (all of a campaign's
  records share one partition: they are keyed by campaign id), and a record
  at or below it is not folded again. Count and offset are one table value,
  so they are written together or not at all.
- **A second final outcome for one person.** A notice sent twice (a worker
  killed between the relay's ``250`` and its write to the deliveries
  table) reports its outcome twice, at two offsets. The first one leaves a mark, ``(status,
  offset)`` per campaign and person, and an outcome at another offset finds
  it. The mark is a second table value and can be lost or kept apart from
  the document: a replay of the marking record (same offset) re-folds it only
  if the document had not, and writes a lost mark again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, TypedDict

from notifications.campaign_status import CampaignStatus, fold
from notifications.internal_events import FinalOutcome, LedgerEntry

#: The field of a campaign's document that holds the last ledger offset folded.
FOLDED_UP_TO: Final = "ledger_offset"


class FinalMark(TypedDict):
    """The ``campaign_finals`` table's value: the one final outcome counted for a person."""

    status: str
    offset: int


@dataclass(frozen=True)
class LedgerStep:
    """What to store after one record: ``None`` means leave that value as it is."""

    doc: CampaignStatus | None = None
    mark: FinalMark | None = None


def apply_ledger_record(
    doc: CampaignStatus | None,
    entry: LedgerEntry,
    offset: int,
    mark: FinalMark | None = None,
) -> LedgerStep:
    """Fold ``entry`` (at ``offset`` of the ledger) into ``doc`` unless it was already.

    ``mark`` is the stored mark of the person the entry is about, for a final
    outcome (``None`` for other entries, or when there is none).
    """
    is_final = isinstance(entry, FinalOutcome)
    if is_final and mark is not None and mark["offset"] != offset:
        return LedgerStep()  # the person's outcome was counted from another record
    folded_before = doc is not None and offset <= doc.get(FOLDED_UP_TO, -1)
    new_doc = None
    if not folded_before:
        updated = fold(doc, entry)
        if updated is not None:
            new_doc = updated.copy()  # fold may return ``doc`` itself: never change it
            new_doc[FOLDED_UP_TO] = offset
    counted = folded_before or new_doc is not None
    new_mark = None
    if isinstance(entry, FinalOutcome) and mark is None and counted:
        new_mark = FinalMark(status=entry.status, offset=offset)
    return LedgerStep(doc=new_doc, mark=new_mark)
