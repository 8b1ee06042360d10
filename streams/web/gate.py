"""The one door every request goes through: route allowlist, face, identity, headers.

:func:`gate_middleware` answers 404, with no data, for any route that
:data:`streams.web.surface.ROUTES` does not list and for a route of the other
face than the port the request came in on; it identifies the request once
(:class:`streams.web.auth.Authenticator`) and refuses, with 429, a token from
a client that is shut out after failed attempts. :func:`add_security_headers`
runs as the response is prepared, so that every response, a streamed export
or an error included, carries the headers the objection pages send.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from streams.objections.views import SECURITY_HEADERS
from streams.web.auth import BAD_TOKEN, IDENTITY, Authenticator, Identity, bearer_token
from streams.web.surface import face_of, faces_of_port

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: Where nothing else says otherwise (JSON, metrics, 404s): nothing may load, frame or post.
DEFAULT_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
HSTS = "max-age=31536000"


def not_found() -> web.Response:
    """The answer to a path that is not served: the same bytes for every one of them."""
    return web.Response(status=404, text="404: Not Found", content_type="text/plain")


def too_many(retry_after: float) -> web.Response:
    """A client shut out after failed attempts; its token is not even looked at."""
    seconds = max(math.ceil(retry_after), 1)
    return web.json_response(
        {"error": f"too many failed attempts: try again in {seconds} s"},
        status=429,
        headers={"Retry-After": str(seconds)},
    )


def local_port(request: web.Request) -> int | None:
    """The port of this server that the request came in on."""
    transport = request.transport
    sockname = transport.get_extra_info("sockname") if transport is not None else None
    if isinstance(sockname, tuple) and len(sockname) >= 2:
        return int(sockname[1])
    return None


def make_gate_middleware(auth: Authenticator) -> Any:
    """The middleware for one worker's application."""
    settings = auth.settings

    @web.middleware
    async def gate_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        route = request.match_info.route
        face = face_of(route.resource.canonical if route.resource is not None else None)
        port = local_port(request)
        if (
            face is None
            or port is None
            or face not in faces_of_port(port, settings.web_port, settings.admin_port)
        ):
            return not_found()
        given = bearer_token(request)
        if given is not None:
            client = auth.client(request)
            wait = auth.throttle.retry_after(client)
            if wait > 0:
                return too_many(wait)
            role = auth.role_of_token(given)
            if role is None:
                auth.throttle.failed(client)
                request[BAD_TOKEN] = True
            else:
                auth.throttle.succeeded(client)
                request[IDENTITY] = Identity(role, "token")
        else:
            session = auth.session_of(request)
            if session is not None:
                request[IDENTITY] = Identity(session.role, "session", session.name)
        return await handler(request)

    return gate_middleware


def make_security_headers(auth: Authenticator) -> Any:
    """The ``on_response_prepare`` hook that adds the security headers."""
    extra = {"Strict-Transport-Security": HSTS} if auth.secure else {}

    async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
        for name, value in {**SECURITY_HEADERS, **extra}.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Content-Security-Policy", DEFAULT_CSP)
        response.headers["Server"] = "preavis"  # not aiohttp's and Python's versions

    return add_security_headers
