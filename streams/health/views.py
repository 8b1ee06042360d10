"""Liveness for orchestrators: the worker's web server answers once tables are recovered.

This domain comes first in ``streams.app.DOMAINS`` and also installs the
worker's own web server (:mod:`streams.web.server`): Faust starts it after
table recovery, which is what makes ``/healthz`` mean ready. ``/healthz`` is
on the internal face: with ``PREAVIS_ADMIN_PORT`` set, probe that port.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from streams.web import server

if TYPE_CHECKING:
    from streams.app import PreavisApp
    from streams.wiring import Wiring


def register(app: PreavisApp, wiring: Wiring) -> None:
    """Install the web server and add ``GET /healthz``."""
    settings = wiring.settings
    server.register(app, wiring)

    @app.page("/healthz", name="healthz")
    async def healthz(self: Any, request: Any) -> Any:
        return self.json({"status": "ok", "app": settings.app_id})
