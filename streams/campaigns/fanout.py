"""Deciding a campaign for every user of one partition, and for late matches.

The fan-out walks its partition of the directory in key order, in chunks.
After each chunk it flushes its writer (the chunk's jobs are on the broker)
and then saves the last key done in the partition's campaign registry: a
worker that dies half-way is replaced by one that resumes after that key, so
nobody is skipped, and only the users of one unfinished chunk can get a
second job (the deliveries table keeps them to one email).

The registry (table ``campaign_shards``, key: the partition number) holds, per
partition, every campaign that reached it, its text, its progress and its
tally. Because it lives in the partition, it moves with the partition when
workers come and go, and the late match of a user reads it locally.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from notifications.audience import AudienceRules, Decision, Verdict, decide
from notifications.campaign import Kind, purposes_of, rules_of, start_of
from notifications.i18n import pick_language
from streams.campaigns.outputs import CampaignOutputs
from streams.runtime.batch_writer import PartitionWriter
from streams.wiring import AudienceLookups

DONE = "\uffffdone"
CHUNK_SIZE = 2000


@dataclass
class Tally:
    """How many of a partition's users got each outcome."""

    notified: int = 0
    suppressed: Counter[str] = field(default_factory=Counter)
    excluded: Counter[str] = field(default_factory=Counter)
    # the audience (notified + suppressed) by country and by language
    by_country: Counter[str] = field(default_factory=Counter)
    by_language: Counter[str] = field(default_factory=Counter)
    suppressed_by_country: Counter[str] = field(default_factory=Counter)
    suppressed_by_language: Counter[str] = field(default_factory=Counter)

    def count_audience(self, entry: dict[str, Any], *, suppressed: bool) -> None:
        country = entry.get("country") or "unknown"
        language = pick_language(entry.get("locale") or "en")
        self.by_country[country] += 1
        self.by_language[language] += 1
        if suppressed:
            self.suppressed_by_country[country] += 1
            self.suppressed_by_language[language] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "notified": self.notified,
            "suppressed": dict(self.suppressed),
            "excluded": dict(self.excluded),
            "by_country": dict(self.by_country),
            "by_language": dict(self.by_language),
            "suppressed_by_country": dict(self.suppressed_by_country),
            "suppressed_by_language": dict(self.suppressed_by_language),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Tally:
        data = data or {}
        return cls(
            int(data.get("notified", 0)),
            Counter(data.get("suppressed") or {}),
            Counter(data.get("excluded") or {}),
            Counter(data.get("by_country") or {}),
            Counter(data.get("by_language") or {}),
            Counter(data.get("suppressed_by_country") or {}),
            Counter(data.get("suppressed_by_language") or {}),
        )


def code_of(decision: Decision) -> str:
    """A decision as the short string the ``late_decisions`` table keeps."""
    return decision.outcome.value + (f":{decision.reason}" if decision.reason else "")


async def apply_decision(
    decision: Decision,
    campaign_id: str,
    purposes: list[str],
    user_id: str,
    outputs: CampaignOutputs,
    writer: PartitionWriter,
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


@dataclass
class ShardCampaign:
    """One campaign as a partition's registry holds it."""

    campaign_id: str
    kind: Kind
    change: dict[str, Any]
    progress: str | None = None
    tally: Tally = field(default_factory=Tally)

    @property
    def starts_at(self) -> datetime:
        return start_of(self.change, self.kind)

    def rules(self) -> tuple[AudienceRules, list[str]]:
        """The audience rules and purposes, prepared once per campaign and process.

        A campaign id's text never changes (a republication with another text
        is refused), so the id is a sound cache key.
        """
        cached = _RULES.get(self.campaign_id)
        if cached is None:
            cached = _RULES[self.campaign_id] = (
                rules_of(self.change, self.kind),
                purposes_of(self.change, self.kind),
            )
        return cached

    @property
    def done(self) -> bool:
        return self.progress == DONE

    def covered(self, user_id: str) -> bool:
        """Whether the fan-out has already decided for ``user_id`` (keys go in order)."""
        if self.progress is None:
            return False
        return self.done or _order(user_id) <= _order(self.progress)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "change": self.change,
            "progress": self.progress,
            "tally": self.tally.as_dict(),
        }

    @classmethod
    def from_dict(cls, campaign_id: str, data: dict[str, Any]) -> ShardCampaign:
        return cls(
            campaign_id,
            data["kind"],
            data["change"],
            data.get("progress"),
            Tally.from_dict(data.get("tally")),
        )


_RULES: dict[str, tuple[AudienceRules, list[str]]] = {}


def _order(key: str) -> bytes:
    return json.dumps(key).encode()


async def fan_out(
    campaign: ShardCampaign,
    users: Iterable[tuple[str, dict[str, Any]]],
    outputs: CampaignOutputs,
    writer: PartitionWriter,
    lookups: AudienceLookups,
    save: Callable[[ShardCampaign], Awaitable[None]],
    *,
    chunk_size: int = CHUNK_SIZE,
) -> Tally:
    """Decide for every ``(user_id, entry)`` of ``users`` (sorted, after the progress mark)."""
    rules, purposes = campaign.rules()
    in_chunk = 0
    last_key: str | None = None
    for user_id, entry in users:
        decision = decide(
            rules,
            entry,
            objected=lookups.objected(user_id, purposes),
            bounced=lookups.bounced(user_id, entry),
        )
        await apply_decision(
            decision, campaign.campaign_id, purposes, user_id, outputs, writer, campaign.tally
        )
        if decision.outcome in (Verdict.NOTIFY, Verdict.SUPPRESS):
            campaign.tally.count_audience(entry, suppressed=decision.outcome is Verdict.SUPPRESS)
        last_key = user_id
        in_chunk += 1
        if in_chunk >= chunk_size:
            campaign.progress = last_key
            await save(campaign)
            in_chunk = 0
    campaign.progress = DONE
    await save(campaign)
    return campaign.tally


async def late_match(
    campaign: ShardCampaign,
    user_id: str,
    old: dict[str, Any] | None,
    new: dict[str, Any],
    previous_code: str | None,
    outputs: CampaignOutputs,
    writer: PartitionWriter,
    lookups: AudienceLookups,
) -> str | None:
    """Decide again for a user whose entry changed after the fan-out covered them.

    ``previous_code`` is what the ``late_decisions`` table already holds;
    without it, what was decided for the old entry is what the fan-out
    decided. Returns the code that table must hold now (None: nothing worth
    keeping).
    """
    rules, purposes = campaign.rules()
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
