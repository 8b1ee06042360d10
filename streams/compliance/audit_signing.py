"""The files of audit signatures: keys, ``FILE.sig``, and writing them safely.

:mod:`notifications.audit_signature` does the cryptography on bytes; this
module reads the key files, writes a new key pair (the private key readable by
its owner only) and writes or checks the detached signature next to an export
(``audit.jsonl`` -> ``audit.jsonl.sig``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from notifications.audit_signature import (
    KeyPair,
    SignatureCheck,
    check,
    fingerprint,
    generate,
    load_private_key,
    load_public_key,
)
from notifications.errors import SignatureError

SUFFIX = ".sig"


def signature_path(path: Path) -> Path:
    """Where the detached signature of the export ``path`` lives."""
    return path.with_name(path.name + SUFFIX)


def read_private_key(path: Path) -> Ed25519PrivateKey:
    """The signing key in the PEM file ``path``."""
    return load_private_key(_read(path, "private key"), str(path))


def read_public_key(path: Path) -> Ed25519PublicKey:
    """The public key in the PEM file ``path`` (a private key file gives its public half)."""
    return load_public_key(_read(path, "public key"), str(path))


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SignatureError(f"no {what} file {path}") from None


def check_file(path: Path, public_key: Path, signature: Path | None = None) -> SignatureCheck:
    """Check the detached signature of ``path`` (default ``path.sig``) with ``public_key``."""
    key = read_public_key(public_key)
    sig_path = signature or signature_path(path)
    try:
        signature_bytes = sig_path.read_bytes()
    except FileNotFoundError:
        return SignatureCheck(
            False,
            f"no signature {sig_path}: the file is not signed, or its signature was removed",
            fingerprint(key),
        )
    return check(path.read_bytes(), signature_bytes, key)


def keygen(private_path: Path, public_path: Path | None = None) -> tuple[KeyPair, Path]:
    """Write a new key pair; refuse to overwrite a key. Returns it and the public key's path.

    The private key is created with mode 600 from the start (never readable by
    others, not even for a moment); the public key goes to
    ``KEY.pub.pem`` unless told otherwise.
    """
    public = public_path or private_path.with_name(private_path.stem + ".pub.pem")
    for existing in (private_path, public):
        if existing.exists():
            raise SignatureError(f"{existing} exists: preavis does not overwrite a key")
    pair = generate()
    private_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pair.private_pem)
    write_atomically(public, pair.public_pem)
    return pair, public


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` all or nothing (a temporary file renamed over it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
