"""The session cookie of a person signed in to the dashboard: signed, short-lived, stateless.

The cookie holds its role, the person's name when a trusted proxy gave one,
its expiry and a random nonce, signed with HMAC-SHA256. Nothing is stored on
the worker, so any worker of the group accepts a cookie another one issued.
The key is derived from the link secret and both access tokens: changing a
token ends every session made with the old one.

Signing out deletes the cookie from the browser; a copy taken before stays
valid until it expires (``PREAVIS_SESSION_MINUTES``, 30 by default), the
price of needing no shared store.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

VERSION = 1


class Role(StrEnum):
    """What a signed-in person or a token may do."""

    #: read only: the dashboard, campaign reports, proof of notice, exclusion exports
    COMPLIANCE = "compliance"
    #: also acts: objections on someone's behalf, withdrawals
    ADMIN = "admin"

    def may(self, needed: Role) -> bool:
        """Whether this role covers ``needed`` (admin covers compliance)."""
        return self is Role.ADMIN or needed is Role.COMPLIANCE


@dataclass(frozen=True, slots=True)
class Session:
    role: Role
    expires_at: int  # Unix time, seconds
    name: str | None = None  # from the staff proxy's header; None for a token


def derive_key(link_secret: bytes, *tokens: bytes) -> bytes:
    """The sessions' HMAC key: rotating any of its inputs ends every session."""
    material = b"\0".join((b"preavis-session-v1", *tokens))
    return hmac.new(link_secret, material, hashlib.sha256).digest()


class SessionCodec:
    """Issues and reads session cookie values, on an injected clock."""

    def __init__(
        self, key: bytes, lifetime_seconds: int, *, clock: Callable[[], float] = time.time
    ) -> None:
        if len(key) < 16:
            raise ValueError("the session key must be at least 16 bytes")
        self._key = key
        self.lifetime_seconds = lifetime_seconds
        self._clock = clock

    def issue(self, role: Role, name: str | None = None) -> str:
        """A new cookie value for ``role``, valid for the lifetime."""
        payload = {
            "v": VERSION,
            "r": role.value,
            "exp": int(self._clock()) + self.lifetime_seconds,
            "n": secrets.token_urlsafe(12),
            "u": name,
        }
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        return f"{body}.{self._mac(body)}"

    def read(self, value: str | None) -> Session | None:
        """The session of a cookie value; ``None`` when forged, tampered, expired or malformed."""
        if not value or len(value) > 4096:
            return None
        body, dot, mac = value.partition(".")
        if not dot or not hmac.compare_digest(mac.encode(), self._mac(body).encode()):
            return None
        try:
            payload = json.loads(_unb64(body))
            role = Role(payload["r"])
            expires_at = int(payload["exp"])
            name = payload.get("u")
        except (ValueError, KeyError, TypeError):
            return None
        if payload.get("v") != VERSION or expires_at <= self._clock():
            return None
        return Session(role, expires_at, name if isinstance(name, str) else None)

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
