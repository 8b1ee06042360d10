"""Signed objection tokens: what a ``/o/{token}`` link carries, tamper-evident.

A token is ``1.{payload}.{tag}``:

- ``1`` is the format and key version, so that a later key or format can be
  told apart (and the old one still verified while its links are out).
- ``payload`` is base64url (no padding) of the claims as UTF-8 joined with
  NUL: ``user_id NUL campaign_id NUL language NUL purpose [NUL purpose...]``,
  an empty ``campaign_id`` standing for None. The language is the notice's,
  so that the objection pages speak it on any worker without a lookup.
  That is about half the size of JSON with short keys; NUL cannot occur in
  a field (refused on signing), so the split is unambiguous. The payload is
  not secret (user ids are pseudonymous).
- ``tag`` is base64url of HMAC-SHA256(secret, ``preavis-objection NUL 1.{payload}``)
  truncated to 128 bits: forging one means guessing 2**128 values. The MAC
  covers the version and the payload *as written*, and the tag is compared
  as written (:func:`hmac.compare_digest`), so no other spelling of the same
  bytes verifies (base64's spare low bits included). Verification checks the
  tag before it decodes anything.

Every character is in ``[A-Za-z0-9_.-]``: nothing to escape in a URL path.
For user ``u-000123``, purpose ``ai-training`` and campaign
``purpose:ai-training:v1`` the token is under 90 characters long.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from notifications.errors import PreavisError

__all__ = [
    "InvalidToken",
    "TokenClaims",
    "WeakSecret",
    "objection_url",
    "sign_token",
    "verify_token",
]

VERSION = "1"
MAX_TOKEN_LENGTH = 1024
MIN_SECRET_BYTES = 16
_TAG_BYTES = 16
_CONTEXT = b"preavis-objection\x00"  # keeps these MACs apart from any other use of the key


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """Who objects, to which purposes, from which campaign's notice (if any)."""

    user_id: str
    purposes: tuple[str, ...]
    campaign_id: str | None
    language: str = "en"


class InvalidToken(PreavisError, ValueError):
    """A token that is forged, tampered with, malformed, of another key or version."""


class WeakSecret(PreavisError, ValueError):
    """A signing secret shorter than 16 bytes."""


def _check_secret(secret: bytes) -> None:
    if len(secret) < MIN_SECRET_BYTES:
        raise WeakSecret(f"the link secret must be at least {MIN_SECRET_BYTES} bytes")


def _tag(secret: bytes, signed: str) -> str:
    digest = hmac.new(secret, _CONTEXT + signed.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:_TAG_BYTES]).rstrip(b"=").decode("ascii")


def sign_token(secret: bytes, claims: TokenClaims) -> str:
    """The token for ``claims``; ValueError for claims a token cannot carry."""
    _check_secret(secret)
    fields = [claims.user_id, claims.campaign_id or "", claims.language, *claims.purposes]
    if not claims.user_id or not claims.purposes or not all(claims.purposes):
        raise ValueError(f"a token needs a user and at least one purpose: {claims!r}")
    if claims.campaign_id == "" or any("\x00" in field for field in fields):
        raise ValueError(f"empty campaign_id or NUL in a claim: {claims!r}")
    payload = base64.urlsafe_b64encode("\x00".join(fields).encode()).rstrip(b"=").decode()
    signed = f"{VERSION}.{payload}"
    return f"{signed}.{_tag(secret, signed)}"


def verify_token(secret: bytes, token: str) -> TokenClaims:
    """The claims of a genuine token; :class:`InvalidToken` for anything else."""
    _check_secret(secret)
    if len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise InvalidToken("not a token")
    signed, _, tag = token.rpartition(".")
    version, _, payload = signed.partition(".")
    if version != VERSION or not payload:
        raise InvalidToken("not a token of this version")
    if not hmac.compare_digest(_tag(secret, signed), tag):
        raise InvalidToken("bad signature")
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        user_id, campaign_id, language, *purposes = raw.decode("utf-8").split("\x00")
    except ValueError as exc:  # binascii.Error, UnicodeDecodeError, too few fields
        raise InvalidToken("malformed payload") from exc
    if not user_id or not purposes or not all(purposes):
        raise InvalidToken("malformed payload")
    return TokenClaims(user_id, tuple(purposes), campaign_id or None, language or "en")


def objection_url(public_url: str, token: str) -> str:
    """``{public_url}/o/{token}``, whether or not ``public_url`` ends with a slash."""
    return f"{public_url.rstrip('/')}/o/{token}"
