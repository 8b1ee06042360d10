"""Every published change, on every worker: what the objection pages show.

An objection link may be opened on any worker, but a campaign's text lives in
the partition that received it. Changes are few and small, so each worker
reads ``policy.purposes`` and ``policy.terms`` whole, from the beginning, with
a plain consumer outside the consumer group, and keeps them in memory: the
first valid publication of a campaign id (the one the campaign agent
accepted), and the latest version of each purpose.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from streams.wiring import Wiring

import logging
from dataclasses import dataclass, field
from typing import Any

from aiokafka import TopicPartition

from notifications import topic_names as names
from notifications.errors import InvalidEvent
from notifications.events import PurposeDeclared, TermsPublished, decode
from notifications.i18n import pick_text
from notifications.languages import written_languages
from notifications.web_pages import PurposeSummary
from streams import kafka
from streams.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class PurposeCatalog:
    """Changes by campaign id and purposes by id, as published."""

    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    purposes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def take(self, topic: str, value: bytes | None) -> None:
        """Add one record of ``policy.purposes`` or ``policy.terms`` (invalid ones are skipped)."""
        try:
            event = decode(topic, None, value)
        except InvalidEvent:
            return  # the campaign agent dead-letters it; nothing to show
        if not isinstance(event, PurposeDeclared | TermsPublished):
            return
        change = event.model_dump(mode="json", exclude_none=True)
        self.changes.setdefault(event.campaign_id, change)
        if isinstance(event, PurposeDeclared):
            known = self.purposes.get(event.purpose_id)
            if known is None or known["version"] <= event.version:
                self.purposes[event.purpose_id] = change

    def summary(self, purpose_id: str, language: str) -> PurposeSummary:
        """What a page says of a purpose; its id alone when it was never published."""
        change = self.purposes.get(purpose_id) or {}
        return PurposeSummary(
            purpose_id=purpose_id,
            name=pick_text(change.get("name"), language) or purpose_id,
            description=pick_text(change.get("description"), language),
            starts_at=change.get("starts_at"),
            objection_effect=pick_text(change.get("objection_effect"), language),
        )

    def written_languages(self, purposes: list[str]) -> frozenset[str]:
        """The languages every text of every one of ``purposes`` is written in (one email, one
        language: :func:`notifications.languages.notice_language` picks among them)."""
        written: frozenset[str] | None = None
        for purpose_id in purposes:
            change = self.purposes.get(purpose_id)
            if change is not None:
                languages = written_languages(change, "purpose")
                written = languages if written is None else written & languages
        return written if written is not None else frozenset({"en"})

    def controller(self, campaign_id: str | None, purposes: list[str]) -> dict[str, Any]:
        """The controller of the campaign (or of the first purpose), ``{}`` when unknown."""
        change = self.changes.get(campaign_id or "") or (
            self.purposes.get(purposes[0]) if purposes else None
        )
        controller = (change or {}).get("controller")
        return controller if isinstance(controller, dict) else {}

    def controller_name(self, campaign_id: str | None, purposes: list[str]) -> str | None:
        name = self.controller(campaign_id, purposes).get("name")
        return name if isinstance(name, str) else None


async def follow(catalog: PurposeCatalog, settings: Settings, partitions: int) -> None:
    """Keep ``catalog`` up to date until cancelled."""
    tps = [
        TopicPartition(topic, p)
        for topic in (names.TOPIC_PURPOSES, names.TOPIC_TERMS)
        for p in range(partitions)
    ]
    async for fetch in kafka.read_to_end(settings, tps, follow=True):
        for records in fetch.records.values():
            for record in records:
                catalog.take(record.topic, record.value)


def register(app: Any, wiring: Wiring) -> None:
    """Give the app its catalog and keep it following the policy topics."""
    settings = wiring.settings

    @app.task  # type: ignore[untyped-decorator]
    async def follow_policy_topics() -> None:
        await follow(wiring.purpose_catalog, settings, settings.topic_partitions)
