"""Liveness for orchestrators: the worker's web server answers once tables are recovered."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import faust

    from streams.settings import Settings
    from streams.topics import Topics


def register(app: faust.App, topics: Topics, settings: Settings) -> None:
    """Add ``GET /healthz``."""

    @app.page("/healthz", name="healthz")
    async def healthz(self: Any, request: Any) -> Any:
        return self.json({"status": "ok", "app": settings.app_id})
