"""Who may use the internal face: tokens for machines, a session cookie for people.

- ``Authorization: Bearer <token>``: the admin token gives the admin role,
  ``PREAVIS_COMPLIANCE_TOKEN`` the read-only compliance role. A wrong token
  counts as a failed sign-in (:mod:`streams.web.throttle`).
- The session cookie that ``POST /signin`` issues (:mod:`streams.web.sessions`).
  For a request that changes something (anything but GET and HEAD) it counts
  only when the request comes from this site (:meth:`Authenticator.same_origin`):
  with ``SameSite=Strict`` that is the CSRF defence.

Tokens are compared in constant time (``hmac.compare_digest``), every
configured token each time, so that response times do not reveal which of
them, nor how much of one, a guess got right. With no token configured,
nothing is an admin.

The middleware (:mod:`streams.web.gate`) identifies each request once and
keeps the result on it; views ask :func:`identity_of` or :func:`is_admin`.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from pydantic import SecretStr

from streams.settings import Settings
from streams.web.proxies import TrustedProxies
from streams.web.sessions import Role, Session, SessionCodec, derive_key
from streams.web.throttle import SignInThrottle

__all__ = ["Authenticator", "Identity", "Role", "bearer_token", "identity_of", "is_admin"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
COOKIE = "preavis_session"
#: With https the cookie's name carries the ``__Host-`` prefix: the browser then
#: refuses it unless it is Secure, for this host only, on every path.
SECURE_COOKIE = "__Host-preavis_session"


@dataclass(frozen=True, slots=True)
class Identity:
    role: Role
    via: str  # "token", "session"
    name: str | None = None


IDENTITY = web.RequestKey("preavis_identity", Identity)
BAD_TOKEN = web.RequestKey("preavis_bad_token", bool)


def bearer_token(request: Any) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = str(header).partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class Authenticator:
    """The tokens, the session codec, the throttle and the proxies of one worker."""

    def __init__(self, settings: Settings, *, throttle: SignInThrottle | None = None) -> None:
        self.settings = settings
        self.tokens: list[tuple[bytes, Role]] = [
            (secret.get_secret_value().encode(), role)
            for secret, role in (
                (settings.admin_token, Role.ADMIN),
                (settings.compliance_token, Role.COMPLIANCE),
            )
            if secret is not None and secret.get_secret_value()
        ]
        key = derive_key(
            settings.require_link_secret().get_secret_value().encode(),
            *(token for token, _ in self.tokens),
        )
        self.sessions = SessionCodec(key, settings.session_minutes * 60)
        self.throttle = throttle or SignInThrottle()
        self.proxies = TrustedProxies(settings.trusted_proxies)
        self.secure = settings.public_url.startswith("https://")
        self.cookie_name = SECURE_COOKIE if self.secure else COOKIE

    def role_of_token(self, given: str) -> Role | None:
        """The role ``given`` grants; every token is compared, in constant time."""
        found: Role | None = None
        for token, role in self.tokens:
            if hmac.compare_digest(given.encode(), token) and found is None:
                found = role
        return found

    def session_of(self, request: Any) -> Session | None:
        """The request's valid session; for a change, only from this site."""
        session = self.sessions.read(request.cookies.get(self.cookie_name))
        if session is None:
            return None
        if request.method not in SAFE_METHODS and not self.same_origin(request):
            return None
        return session

    def proxy_user(self, request: Any) -> str | None:
        """The staff member a trusted reverse proxy names, if any."""
        return self.proxies.forwarded_header(request, self.settings.trusted_user_header)

    def client(self, request: Any) -> str:
        """The client address the throttle counts failures of."""
        return self.proxies.client_address(request)

    def same_origin(self, request: Any) -> bool:
        """Whether a browser sent this request from a page of this site.

        ``Sec-Fetch-Site`` when the browser sends it (every current browser
        does; under ``Referrer-Policy: no-referrer`` Chromium sends
        ``Origin: null`` even for a form of the same site). Else ``Origin``
        (then ``Referer``), whose host must be the one asked (or, from a
        trusted proxy, ``X-Forwarded-Host``) or the public URL's. A request
        with none of them does not come from a browser form of another site:
        browsers send ``Origin`` with every cross-site POST.
        """
        fetch_site = request.headers.get("Sec-Fetch-Site")
        if fetch_site is not None:  # the browser's own word, and it cannot be scripted
            return fetch_site in ("same-origin", "none")
        origin = request.headers.get("Origin") or request.headers.get("Referer")
        if origin is None:
            return True
        if origin == "null":
            return False
        host = urlsplit(origin).netloc.lower()
        allowed = {str(request.host).lower(), urlsplit(self.settings.public_url).netloc.lower()}
        forwarded = self.proxies.forwarded_header(request, "X-Forwarded-Host")
        if forwarded:
            allowed.add(forwarded.split(",")[0].strip().lower())
        return bool(host) and host in allowed

    def set_cookie(self, response: web.StreamResponse, value: str) -> None:
        """Put a session cookie on ``response``: HttpOnly, SameSite=Strict, Secure with https."""
        response.set_cookie(
            self.cookie_name,
            value,
            max_age=self.sessions.lifetime_seconds,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="Strict",
        )

    def clear_cookie(self, response: web.StreamResponse) -> None:
        """Tell the browser to forget the session cookie."""
        response.del_cookie(
            self.cookie_name, path="/", secure=self.secure, httponly=True, samesite="Strict"
        )


def identity_of(request: Any) -> Identity | None:
    """Who the request is, as the gate middleware found it (``None``: nobody)."""
    try:
        found = request.get(IDENTITY)
    except AttributeError:
        return None
    return found if isinstance(found, Identity) else None


def may(request: Any, needed: Role) -> bool:
    """Whether the request's identity covers ``needed``."""
    identity = identity_of(request)
    return identity is not None and identity.role.may(needed)


def is_admin(request: Any, credentials: Settings | SecretStr | None) -> bool:
    """Whether ``request`` may act as an admin.

    With the settings: the identity the gate found (an admin token, or an
    admin's session from this site). With a bare token (older callers, unit
    tests without the gate): whether the request's bearer token is it.
    """
    if isinstance(credentials, Settings):
        if identity_of(request) is not None:
            return may(request, Role.ADMIN)
        credentials = credentials.admin_token
    given = bearer_token(request)
    if credentials is None or given is None:
        return False
    expected = credentials.get_secret_value()
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())
