"""When a running campaign deserves an alert: pure rules over its summary.

- ``deadline_at_risk``: not everyone in the audience has a final outcome and
  the start date is less than ``PREAVIS_DEADLINE_RISK_DAYS`` away (or passed):
  people may be processed before they were told.
- ``delivery_failures``: failed plus bounced notices reach
  ``PREAVIS_FAILURE_ALERT_RATIO`` of the decided ones (with at least 10
  decided, so that one bounce among three is not an alarm).

Each is raised once per campaign (the ledger remembers it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:  # notifications.events imports the requirements, which import this
    from notifications.campaign_status import CampaignSummary
    from notifications.events import Severity

MIN_DECIDED_FOR_FAILURE_ALERT = 10


class AlertBody(TypedDict):
    """A ``compliance.alert`` without its ``campaign_id`` and ``at`` (the sender adds them)."""

    severity: Severity
    code: str
    message: str
    details: dict[str, object]


def due_alerts(summary: CampaignSummary, failure_ratio: float) -> list[AlertBody]:
    """The alerts ``summary`` calls for that were not raised yet."""
    if summary["status"] != "running":
        return []
    raised = set(summary["alerts"])
    alerts: list[AlertBody] = []
    if summary["deadline_at_risk"] and "deadline_at_risk" not in raised:
        days = summary["time_left_seconds"] / 86400
        alerts.append(
            {
                "severity": "critical",
                "code": "deadline_at_risk",
                "message": f"{summary['campaign_id']}: {summary['deferred']} notice(s) not yet "
                f"delivered and processing starts in {days:.1f} day(s)",
                "details": {
                    "starts_at": summary["starts_at"],
                    "deferred": summary["deferred"],
                    "audience": summary["audience"],
                },
            }
        )
    failures = summary["failed"] + summary["bounced"]
    decided = failures + summary["sent"]
    if (
        "delivery_failures" not in raised
        and decided >= MIN_DECIDED_FOR_FAILURE_ALERT
        and failures / decided >= failure_ratio
    ):
        alerts.append(
            {
                "severity": "warning",
                "code": "delivery_failures",
                "message": f"{summary['campaign_id']}: {failures} of {decided} notices "
                "failed or bounced",
                "details": {
                    "failed": summary["failed"],
                    "bounced": summary["bounced"],
                    "sent": summary["sent"],
                    "ratio": round(failures / decided, 4),
                },
            }
        )
    return alerts
