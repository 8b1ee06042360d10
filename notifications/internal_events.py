"""Events on preavis's internal topics (not part of the public contract).

Same rules as ``notifications.events``: pydantic models, a ``type`` tag, and raw
bytes on the wire. They may change between versions of preavis; a worker of
one version drains them before the next one starts.

- ``preavis.campaign-fanout`` (key: campaign_id, one record per partition,
  sent to that partition explicitly): tells the worker that owns a partition
  of the directory to work out the campaign's outcome for its users.
- ``preavis.notice-jobs`` (key: user_id, co-partitioned with ``users``): one
  job per person to notify; the delivery agent renders and sends it.
- ``preavis.notice-retries`` (key: user_id, co-partitioned too): a job whose
  attempt the relay deferred, with the time of its next attempt; one agent
  holds it until then and puts the job back on ``preavis.notice-jobs``, so a
  deferred notice never holds a delivery slot while it waits.
- ``preavis.campaign-ledger`` (key: campaign_id): what happened to a campaign
  (registered, a partition fanned out, a person's final outcome), folded into
  the campaign's status by one agent.
- ``preavis.objection-requests`` (key: user_id): an objection asked for
  through preavis (link, form, API); the objections agent, which holds the
  user's objections, records it on ``consent.objections`` only if it is new.
- ``preavis.address-index`` (compacted, key: an address's keyed hash): the
  index from an address to its account, and the ``/object`` objections to
  map through it (see ``streams.objections.address_events``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from notifications.errors import ROOT, InvalidEvent
from notifications.event_types import ObjectionChannel

TOPIC_FANOUT = "preavis.campaign-fanout"
TOPIC_JOBS = "preavis.notice-jobs"
TOPIC_RETRIES = "preavis.notice-retries"
#: The campaign ledger, the one "ledger" of preavis: every campaign's events,
#: folded into its status (``notifications.ledger_step``). Topic and table
#: names are on the wire (and in changelogs): renaming one would orphan the
#: records already there, so the names stay as they are.
TOPIC_LEDGER = "preavis.campaign-ledger"
TOPIC_OBJECTION_REQUESTS = "preavis.objection-requests"
TOPIC_ADDRESS_INDEX = "preavis.address-index"


class _Internal(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class FanoutRequest(_Internal):
    """Work out a campaign for the users of one partition."""

    type: Literal["campaign.fanout"] = "campaign.fanout"
    campaign_id: str
    kind: Literal["purpose", "terms"]
    partition: int = Field(ge=0)
    # the change as published (JSON mode), so that every partition decides on
    # exactly the same text, and delivery renders exactly what was validated
    change: dict[str, object]


class NoticeJob(_Internal):
    """One person to notify of one campaign."""

    type: Literal["notice.job"] = "notice.job"
    campaign_id: str
    user_id: str
    issued_at: datetime
    late: bool = False
    # attempts already made (0 from the fan-out, n when put back after the
    # n-th was deferred): a copy older than the ledger's last attempt is stale
    attempt: int = Field(default=0, ge=0)


class NoticeRetry(_Internal):
    """A job whose last attempt (``job.attempt``) was deferred, to put back at ``due_at``."""

    type: Literal["notice.retry"] = "notice.retry"
    job: NoticeJob
    due_at: datetime


class CampaignRegistered(_Internal):
    """A change was validated: rejected (with reasons) or running."""

    type: Literal["campaign.registered"] = "campaign.registered"
    campaign_id: str
    kind: Literal["purpose", "terms"]
    status: Literal["rejected", "running"]
    reasons: list[str] = Field(default_factory=list)
    starts_at: datetime
    published_at: datetime
    partitions: int
    purposes: list[str] = Field(default_factory=list)
    audience: dict[str, object] = Field(default_factory=dict)
    at: datetime


class PartitionFannedOut(_Internal):
    """One partition's users have all been decided for a campaign."""

    type: Literal["campaign.partition_done"] = "campaign.partition_done"
    campaign_id: str
    partition: int
    notified: int
    suppressed: dict[str, int] = Field(default_factory=dict)
    excluded: dict[str, int] = Field(default_factory=dict)
    # the audience (notified + suppressed) by country and by language
    by_country: dict[str, int] = Field(default_factory=dict)
    by_language: dict[str, int] = Field(default_factory=dict)
    suppressed_by_country: dict[str, int] = Field(default_factory=dict)
    suppressed_by_language: dict[str, int] = Field(default_factory=dict)
    at: datetime


