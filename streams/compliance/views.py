"""The compliance team's API and dashboard (the compliance role or the admin role).

- ``GET /api/v1/campaigns``: every campaign with its status and counts;
- ``GET /api/v1/campaigns/{campaign_id}``: one campaign;
- ``GET /api/v1/users/{user_id}/notices``: proof of notice, read from
  ``notices.delivery`` (the user's partition): for each campaign the last
  status, the Message-ID and the SHA-256 of what was said, with every attempt;
- ``GET /dashboard``: the page a compliance officer keeps open; a person not
  signed in is sent to ``/signin`` (:mod:`streams.web.signin_views`, which
  this domain registers too).

What each answers is in :mod:`streams.compliance.handlers`; this module
checks the role, reads the user's partition and speaks HTTP.

Each view asks :func:`streams.web.auth.may` for the read-only compliance role,
which the admin role covers: a bearer token or a signed-in session.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from aiokafka import TopicPartition
from faust.web import View

from notifications import topic_names as names
from notifications.dashboard import DashboardRenderer
from streams import kafka
from streams.compliance.handlers import (
    CompliancePorts,
    NoticeRecord,
    campaign_summaries,
    campaign_summary,
    user_notices,
)
from streams.publish import partition_for
from streams.web import signin_views
from streams.web.auth import Role, bearer_token, may

if TYPE_CHECKING:
    from streams.app import PreavisApp
    from streams.settings import Settings
    from streams.wiring import Wiring

UNAUTHORIZED = {
    "error": "unauthorized: send Authorization: Bearer <PREAVIS_ADMIN_TOKEN or "
    "PREAVIS_COMPLIANCE_TOKEN>, or sign in at /signin"
}


async def notices_of(settings: Settings, user_id: str) -> list[NoticeRecord]:
    """Every ``notice.delivery`` of ``user_id``, oldest first, from the user's partition."""
    key = user_id.encode()
    tp = TopicPartition(names.TOPIC_DELIVERY, partition_for(key, settings.topic_partitions))
    found: list[NoticeRecord] = []
    async for fetch in kafka.read_to_end(settings, [tp]):
        for records in fetch.records.values():
            found.extend(json.loads(r.value) for r in records if r.key == key and r.value)
    return found


def register(app: PreavisApp, wiring: Wiring) -> None:
    """Add the compliance API, the dashboard and its sign-in."""
    settings = wiring.settings
    signin_views.register(app, wiring)
    ports = CompliancePorts(
        campaigns=wiring.campaign_documents.documents,
        notices_of=partial(notices_of, settings),
        clock=lambda: datetime.now(UTC),
        deadline_risk_days=settings.deadline_risk_days,
    )
    dashboard = DashboardRenderer()

    @app.page("/api/v1/campaigns", name="api_campaigns")
    class CampaignsView(View):
        async def get(self, request: Any) -> Any:
            if not may(request, Role.COMPLIANCE):
                return self.json(UNAUTHORIZED, status=401)
            return self.json({"campaigns": campaign_summaries(ports)})

    @app.page("/api/v1/campaigns/{campaign_id}", name="api_campaign")
    class CampaignView(View):
        async def get(self, request: Any, campaign_id: str) -> Any:
            if not may(request, Role.COMPLIANCE):
                return self.json(UNAUTHORIZED, status=401)
            found = campaign_summary(ports, campaign_id)
            if found is None:
                return self.json({"error": f"no campaign {campaign_id!r}"}, status=404)
            return self.json(found)

    @app.page("/api/v1/users/{user_id}/notices", name="api_user_notices")
    class UserNoticesView(View):
        async def get(self, request: Any, user_id: str) -> Any:
            if not may(request, Role.COMPLIANCE):
                return self.json(UNAUTHORIZED, status=401)
            return self.json(await user_notices(ports, user_id))

    @app.page("/dashboard", name="dashboard")
    class DashboardView(View):
        async def get(self, request: Any) -> Any:
            if not may(request, Role.COMPLIANCE):
                if bearer_token(request) is not None:  # a machine with a wrong token
                    return self.json(UNAUTHORIZED, status=401)
                return self.text("", status=303, headers={"Location": "/signin"})
            page = dashboard.render(campaign_summaries(ports), now=ports.clock())
            return self.html(
                page,
                headers={
                    "Cache-Control": "no-store",
                    "Content-Security-Policy": dashboard.content_security_policy,
                },
            )
