"""Ledger records applied once: replays after a crash and a person's second final outcome.

:class:`Store` plays the two tables the ``campaign_ledger`` agent writes
(``campaigns`` and ``campaign_finals``); a crash is a write that never
reached Kafka, then the records from some offset read again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from notifications.campaign_status import CampaignStatus, summary
from notifications.internal_events import FinalOutcome, LedgerEntry
from notifications.ledger_step import FOLDED_UP_TO, FinalMark, apply_ledger_record
from tests.unit.test_campaign_status import NOW, final, objection, partition_done, registered


@dataclass
class Store:
    """The campaign's document and the per-person marks, as the tables hold them."""

    doc: CampaignStatus | None = None
    marks: dict[str, FinalMark] = field(default_factory=dict)

    def apply(
        self, offset: int, entry: LedgerEntry, *, lose_doc: bool = False, lose_mark: bool = False
    ) -> None:
        user = entry.user_id if isinstance(entry, FinalOutcome) else None
        mark = self.marks.get(user) if user else None
        step = apply_ledger_record(self.doc, entry, offset, mark)
        if step.doc is not None and not lose_doc:
            self.doc = step.doc
        if step.mark is not None and not lose_mark and user:
            self.marks[user] = step.mark

    def read(self, entries: list[LedgerEntry]) -> Store:
        """Apply ``entries`` at offsets 0, 1, ... (each once, nothing lost)."""
        for offset, entry in enumerate(entries):
            self.apply(offset, entry)
        return self

    def figures(self) -> tuple[str, int, int]:
        assert self.doc is not None
        view = summary(self.doc, NOW)
        return view["status"], view["sent"], view["failed"]


LEDGER: list[LedgerEntry] = [
    registered(partitions=1),
    partition_done(0, notified=3),
    final("ana", "sent"),
    final("ben", "failed"),
    final("cleo", "sent"),
]


def test_each_record_once_completes_the_campaign_with_its_counts() -> None:
    store = Store().read(LEDGER)

    assert store.figures() == ("completed", 2, 1)
    assert store.doc is not None and store.doc[FOLDED_UP_TO] == 4
    assert store.marks["ben"] == {"status": "failed", "offset": 3}


def test_the_whole_ledger_read_again_changes_nothing() -> None:
    store = Store().read(LEDGER)
    before = (store.doc, dict(store.marks))

    store.read(LEDGER)  # every offset again, after all was stored

    assert (store.doc, store.marks) == before


def test_a_second_final_outcome_for_a_person_counts_once_and_does_not_complete_early() -> None:
    store = Store().read(LEDGER[:3])  # ana sent
    store.apply(3, final("ana", "sent"))  # her notice went out twice

    assert store.figures() == ("running", 1, 0)  # ben and cleo still wait
    store.apply(4, final("ben", "failed"))
    store.apply(5, final("cleo", "sent"))
    assert store.figures() == ("completed", 2, 1)


def test_a_lost_mark_is_written_again_by_the_replay_before_the_duplicate_arrives() -> None:
    store = Store().read(LEDGER[:2])
    store.apply(2, final("ana", "sent"), lose_mark=True)  # killed after the document
    assert "ana" not in store.marks

    store.apply(2, final("ana", "sent"))  # the next owner reads offset 2 again
    store.apply(3, final("ana", "sent"))  # then the duplicate email's outcome

    assert store.marks["ana"] == {"status": "sent", "offset": 2}
    assert store.figures() == ("running", 1, 0)


def test_a_lost_document_is_folded_again_though_the_mark_was_kept() -> None:
    store = Store().read(LEDGER[:2])
    store.apply(2, final("ana", "sent"), lose_doc=True)  # killed after the mark
    assert store.figures() == ("running", 0, 0)

    store.apply(2, final("ana", "sent"))

    assert store.figures() == ("running", 1, 0)


def test_an_outcome_before_the_campaign_is_registered_leaves_nothing() -> None:
    step = apply_ledger_record(None, final("ana", "sent"), 0)

    assert step.doc is None and step.mark is None


def test_other_records_read_again_are_not_folded_twice() -> None:
    store = Store()
    store.apply(0, registered(partitions=2))
    store.apply(1, partition_done(0, notified=3))
    store.apply(2, objection("ana"))
    store.apply(2, objection("ana"))

    assert store.doc is not None and store.doc["objections"] == 1
