"""What the delivery handlers use, declared once as typed ports.

A worker builds them from the :class:`streams.wiring.Wiring`
(``streams.delivery.agents``); a unit test builds them from the in-memory
fakes, a recording sender, a fixed clock and a sleep that returns at once.
Nothing here is a Faust object: the handlers can run without a broker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parseaddr
from functools import cached_property
from typing import Protocol

from notifications.campaign import ChangeJson, Kind, RegisteredCampaign
from notifications.delivery_policy import DeliveryStatus, SuppressedAddresses
from notifications.directory import DirectoryEntry
from notifications.render import NoticeContext, RenderedNotice
from notifications.smtp_reply import Sender
from streams.metrics import Metrics
from streams.ports import Table, Topic
from streams.wiring import AudienceLookups


def utcnow() -> datetime:
    return datetime.now(UTC)


#: ``campaign_shards``: partition number (as a string) -> campaign_id -> its entry.
CampaignRegistry = Mapping[str, RegisteredCampaign]


class Renderer(Protocol):
    """Turns what to tell one person into a notice (``notifications.render.NoticeRenderer``)."""

    def render(self, context: NoticeContext) -> RenderedNotice: ...

    def language_for(self, context: NoticeContext) -> str:
        """The language ``render`` writes ``context``'s notice in (for the objection link)."""
        ...


class LinkMaker(Protocol):
    """The signed objection link of a notice, or ``None`` when there is nothing to object to."""

    def __call__(
        self, user_id: str, purposes: list[str], campaign_id: str, language: str
    ) -> str | None: ...


@dataclass(frozen=True, slots=True)
class KnownCampaign:
    """A campaign as delivery uses it, read once from the registry and kept.

    A registry entry's change never changes once registered, and entries are
    never removed, so what delivery derives from it (purposes, start date)
    can be kept instead of decoding the partition's registry for every job.
    """

    kind: Kind
    change: ChangeJson
    purposes: list[str]
    deadline: datetime


@dataclass(frozen=True)
class DeliveryPorts:
    """Everything a notice job touches, from the checks to its final status."""

    directory: Table[DirectoryEntry]
    campaign_shards: Table[CampaignRegistry]
    deliveries: Table[DeliveryStatus]
    suppression: Table[SuppressedAddresses]
    #: ``notices.delivery``: one event per attempt, the proof of notice
    delivery_events: Topic
    #: ``preavis.campaign-ledger``: each pair's final outcome, counted once
    ledger: Topic
    #: ``preavis.notice-retries``: jobs deferred by a recipient's mailbox
    retries: Topic
    sender: Sender
    renderer: Renderer
    link_for: LinkMaker
    #: objections and bounced addresses, as the fan-out reads them
    lookups: AudienceLookups
    metrics: Metrics
    #: the From header (``PREAVIS_MAIL_FROM``); its address is the envelope sender
    mail_from: str
    clock: Callable[[], datetime] = utcnow
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    #: the pairs this worker is delivering right now (a second copy is left to the first)
    in_flight: set[str] = field(default_factory=set)
    #: (partition, campaign_id) -> the campaign, once read from that partition's registry
    known_campaigns: dict[tuple[int, str], KnownCampaign] = field(default_factory=dict)

    @cached_property
    def envelope_sender(self) -> str:
        return parseaddr(self.mail_from)[1]

    @cached_property
    def mail_domain(self) -> str:
        """The domain of Message-IDs: the sender's."""
        return self.envelope_sender.rpartition("@")[2] or "localhost"


@dataclass(frozen=True)
class RetryPorts:
    """What putting a deferred job back uses."""

    #: ``preavis.notice-jobs``
    jobs: Topic
    clock: Callable[[], datetime] = utcnow
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