class _PersonInCampaign(_Internal):
    """What the campaign ledger needs of any event about one person: who, where, when.

    Country and language are copied in so that the statistics by country and
    language never have to look the person up again (they may be erased).
    """

    campaign_id: str
    user_id: str
    country: str | None = None
    language: str | None = None
    at: datetime


class PersonDecided(_PersonInCampaign):
    """A person joined a running campaign late (notified, suppressed or excluded)."""

    type: Literal["campaign.late_decision"] = "campaign.late_decision"
    outcome: Literal["notify", "suppress", "exclude"]
    reason: str | None = None


class FinalOutcome(_PersonInCampaign):
    """A notice reached a final status (sent, failed, bounced, suppressed)."""

    type: Literal["campaign.final_outcome"] = "campaign.final_outcome"
    status: str
    reason: str | None = None


class CampaignObjection(_PersonInCampaign):
    """An objection to one of a running campaign's purposes."""

    type: Literal["campaign.objection"] = "campaign.objection"
    purpose_id: str


class CampaignAlerted(_Internal):
    """An alert was raised for the campaign (so that it is raised once)."""

    type: Literal["campaign.alerted"] = "campaign.alerted"
    campaign_id: str
    code: str
    at: datetime


class ObjectionRequest(_Internal):
    """A person asked to object (link, form or API); the objections agent decides if it is new."""

    type: Literal["objection.request"] = "objection.request"
    request_id: str
    user_id: str
    purposes: list[str]
    campaign_id: str | None = None
    channel: ObjectionChannel
    language: str = "en"
    reason: str | None = None
    received_at: datetime


LedgerEntry = Annotated[
    CampaignRegistered
    | PartitionFannedOut
    | PersonDecided
    | FinalOutcome
    | CampaignObjection
    | CampaignAlerted,
    Field(discriminator="type"),
]

FANOUT_ADAPTER: TypeAdapter[FanoutRequest] = TypeAdapter(FanoutRequest)
JOB_ADAPTER: TypeAdapter[NoticeJob] = TypeAdapter(NoticeJob)
RETRY_ADAPTER: TypeAdapter[NoticeRetry] = TypeAdapter(NoticeRetry)
REQUEST_ADAPTER: TypeAdapter[ObjectionRequest] = TypeAdapter(ObjectionRequest)
LEDGER_ADAPTER: TypeAdapter[LedgerEntry] = TypeAdapter(LedgerEntry)


def encode_internal(event: BaseModel) -> bytes:
    """Compact JSON, as on the public topics."""
    return event.model_dump_json(exclude_none=True).encode()


_ADAPTERS: dict[str, TypeAdapter[Any]] = {
    TOPIC_FANOUT: FANOUT_ADAPTER,
    TOPIC_JOBS: JOB_ADAPTER,
    TOPIC_RETRIES: RETRY_ADAPTER,
    TOPIC_LEDGER: LEDGER_ADAPTER,
    TOPIC_OBJECTION_REQUESTS: REQUEST_ADAPTER,
}


def decode_internal(topic: str, key: bytes | None, value: bytes | None) -> Any:
    """Parse an internal record; :class:`InvalidEvent` names the field, as for public ones."""
    adapter = _ADAPTERS.get(topic)
    if adapter is None:
        raise InvalidEvent(ROOT, f"no internal events on topic {topic!r}")
    if value is None:
        raise InvalidEvent(ROOT, "null value on an internal topic")
    try:
        return adapter.validate_json(value)
    except ValidationError as exc:
        raise InvalidEvent.from_validation_error(exc) from exc
