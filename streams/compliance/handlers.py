"""The compliance API's answers, as plain functions of typed ports.

Every campaign's status comes from the documents this worker follows
(:mod:`streams.compliance.campaign_documents`), summarized by the campaigns
domain's rule (:func:`notifications.campaign_status.summary`) as of the
ports' clock. A user's proof of notice comes from their ``notice.delivery``
records, read from the user's partition by the ports' reader.

No Faust and no Kafka here: :mod:`streams.compliance.views` builds the ports
and answers HTTP; a unit test passes a dict of documents and a list of records.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from notifications.campaign_status import summary
from streams.compliance.campaign_documents import CampaignDocument

#: A ``notice.delivery`` value as ``notices.delivery`` holds it (JSON), echoed as is.
NoticeRecord = Mapping[str, object]
#: A campaign as ``GET /api/v1/campaigns/{id}`` shows it (the campaigns domain's shape).
CampaignSummary = Mapping[str, object]
#: The fields of each attempt listed under a notice.
ATTEMPT_FIELDS = ("status", "reason", "attempt", "at")


class NoticeProof(TypedDict):
    """One campaign's notice to the user: its last status, and every attempt in order."""

    attempts: list[dict[str, object]]
    campaign_id: str
    notice_id: object
    status: object
    reason: object
    message_id: object
    content_sha256: object
    at: object


class ProofOfNotice(TypedDict):
    """The answer of ``GET /api/v1/users/{user_id}/notices``."""

    user_id: str
    notices: list[NoticeProof]


@dataclass(frozen=True)
class CompliancePorts:
    """What the compliance API reads."""

    #: campaign_id -> document, kept up to date by the follower (read, never copied)
    campaigns: Mapping[str, CampaignDocument]
    #: every ``notice.delivery`` of a user, oldest first
    notices_of: Callable[[str], Awaitable[list[NoticeRecord]]]
    clock: Callable[[], datetime]
    #: a running campaign this close to its start is at risk (``deadline_risk_days``)
    deadline_risk_days: float


def campaign_summaries(ports: CompliancePorts) -> list[CampaignSummary]:
    """Every campaign, by campaign_id."""
    now = ports.clock()
    return [
        summary(ports.campaigns[campaign_id], now, ports.deadline_risk_days)
        for campaign_id in sorted(ports.campaigns)
    ]


def campaign_summary(ports: CompliancePorts, campaign_id: str) -> CampaignSummary | None:
    """One campaign, or None when this worker knows no such campaign."""
    doc = ports.campaigns.get(campaign_id)
    if doc is None:
        return None
    return summary(doc, ports.clock(), ports.deadline_risk_days)


async def user_notices(ports: CompliancePorts, user_id: str) -> ProofOfNotice:
    """The proof of notice of ``user_id``, from their delivery records."""
    return proof_of_notice(user_id, await ports.notices_of(user_id))


def proof_of_notice(user_id: str, events: Iterable[NoticeRecord]) -> ProofOfNotice:
    """Per campaign: the last status, and every attempt in order.

    The Message-ID and the content's SHA-256 of an earlier attempt stay when a
    later record (a bounce, say) carries none: they identify what was sent.
    """
    notices: dict[str, NoticeProof] = {}
    for event in events:
        campaign_id = str(event["campaign_id"])
        earlier = notices.get(campaign_id)
        attempts = earlier["attempts"] if earlier is not None else []
        attempts.append({name: event.get(name) for name in ATTEMPT_FIELDS})
        notices[campaign_id] = {
            "attempts": attempts,
            "campaign_id": campaign_id,
            "notice_id": event.get("notice_id"),
            "status": event["status"],
            "reason": event.get("reason"),
            "message_id": event.get("message_id") or _kept(earlier, "message_id"),
            "content_sha256": event.get("content_sha256") or _kept(earlier, "content_sha256"),
            "at": event["at"],
        }
    return {"user_id": user_id, "notices": list(notices.values())}


def _kept(earlier: NoticeProof | None, name: str) -> object:
    return None if earlier is None else earlier.get(name)
