"""Which campaigns count an objection: the rule behind a campaign's ``objections`` figure.

An objection counts for every campaign running in the user's partition whose
purposes it covers (a terms campaign covers the purposes it adds), and for the
campaign its link named, even when that one is no longer in the registry. The
count carries the user's country and language, read now: the campaign's
statistics must never look the person up again (they may be erased).
"""

from __future__ import annotations

from collections.abc import Mapping

from notifications.campaign import RegisteredCampaign, purposes_of
from notifications.directory import DirectoryEntry
from notifications.events import ObjectionRecorded
from notifications.i18n import pick_language
from notifications.internal_events import CampaignObjection


def covering_campaigns(
    registry: Mapping[str, RegisteredCampaign] | None, purpose_id: str, named: str | None
) -> list[str]:
    """The campaigns of ``registry`` about ``purpose_id``, and the one ``named``, sorted."""
    found = {
        campaign_id
        for campaign_id, state in (registry or {}).items()
        if purpose_id in purposes_of(state["change"], state["kind"])
    }
    return sorted(found | ({named} if named else set()))


def campaign_objections(
    event: ObjectionRecorded,
    registry: Mapping[str, RegisteredCampaign] | None,
    entry: DirectoryEntry | None,
) -> list[CampaignObjection]:
    """The ledger records that count ``event`` for each campaign it concerns."""
    user = entry or {}
    locale = user.get("locale")
    return [
        CampaignObjection(
            campaign_id=campaign_id,
            user_id=event.user_id,
            purpose_id=event.purpose_id,
            country=user.get("country"),
            language=pick_language(locale) if locale else None,
            at=event.received_at,
        )
        for campaign_id in covering_campaigns(registry, event.purpose_id, event.campaign_id)
    ]
