"""How a person opens the dashboard: ``/signin`` and ``/signout``.

- ``GET /signin``: the form. Behind a staff proxy (``PREAVIS_TRUSTED_USER_HEADER``
  from an address of ``PREAVIS_TRUSTED_PROXIES``) the header is exchanged for
  a session at once, with the read-only compliance role, and the browser is
  sent to the dashboard.
- ``POST /signin``: the admin token or the compliance token for a session
  cookie (303 to ``/dashboard``); a wrong one answers the form again (401),
  and a client that keeps guessing is shut out (429, :mod:`streams.web.throttle`).
- ``GET /signout`` shows a sign-out button; ``POST /signout`` deletes the cookie.

Both forms are refused (403) unless the browser posts them from this site
(:meth:`streams.web.auth.Authenticator.same_origin`), and the cookie is
``SameSite=Strict``: another site cannot sign someone in or out.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

from aiohttp import web
from faust.web import View

from notifications.signin_page import SignInPage, SignInView
from streams.web.auth import Identity, Role, identity_of
from streams.web.server import authenticator_of

if TYPE_CHECKING:
    from streams.app import PreavisApp
    from streams.wiring import Wiring

logger = logging.getLogger(__name__)

MAX_FORM_BYTES = 4096
ROLE_TEXTS = {
    Role.ADMIN: "with the admin role",
    Role.COMPLIANCE: "with the compliance role (read only)",
}


def described(identity: Identity) -> str:
    """How the page names who is signed in."""
    who = f" as {identity.name}" if identity.name else ""
    return f"{who} {ROLE_TEXTS[identity.role]}".strip()


def register(app: PreavisApp, wiring: Wiring) -> None:
    """Add ``/signin`` and ``/signout``."""
    settings = wiring.settings
    page = SignInPage()
    auth = authenticator_of(app)
    headers = {"Content-Security-Policy": page.content_security_policy}

    def respond(view: SignInView, status: int = 200, **extra: str) -> web.Response:
        return web.Response(
            text=page.render(view, minutes=settings.session_minutes),
            status=status,
            content_type="text/html",
            headers={**headers, **extra},
        )

    def to_dashboard(value: str) -> web.Response:
        response = web.Response(status=303, headers={"Location": "/dashboard"})
        auth.set_cookie(response, value)
        return response

    @app.page("/signin", name="signin")
    class SignInPageView(View):
        async def get(self, request: Any) -> Any:
            identity = identity_of(request)
            if identity is not None and identity.via == "session":
                return respond(SignInView(signed_in=described(identity)))
            user = auth.proxy_user(request)
            if user is not None:
                logger.info("signed in through the staff proxy (role compliance)")
                return to_dashboard(auth.sessions.issue(Role.COMPLIANCE, user[:200]))
            return respond(SignInView())

        async def post(self, request: Any) -> Any:
            if not auth.same_origin(request):
                return web.json_response({"error": "cross-site form refused"}, status=403)
            client = auth.client(request)
            wait = auth.throttle.retry_after(client)
            if wait > 0:
                seconds = max(math.ceil(wait), 1)
                return respond(
                    SignInView(error=f"Too many wrong tokens: try again in {seconds} seconds."),
                    status=429,
                    **{"Retry-After": str(seconds)},
                )
            if (request.content_length or 0) > MAX_FORM_BYTES:
                return web.json_response({"error": "form too large"}, status=413)
            form = await request.post()
            role = auth.role_of_token(str(form.get("token") or "").strip())
            if role is None:
                auth.throttle.failed(client)
                logger.warning("sign-in refused: wrong token")
                return respond(SignInView(error="That token is not right."), status=401)
            auth.throttle.succeeded(client)
            logger.info("signed in with a token (role %s)", role.value)
            return to_dashboard(auth.sessions.issue(role))

    @app.page("/signout", name="signout")
    class SignOutView(View):
        async def get(self, request: Any) -> Any:
            identity = identity_of(request)
            if identity is None or identity.via != "session":
                return web.Response(status=303, headers={"Location": "/signin"})
            return respond(SignInView(signed_in=described(identity)))

        async def post(self, request: Any) -> Any:
            if not auth.same_origin(request):
                return web.json_response({"error": "cross-site form refused"}, status=403)
            response = respond(SignInView(notice="You are signed out."))
            auth.clear_cookie(response)
            return response
