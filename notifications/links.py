"""Signed objection tokens: what a ``/o/{token}`` link carries, tamper-evident.

A token is ``2.{kid}.{payload}.{tag}``:

- ``2`` is the format version; ``1`` is the earlier format without a key id
  (``1.{payload}.{tag}``), still verified so that links already emailed keep
  working, never signed any more.
- ``kid`` names the key that signed: base64url of the first 6 bytes of
  HMAC-SHA256(key, ``preavis-key-id``), 8 characters. It is derived from the
  key, so nothing has to be configured twice; it tells nothing about the key
  (HMAC is a PRF) and forging a token still needs the key itself. A worker
  verifies with the key whose id the token names, among
  ``PREAVIS_LINK_SECRET`` (the one that signs) and ``PREAVIS_LINK_SECRETS_OLD``
  (still accepted): keys rotate without breaking the links in people's inboxes.
- ``payload`` is base64url (no padding) of the claims as UTF-8 joined with
  NUL: ``user_id NUL campaign_id NUL language NUL purpose [NUL purpose...]``,
  an empty ``campaign_id`` standing for None. The language is the notice's,
  so that the objection pages speak it on any worker without a lookup.
  That is about half the size of JSON with short keys; NUL cannot occur in
  a field (refused on signing), so the split is unambiguous. The payload is
  not secret (user ids are pseudonymous).
- ``tag`` is base64url of HMAC-SHA256(key, ``preavis-objection NUL 2.{kid}.{payload}``)
  truncated to 128 bits: forging one means guessing 2**128 values. The MAC
  covers the version, the key id and the payload *as written*, and the tag is
  compared as written (:func:`hmac.compare_digest`), so no other spelling of
  the same bytes verifies (base64's spare low bits included). Verification
  checks the tag before it decodes anything.

Every character is in ``[A-Za-z0-9_.-]``: nothing to escape in a URL path.
For user ``u-000123``, purpose ``ai-training`` and campaign
``purpose:ai-training:v1`` the token is under 100 characters long.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field

from notifications.errors import InvalidToken, WeakSecret

__all__ = [
    "InvalidToken",
    "LinkKeys",
    "TokenClaims",
    "WeakSecret",
    "key_id",
    "objection_url",
    "sign_token",
    "verify_token",
]

VERSION = "2"
LEGACY_VERSION = "1"
MAX_TOKEN_LENGTH = 1024
MIN_SECRET_BYTES = 16
"""The floor of any key; production asks for 32 (:mod:`streams.safety`)."""
_TAG_BYTES = 16
_KID_BYTES = 6  # 8 base64 characters, no spare bits
_CONTEXT = b"preavis-objection\x00"  # keeps these MACs apart from any other use of the key
_KID_CONTEXT = b"preavis-key-id"


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """Who objects, to which purposes, from which campaign's notice (if any)."""

    user_id: str
    purposes: tuple[str, ...]
    campaign_id: str | None
    language: str = "en"


def _check_secret(secret: bytes) -> None:
    if len(secret) < MIN_SECRET_BYTES:
        raise WeakSecret(f"the link secret must be at least {MIN_SECRET_BYTES} bytes")


def key_id(secret: bytes) -> str:
    """The public name of a key: 8 URL-safe characters derived from it."""
    digest = hmac.new(secret, _KID_CONTEXT, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:_KID_BYTES]).decode("ascii")


@dataclass(frozen=True, slots=True)
class LinkKeys:
    """The key that signs links and the earlier keys that still verify them.

    ``signing`` is ``PREAVIS_LINK_SECRET``; ``previous`` are the entries of
    ``PREAVIS_LINK_SECRETS_OLD``. Rotating is: the new key signs, the old one
    moves to ``previous`` until the last link it signed no longer matters.
    """

    signing: bytes = field(repr=False)
    previous: tuple[bytes, ...] = field(default=(), repr=False)
    signing_id: str = field(init=False)
    _by_id: dict[str, tuple[bytes, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id: dict[str, tuple[bytes, ...]] = {}
        for secret in self.verifying:
            _check_secret(secret)
            kid = key_id(secret)
            by_id[kid] = (*by_id.get(kid, ()), secret)  # a 48-bit collision: try both
        object.__setattr__(self, "signing_id", key_id(self.signing))
        object.__setattr__(self, "_by_id", by_id)

    @classmethod
    def of(cls, keys: LinkKeys | bytes) -> LinkKeys:
        """``keys`` itself, or one key alone (callers that never rotate, tests)."""
        return keys if isinstance(keys, LinkKeys) else cls(keys)

    @property
    def verifying(self) -> tuple[bytes, ...]:
        """Every key that verifies, the signing one first."""
        return (self.signing, *self.previous)

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The ids of :attr:`verifying`, in the same order (safe to log)."""
        return tuple(key_id(secret) for secret in self.verifying)

    def named(self, kid: str) -> tuple[bytes, ...]:
        """The keys whose id is ``kid`` (none for an unknown id)."""
        return self._by_id.get(kid, ())


def _tag(secret: bytes, signed: str) -> str:
    digest = hmac.new(secret, _CONTEXT + signed.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:_TAG_BYTES]).rstrip(b"=").decode("ascii")


def sign_token(keys: LinkKeys | bytes, claims: TokenClaims) -> str:
    """The token for ``claims``, signed with the signing key; ValueError for bad claims."""
    ring = LinkKeys.of(keys)
    fields = [claims.user_id, claims.campaign_id or "", claims.language, *claims.purposes]
    if not claims.user_id or not claims.purposes or not all(claims.purposes):
        raise ValueError(f"a token needs a user and at least one purpose: {claims!r}")
    if claims.campaign_id == "" or any("\x00" in field for field in fields):
        raise ValueError(f"empty campaign_id or NUL in a claim: {claims!r}")
    payload = base64.urlsafe_b64encode("\x00".join(fields).encode()).rstrip(b"=").decode()
    signed = f"{VERSION}.{ring.signing_id}.{payload}"
    return f"{signed}.{_tag(ring.signing, signed)}"


def verify_token(keys: LinkKeys | bytes, token: str) -> TokenClaims:
    """The claims of a genuine token; :class:`InvalidToken` for anything else.

    A version 2 token is checked with the key its id names; a version 1 token
    (no id, signed before keys rotated) with each key in turn.
    """
    ring = LinkKeys.of(keys)
    if len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise InvalidToken("not a token")
    signed, _, tag = token.rpartition(".")
    version, _, rest = signed.partition(".")
    candidates: Iterable[bytes]
    if version == VERSION:
        kid, _, payload = rest.partition(".")
        candidates = ring.named(kid)
    elif version == LEGACY_VERSION:
        payload, candidates = rest, ring.verifying
    else:
        raise InvalidToken("not a token of a known version")
    if not payload:
        raise InvalidToken("not a token")
    if not any(hmac.compare_digest(_tag(secret, signed), tag) for secret in candidates):
        raise InvalidToken("bad signature or unknown key")
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
