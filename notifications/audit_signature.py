"""Ed25519 signatures of audit exports: who made the file, and that it is unchanged since.

The hash chain of :mod:`notifications.audit` has no key: it proves that a file
is internally consistent, but anyone who rewrites the whole file can compute
a new, consistent chain. A signature closes that gap: made with a private key
that only the exporter holds, it can be checked by anyone with the public key,
and no one without the private key can sign a rewritten file.

Pure: bytes in, bytes out, no files (``streams.compliance.audit_signing`` reads and
writes them). The signature is *detached*, in ``FILE.sig``, one line of
canonical JSON (:func:`notifications.audit.canonical`)::

    {"algorithm":"ed25519","file_sha256":…,"format":"preavis-audit-signature-v1",
     "public_key_sha256":…,"signature":"<base64, 64 bytes>"}

``signature`` is the Ed25519 signature of the export file's exact bytes, so
it can be checked without preavis::

    jq -r .signature FILE.sig | base64 -d > FILE.sig.bin
    openssl pkeyutl -verify -pubin -inkey PUB.pem -rawin -in FILE -sigfile FILE.sig.bin

``file_sha256`` and ``public_key_sha256`` are not signed: they only let a
failed check say *why* it failed (the file changed, or another key signed it).
The verdict itself rests on the signature alone.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from notifications.audit import canonical
from notifications.errors import SignatureError

SIGNATURE_FORMAT = "preavis-audit-signature-v1"
ALGORITHM = "ed25519"
_SIGNATURE_BYTES = 64


@dataclass(frozen=True)
class KeyPair:
    """A new key pair as PEM: the private key (PKCS#8, unencrypted) and the public key."""

    private_pem: bytes
    public_pem: bytes
    fingerprint: str


@dataclass(frozen=True)
class SignatureCheck:
    """The verdict of :func:`check`: ``ok``, and in words what it means or what is wrong."""

    ok: bool
    message: str
    fingerprint: str  # of the public key the check used


def generate() -> KeyPair:
    """A fresh Ed25519 key pair (what ``openssl genpkey -algorithm ed25519`` makes)."""
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return KeyPair(private_pem, public_pem(key.public_key()), fingerprint(key.public_key()))


def public_pem(key: Ed25519PublicKey) -> bytes:
    """``key`` as a PEM ``PUBLIC KEY`` (SubjectPublicKeyInfo), as ``openssl pkey -pubout``."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def fingerprint(key: Ed25519PublicKey) -> str:
    """``sha256:`` and the hex SHA-256 of the raw 32-byte public key: a key's short name."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def load_private_key(pem: bytes, source: str) -> Ed25519PrivateKey:
    """The Ed25519 private key in ``pem`` (``source`` names it in errors)."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except TypeError as exc:  # encrypted
        raise SignatureError(
            f"{source} is an encrypted key: preavis reads an unencrypted PKCS#8 PEM key "
            "(keep it in a file only the exporter can read, mode 600)"
        ) from exc
    except ValueError as exc:
        raise SignatureError(f"{source} is not a PEM private key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError(
            f"{source} is not an Ed25519 key (make one with "
            "`preavis audit keygen` or `openssl genpkey -algorithm ed25519`)"
        )
    return key


def load_public_key(pem: bytes, source: str) -> Ed25519PublicKey:
    """The Ed25519 public key in ``pem``; a private key is accepted and its public half used."""
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        private = _try_private(pem)
        if private is None:
            raise SignatureError(f"{source} is not a PEM Ed25519 public key") from None
        return private.public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise SignatureError(f"{source} is not an Ed25519 public key")
    return key


def _try_private(pem: bytes) -> Ed25519PrivateKey | None:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (TypeError, ValueError):
        return None
    return key if isinstance(key, Ed25519PrivateKey) else None


def sign(data: bytes, key: Ed25519PrivateKey) -> bytes:
    """The signature file (one canonical JSON line) of the export file's bytes ``data``."""
    record = {
        "algorithm": ALGORITHM,
        "file_sha256": hashlib.sha256(data).hexdigest(),
        "format": SIGNATURE_FORMAT,
        "public_key_sha256": fingerprint(key.public_key()),
        "signature": base64.b64encode(key.sign(data)).decode("ascii"),
    }
    return (canonical(record) + "\n").encode("utf-8")


def check(data: bytes, signature_file: bytes, key: Ed25519PublicKey) -> SignatureCheck:
    """Whether ``signature_file`` is a signature of exactly ``data`` by ``key``, and why not."""
    mine = fingerprint(key)
    try:
        record = json.loads(signature_file.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return SignatureCheck(False, "the signature file is not a preavis signature", mine)
    if not isinstance(record, dict) or record.get("format") != SIGNATURE_FORMAT:
        return SignatureCheck(False, "the signature file is not a preavis signature", mine)
    if record.get("algorithm") != ALGORITHM:
        return SignatureCheck(
            False, f"unsupported signature algorithm {record.get('algorithm')!r}", mine
        )
    raw = _signature_bytes(record.get("signature"))
    if raw is None:
        return SignatureCheck(
            False, "the signature was altered (it is not a 64-byte Ed25519 signature)", mine
        )
    try:
        key.verify(raw, data)
    except InvalidSignature:
        return SignatureCheck(False, _why_not(data, record, mine), mine)
    return SignatureCheck(
        True,
        f"signed with the private key of public key {mine}; the file is byte for byte "
        "the one that was signed",
        mine,
    )


def _signature_bytes(value: object) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == _SIGNATURE_BYTES else None


def _why_not(data: bytes, record: dict[str, object], mine: str) -> str:
    """Why a well-formed signature does not verify, from the unsigned hints."""
    signer = record.get("public_key_sha256")
    if isinstance(signer, str) and signer != mine:
        return (
            f"the file was signed with another key ({signer}), not with the key given "
            f"({mine}): it was not made by the holder of that key"
        )
    signed_sha = record.get("file_sha256")
    actual = hashlib.sha256(data).hexdigest()
    if isinstance(signed_sha, str) and signed_sha != actual:
        return (
            "the file was altered after it was signed (its sha256 is "
            f"{actual}, the signed file's was {signed_sha})"
        )
    return "the signature was altered, or made with another key: it does not match this file"
