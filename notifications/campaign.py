"""A published change seen as a campaign: its id, purposes, start and audience.

Works on the change as JSON (a dict), the form in which it travels on the
internal fan-out topic, so that every partition reads the same text.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from notifications.audience import AudienceRules

Kind = Literal["purpose", "terms"]


def campaign_id(change: Mapping[str, Any], kind: Kind) -> str:
    """``purpose:{purpose_id}:v{version}`` or ``terms:{document_id}:{version}``."""
    if kind == "purpose":
        return f"purpose:{change['purpose_id']}:v{change['version']}"
    return f"terms:{change['document_id']}:{change['version']}"


def start_of(change: Mapping[str, Any], kind: Kind) -> datetime:
    """When processing starts (purpose) or the new terms apply."""
    return _as_datetime(change["starts_at" if kind == "purpose" else "effective_at"])


def purposes_of(change: Mapping[str, Any], kind: Kind) -> list[str]:
    """The purposes an objection to this campaign covers."""
    if kind == "purpose":
        return [str(change["purpose_id"])]
    return [str(p) for p in change.get("purposes_added") or ()]


def rules_of(change: Mapping[str, Any], kind: Kind) -> AudienceRules:
    """The campaign's audience rules, prepared for many decisions."""
    audience = change.get("audience") or {}
    return AudienceRules.build(
        countries=audience.get("countries"),
        min_age=audience.get("min_age"),
        account_types=audience.get("account_types"),
        data_categories=audience.get("data_categories"),
        starts_at=start_of(change, kind),
    )


def _as_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
