"""Email addresses as keyed hashes: the one place an address is normalized and hashed.

An address is personal data, and so is its plain SHA-256: anyone can hash a
list of known addresses and match them (a dictionary attack takes seconds).
Wherever preavis must recognise an address without keeping it (the ``/object``
flow's pseudonymous user id, the index from an address to its account, the
``/object`` limits), it uses HMAC-SHA256 under a key of its own.

The index key is derived from a link secret with a label of its own
(HMAC(secret, ``preavis-address-index NUL v1``)), so that an index digest is
never a valid MAC of anything else signed with that secret (links), and the
secret itself never leaves :mod:`notifications.links` and this module.
A rotated link secret gives another index key: :func:`index_keys` derives one
per secret, the current one first, so that tokens signed before a rotation
still find their account.

The one exception is the suppression list of bounced addresses
(:func:`suppression_digest`), a plain SHA-256 of the normalized address: it is
kept as it is so that its stored entries keep matching, and defined here only,
for every place that writes or checks one. It should move to a keyed hash
with a migration.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

__all__ = [
    "PSEUDONYM_PREFIX",
    "address_digest",
    "derive_key",
    "digest_of_pseudonym",
    "index_keys",
    "normalize_address",
    "pseudonymous_user_id",
    "suppression_digest",
]

#: The user id of someone known only by an address (the ``/object`` flow).
PSEUDONYM_PREFIX = "email-hmac:"
_INDEX_LABEL = b"preavis-address-index\x00v1"
_DIGEST_HEX = 64


def normalize_address(address: str) -> str:
    """The form two spellings of one address share: trimmed, lower case."""
    return address.strip().lower()


def derive_key(secret: bytes, label: bytes = _INDEX_LABEL) -> bytes:
    """A key for one use of ``secret``, apart from every other (domain separation)."""
    return hmac.new(secret, label, hashlib.sha256).digest()


def index_keys(secrets: Iterable[bytes]) -> tuple[bytes, ...]:
    """The index key of each link secret, in the order given (the current one first)."""
    return tuple(derive_key(secret) for secret in secrets)


def address_digest(key: bytes, address: str) -> str:
    """HMAC-SHA256 of the normalized address, hex."""
    return hmac.new(key, normalize_address(address).encode(), hashlib.sha256).hexdigest()


def suppression_digest(address: str) -> str:
    """How the suppression list remembers a bounced address without keeping it (plain SHA-256).

    Unkeyed, unlike :func:`address_digest`, because the suppression entries
    already stored hold this digest: changing it needs a migration.
    """
    return hashlib.sha256(normalize_address(address).encode()).hexdigest()


def pseudonymous_user_id(key: bytes, address: str) -> str:
    """``email-hmac:<digest>``: who objects through ``/object``, without the address."""
    return PSEUDONYM_PREFIX + address_digest(key, address)


def digest_of_pseudonym(user_id: str) -> str | None:
    """The digest in a pseudonymous user id; None for any other user id."""
    if not user_id.startswith(PSEUDONYM_PREFIX):
        return None
    digest = user_id[len(PSEUDONYM_PREFIX) :]
    if len(digest) != _DIGEST_HEX or any(c not in "0123456789abcdef" for c in digest):
        return None
    return digest
