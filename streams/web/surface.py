"""Which route the worker serves, and on which face.

preavis has two faces. The **public** one (the objection pages and the
Art. 21(5) API) faces the internet; the **internal** one (the compliance API,
the dashboard and its sign-in, metrics, health) is for staff and machines.
With ``PREAVIS_ADMIN_PORT`` set the internal face listens on that port alone
and the public port serves only the public face; without it both share
``PREAVIS_WEB_PORT``.

:data:`ROUTES` is an allowlist: a route that is not in it answers 404 even if
something registered it (a Faust built-in page, a view added without
thinking about where it belongs). A unit test keeps it equal to the views the
app registers, so that a new view cannot be served, or forgotten, silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class Face(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"


#: Every route pattern served, as ``@app.page`` registers it, and its face.
ROUTES: Mapping[str, Face] = MappingProxyType(
    {
        "/o/{token}": Face.PUBLIC,
        "/object": Face.PUBLIC,
        # POST only (GET answers 405); its admin variant checks the role itself
        "/api/v1/objections": Face.PUBLIC,
        "/api/v1/campaigns": Face.INTERNAL,
        "/api/v1/campaigns/{campaign_id}": Face.INTERNAL,
        "/api/v1/users/{user_id}/notices": Face.INTERNAL,
        "/api/v1/exclusions": Face.INTERNAL,
        "/dashboard": Face.INTERNAL,
        "/signin": Face.INTERNAL,
        "/signout": Face.INTERNAL,
        "/metrics": Face.INTERNAL,
        "/healthz": Face.INTERNAL,
    }
)


def face_of(route_pattern: str | None) -> Face | None:
    """The face a route belongs to, or ``None`` when it must not be served."""
    if route_pattern is None:
        return None
    return ROUTES.get(route_pattern)


def faces_of_port(port: int, web_port: int, admin_port: int | None) -> frozenset[Face]:
    """What a listening port serves: both faces without an admin port, else one each."""
    if admin_port is None:
        return frozenset(Face) if port == web_port else frozenset()
    if port == admin_port:
        return frozenset({Face.INTERNAL})
    if port == web_port:
        return frozenset({Face.PUBLIC})
    return frozenset()
