"""The worker's HTTP server: preavis's own, on the addresses configured, and nothing of Faust's.

Faust's legacy web server binds ``web_bind`` (all interfaces by default, not
``web_host``) and mounts its built-in pages: ``/table/{name}/{key}/`` answers
any table's rows, personal data included, ``/router/`` the cluster's layout,
``/`` a status page. This server replaces it (``App.web_server``), so that
Faust never starts its own and never applies those blueprints. It serves the
same aiohttp application the ``@app.page`` views are registered on:

- on ``PREAVIS_WEB_HOST:PREAVIS_WEB_PORT``, and
- with ``PREAVIS_ADMIN_PORT``, on ``PREAVIS_ADMIN_HOST:PREAVIS_ADMIN_PORT`` too,
  a second site of the same runner; :mod:`streams.web.gate` then serves each
  route only on the port of its face.

Faust starts it once the tables are recovered, so ``/healthz`` answering
means the worker is ready.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web
from mode import Service

from streams.web.auth import Authenticator
from streams.web.gate import make_gate_middleware, make_security_headers

if TYPE_CHECKING:
    from streams.app import PreavisApp
    from streams.settings import Settings
    from streams.wiring import Wiring

AUTHENTICATOR = web.AppKey("preavis_authenticator", Authenticator)


def aiohttp_application(app: PreavisApp) -> web.Application:
    """The aiohttp application Faust's ``@app.page`` registers views on."""
    application: web.Application = getattr(app.web, "web_app")  # noqa: B009 (driver attribute)
    return application


def authenticator_of(app: PreavisApp) -> Authenticator:
    """The worker's one authenticator (tokens, sessions, throttle), made on first use."""
    application = aiohttp_application(app)
    if AUTHENTICATOR not in application:
        application[AUTHENTICATOR] = Authenticator(app.preavis.settings)
    return application[AUTHENTICATOR]


class WebServer(Service):
    """Serves the application on the public site and, when configured, the admin site."""

    def __init__(self, application: web.Application, settings: Settings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.application = application
        self.settings = settings
        self.runner: web.AppRunner | None = None

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """Where it listens: the web port, then the admin port if any."""
        found = [(self.settings.web_host, self.settings.web_port)]
        if self.settings.admin_port is not None:
            found.append((self.settings.admin_host, self.settings.admin_port))
        return found

    def get_web_url(self) -> str:
        """What Faust's banner shows."""
        host, port = self.addresses[0]
        return f"http://{host}:{port}/"

    async def on_start(self) -> None:
        self.runner = web.AppRunner(self.application, access_log=None, handle_signals=False)
        await self.runner.setup()
        for host, port in self.addresses:
            await web.TCPSite(self.runner, host, port).start()
            self.log.info("Serving %s on %s:%s", "HTTP", host, port)

    async def on_stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


def register(app: PreavisApp, wiring: Wiring) -> None:
    """Install the gate and the headers, and make this the worker's web server."""
    settings = wiring.settings
    if settings.admin_port is not None and settings.admin_port == settings.web_port:
        raise ValueError("PREAVIS_ADMIN_PORT must differ from PREAVIS_WEB_PORT")
    application = aiohttp_application(app)
    auth = authenticator_of(app)
    application.middlewares.append(make_gate_middleware(auth))
    application.on_response_prepare.append(make_security_headers(auth))
    app.web_server(WebServer(application, settings))
