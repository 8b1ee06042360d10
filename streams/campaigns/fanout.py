"""Deciding a campaign for every user of one partition, and for late matches.

The fan-out walks its partition of the directory in key order, in chunks.
After each chunk it flushes its writer (the chunk's jobs are on the broker)
and then saves the last key done in the partition's campaign registry
(``streams.campaigns.registry``): a worker that dies half-way is replaced by
one that resumes after that key, so nobody is skipped, and only the users of
one unfinished chunk can get a second job (the deliveries table keeps them to
one email).

This is the hot path: per user, one dict read, the pure
:func:`notifications.audience.decide` on the entry as it is, and one record
appended to a batch. The campaign's text was parsed once, before the loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from notifications.audience import Decision, Verdict, decide
from notifications.directory import DirectoryEntry
from streams.campaigns.outputs import CampaignOutputs, RecordWriter
from streams.campaigns.registry import DONE, ShardCampaign, Tally
from streams.wiring import AudienceLookups

CHUNK_SIZE = 2000


class AudienceLookup(Protocol):
    """What the audience rules need to know besides the entry (``streams.wiring``)."""

    def objected(self, user_id: str, purposes: list[str]) -> bool: ...

    def bounced(self, user_id: str, entry: DirectoryEntry) -> bool: ...


@dataclass(frozen=True, slots=True)
class EntryLookups:
    """The wiring's :class:`AudienceLookups` (which take the entry as a plain dict), typed."""

    lookups: AudienceLookups

    def objected(self, user_id: str, purposes: list[str]) -> bool:
        return self.lookups.objected(user_id, purposes)

    def bounced(self, user_id: str, entry: DirectoryEntry) -> bool:
        return self.lookups.bounced(user_id, entry)


def code_of(decision: Decision) -> str:
    """A decision as the short string the ``late_decisions`` table keeps."""
    return decision.outcome.value + (f":{decision.reason}" if decision.reason else "")


async def apply_decision(
    decision: Decision,
    campaign_id: str,
    purposes: list[str],
    user_id: str,
    outputs: CampaignOutputs,
    writer: RecordWriter,
    tally: Tally,
    *,
    late: bool = False,
) -> None:
    """Write the records one decision calls for."""
    if decision.outcome is Verdict.NOTIFY:
        await outputs.notify(writer, campaign_id, user_id, late=late)
        tally.notified += 1
    elif decision.outcome is Verdict.SUPPRESS:
        assert decision.reason is not None
        await outputs.suppress(writer, campaign_id, user_id, decision.reason)
        tally.suppressed[decision.reason] += 1
    elif decision.outcome is Verdict.EXCLUDE:
        assert decision.reason is not None
        await outputs.exclude(purposes, user_id, decision.reason)
        tally.excluded[decision.reason] += 1


async def fan_out(
    campaign: ShardCampaign,
    users: Iterable[tuple[str, DirectoryEntry]],
    outputs: CampaignOutputs,
    writer: RecordWriter,
    lookups: AudienceLookup,
    save: Callable[[ShardCampaign], Awaitable[None]],
    *,
    chunk_size: int = CHUNK_SIZE,
) -> Tally:
    """Decide for every ``(user_id, entry)`` of ``users`` (sorted, after the progress mark)."""
    rules, purposes = campaign.text.rules, campaign.text.purposes
    campaign_id, tally = campaign.campaign_id, campaign.tally
    in_chunk = 0
    last_key: str | None = None
    for user_id, entry in users:
        decision = decide(
            rules,
            entry,
            objected=lookups.objected(user_id, purposes),
            bounced=lookups.bounced(user_id, entry),
        )
        await apply_decision(decision, campaign_id, purposes, user_id, outputs, writer, tally)
        if decision.outcome in (Verdict.NOTIFY, Verdict.SUPPRESS):
            tally.count_audience(entry, suppressed=decision.outcome is Verdict.SUPPRESS)
        last_key = user_id
        in_chunk += 1
        if in_chunk >= chunk_size:
            campaign.progress = last_key
            await save(campaign)
            in_chunk = 0
    campaign.progress = DONE
    await save(campaign)
    return tally


async def late_match(
    campaign: ShardCampaign,
    user_id: str,
    old: DirectoryEntry | None,
    new: DirectoryEntry,
    previous_code: str | None,
    outputs: CampaignOutputs,
    writer: RecordWriter,
    lookups: AudienceLookup,
) -> str | None:
    """Decide again for a user whose entry changed after the fan-out covered them.

    ``previous_code`` is what the ``late_decisions`` table already holds;
    without it, what was decided for the old entry is what the fan-out
    decided. Returns the code that table must hold now (None: nothing worth
    keeping).
    """
    rules, purposes = campaign.text.rules, campaign.text.purposes
    if previous_code is None and old is not None:
        previous_code = code_of(
            decide(
                rules,
                old,
                objected=lookups.objected(user_id, purposes),
                bounced=lookups.bounced(user_id, old),
            )
        )
    decision = decide(
        rules,
        new,
        objected=lookups.objected(user_id, purposes),
        bounced=lookups.bounced(user_id, new),
    )
    previous = (previous_code or Verdict.OUTSIDE.value).split(":", 1)[0]
    wanted = decision.outcome.value
    act = (
        (wanted == Verdict.NOTIFY and previous != Verdict.NOTIFY)
        or (wanted == Verdict.SUPPRESS and previous == Verdict.OUTSIDE)
        or (wanted == Verdict.EXCLUDE and previous != Verdict.EXCLUDE)
    )
    if act:
        # counted in the ledger from the late decision record, not in the
        # partition's fan-out tally
        await apply_decision(
            decision, campaign.campaign_id, purposes, user_id, outputs, writer, Tally(), late=True
        )
        await outputs.late_decision(campaign.campaign_id, user_id, decision, new)
        return code_of(decision)
    return previous_code if previous_code != Verdict.OUTSIDE.value else None
