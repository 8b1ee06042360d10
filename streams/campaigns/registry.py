"""A partition's campaign registry, read as typed campaigns, each text parsed once.

The registry (table ``campaign_shards``, key: the partition number) holds, per
partition, every campaign that reached it: its text as JSON, its progress and
its tally. Because it lives in the partition, it moves with the partition when
workers come and go, and the late match of a user reads it locally.

The text is kept as JSON (what the fan-out request carried, and what delivery
renders); the rules need the model. :class:`CampaignTexts` parses it once per
campaign and worker: a campaign id's text never changes (a republication with
another text is refused), so the id is a sound cache key, and neither the
fan-out of a million users nor the late match of each upsert parses it again.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from notifications.audience import AudienceRules
from notifications.campaign import (
    Change,
    ChangeJson,
    Kind,
    ShardState,
    TallyCounts,
    parse_change,
    purposes_of,
    rules_of,
    start_of,
)
from notifications.directory import DirectoryEntry
from notifications.i18n import pick_language

#: The progress mark of a partition whose fan-out is finished (after every user_id).
DONE = "\uffffdone"


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

    def count_audience(self, entry: DirectoryEntry, *, suppressed: bool) -> None:
        country = entry.get("country") or "unknown"
        language = pick_language(entry.get("locale") or "en")
        self.by_country[country] += 1
        self.by_language[language] += 1
        if suppressed:
            self.suppressed_by_country[country] += 1
            self.suppressed_by_language[language] += 1

    def as_counts(self) -> TallyCounts:
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
    def from_counts(cls, counts: TallyCounts | None) -> Tally:
        if counts is None:
            return cls()
        return cls(
            int(counts.get("notified", 0)),
            Counter(counts.get("suppressed") or {}),
            Counter(counts.get("excluded") or {}),
            Counter(counts.get("by_country") or {}),
            Counter(counts.get("by_language") or {}),
            Counter(counts.get("suppressed_by_country") or {}),
            Counter(counts.get("suppressed_by_language") or {}),
        )


@dataclass(frozen=True, slots=True)
class CampaignText:
    """A campaign's change as the model, and what every decision needs of it."""

    change: Change
    rules: AudienceRules
    purposes: list[str]
    starts_at: datetime


class CampaignTexts:
    """The parsed text of every campaign this worker has met, by campaign id."""

    def __init__(self) -> None:
        self._parsed: dict[str, CampaignText] = {}

    def of(self, campaign_id: str, kind: Kind, change: ChangeJson) -> CampaignText:
        """The text of ``campaign_id``, parsed from ``change`` the first time only."""
        text = self._parsed.get(campaign_id)
        if text is None:
            model = parse_change(kind, change)
            text = CampaignText(model, rules_of(model), purposes_of(model), start_of(model))
            self._parsed[campaign_id] = text
        return text


@dataclass
class ShardCampaign:
    """One campaign as a partition's registry holds it, with its parsed text."""

    campaign_id: str
    kind: Kind
    change: dict[str, object]
    text: CampaignText
    progress: str | None = None
    tally: Tally = field(default_factory=Tally)

    @property
    def starts_at(self) -> datetime:
        return self.text.starts_at

    @property
    def done(self) -> bool:
        return self.progress == DONE

    def covered(self, user_id: str) -> bool:
        """Whether the fan-out has already decided for ``user_id`` (keys go in order)."""
        if self.progress is None:
            return False
        return self.done or _order(user_id) <= _order(self.progress)

    def as_state(self) -> ShardState:
        return {
            "kind": self.kind,
            "change": self.change,
            "progress": self.progress,
            "tally": self.tally.as_counts(),
        }

    @classmethod
    def new(
        cls, campaign_id: str, kind: Kind, change: dict[str, object], texts: CampaignTexts
    ) -> ShardCampaign:
        """A campaign that has just reached the partition: nobody decided yet."""
        return cls(campaign_id, kind, change, texts.of(campaign_id, kind, change))

    @classmethod
    def from_state(cls, campaign_id: str, state: ShardState, texts: CampaignTexts) -> ShardCampaign:
        kind, change = state["kind"], state["change"]
        return cls(
            campaign_id,
            kind,
            change,
            texts.of(campaign_id, kind, change),
            state.get("progress"),
            Tally.from_counts(state.get("tally")),
        )


def _order(key: str) -> bytes:
    """The order the fan-out walks keys in: the bytes of their JSON form (RocksDB's)."""
    return json.dumps(key).encode()
