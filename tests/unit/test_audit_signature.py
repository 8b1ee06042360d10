"""Signed audit exports: a signature proves who made the file, and fails on any change."""

from __future__ import annotations

import base64
import json
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from notifications.audit import chain
from notifications.audit_signature import (
    check,
    fingerprint,
    generate,
    load_private_key,
    load_public_key,
    sign,
)
from notifications.errors import SignatureError
from streams.cli import main
from streams.compliance.audit_export import what_it_proves
from streams.compliance.audit_signing import (
    check_file,
    keygen,
    read_private_key,
    read_public_key,
    signature_path,
    write_atomically,
)

CAMPAIGN = "purpose:ai-training:v1"


def export_bytes(n: int = 3) -> bytes:
    records = [
        {
            "kind": "notice",
            "campaign_id": CAMPAIGN,
            "user_id": f"u-{i}",
            "status": "sent",
            "at": f"2026-03-0{i}T09:00:00Z",
        }
        for i in range(1, n + 1)
    ]
    return "".join(chain(CAMPAIGN, records, "2026-05-01T12:00:00+00:00", "jsonl")).encode()


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    private, public = tmp_path / "keys" / "audit.pem", tmp_path / "keys" / "audit.pub.pem"
    keygen(private)
    return private, public


def signed_export(tmp_path: Path, private: Path) -> Path:
    path = tmp_path / "audit.jsonl"
    data = export_bytes()
    path.write_bytes(data)
    write_atomically(signature_path(path), sign(data, read_private_key(private)))
    return path


def test_a_signed_file_verifies_with_its_public_key() -> None:
    pair = generate()
    data = export_bytes()

    result = check(data, sign(data, load_private_key(pair.private_pem, "k")), _pub(pair.public_pem))

    assert result.ok, result.message
    assert result.fingerprint == pair.fingerprint
    assert pair.fingerprint in result.message


def test_a_file_changed_by_one_byte_fails_and_says_it_was_altered() -> None:
    pair = generate()
    data = export_bytes()
    signature = sign(data, load_private_key(pair.private_pem, "k"))
    tampered = data.replace(b'"status":"sent"', b'"status":"sEnt"', 1)

    result = check(tampered, signature, _pub(pair.public_pem))

    assert not result.ok
    assert "the file was altered after it was signed" in result.message


def test_a_rewritten_and_re_signed_file_fails_with_the_exporters_key() -> None:
    exporter, forger = generate(), generate()
    forged = export_bytes(2)  # a whole new file, with an intact chain of its own
    signature = sign(forged, load_private_key(forger.private_pem, "forger"))

    result = check(forged, signature, _pub(exporter.public_pem))

    assert not result.ok
    assert "signed with another key" in result.message
    assert forger.fingerprint in result.message and exporter.fingerprint in result.message


def test_an_altered_signature_fails() -> None:
    pair = generate()
    data = export_bytes()
    record = json.loads(sign(data, load_private_key(pair.private_pem, "k")))
    raw = bytearray(base64.b64decode(record["signature"]))
    raw[10] ^= 0x01
    record["signature"] = base64.b64encode(bytes(raw)).decode()

    result = check(data, json.dumps(record).encode(), _pub(pair.public_pem))

    assert not result.ok
    assert "the signature was altered" in result.message


@pytest.mark.parametrize(
    ("signature", "message"),
    [
        (b"not json", "not a preavis signature"),
        (b'{"format":"other"}', "not a preavis signature"),
        (
            b'{"format":"preavis-audit-signature-v1","algorithm":"rsa","signature":"AA=="}',
            "unsupported signature algorithm",
        ),
        (
            b'{"format":"preavis-audit-signature-v1","algorithm":"ed25519","signature":"AAAA"}',
            "not a 64-byte Ed25519 signature",
        ),
    ],
)
def test_a_broken_signature_file_fails(signature: bytes, message: str) -> None:
    pair = generate()

    result = check(export_bytes(), signature, _pub(pair.public_pem))

    assert not result.ok
    assert message in result.message


def test_a_missing_signature_fails_and_says_so(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(export_bytes())

    result = check_file(path, keys[1])

    assert not result.ok
    assert f"no signature {path}.sig" in result.message


def test_keygen_writes_a_private_key_only_its_owner_reads_and_never_overwrites(
    keys: tuple[Path, Path],
) -> None:
    private, public = keys

    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in private.read_bytes() and b"PUBLIC KEY" in public.read_bytes()
    assert fingerprint(read_public_key(public)) == fingerprint(
        read_private_key(private).public_key()
    )
    with pytest.raises(SignatureError, match="does not overwrite"):
        keygen(private)


def test_an_openssl_key_signs_and_openssl_verifies_the_signature(tmp_path: Path) -> None:
    """The documented alternative to ``preavis audit keygen``, and a check without preavis."""
    private, public = tmp_path / "k.pem", tmp_path / "k.pub.pem"
    subprocess.run(
        ["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(private)], check=True
    )
    subprocess.run(
        ["openssl", "pkey", "-in", str(private), "-pubout", "-out", str(public)], check=True
    )
    path = signed_export(tmp_path, private)
    raw = tmp_path / "sig.bin"
    raw.write_bytes(base64.b64decode(json.loads(signature_path(path).read_bytes())["signature"]))

    assert check_file(path, public).ok
    verified = subprocess.run(
        [
            *("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(public), "-rawin"),
            *("-in", str(path), "-sigfile", str(raw)),
        ],
        capture_output=True,
        text=True,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_keys_that_are_not_unencrypted_ed25519_are_refused_clearly() -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    ec_pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    encrypted = generate()
    locked = load_private_key(encrypted.private_pem, "k").private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    )

    with pytest.raises(SignatureError, match="not an Ed25519 key"):
        load_private_key(ec_pem, "ec.pem")
    with pytest.raises(SignatureError, match="encrypted key"):
        load_private_key(locked, "locked.pem")
    with pytest.raises(SignatureError, match="not a PEM private key"):
        load_private_key(b"garbage", "garbage.pem")
    with pytest.raises(SignatureError, match="not a PEM Ed25519 public key"):
        load_public_key(b"garbage", "garbage.pem")


def test_without_a_hash_or_a_key_verify_says_what_the_chain_does_not_prove() -> None:
    text = what_it_proves(expected=False, signed=None, sig_present=False)

    assert "internally consistent" in text
    assert "does not prove that nobody rewrote the whole file" in text
    assert "--expect-sha256" in text and "--sign-key" in text


# --- the command line: preavis audit verify FILE --public-key PUB.pem --------------------------


def test_cli_verify_with_the_public_key(
    tmp_path: Path, keys: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = signed_export(tmp_path, keys[0])

    assert main(["audit", "verify", str(path), "--public-key", str(keys[1])]) == 0

    out = capsys.readouterr().out
    assert out.startswith("OK: 3 records, chain intact")
    assert f"signature: OK, signed with the private key of public key {_fp(keys[1])}" in out
    assert "signed this exact file" in out


def test_cli_verify_without_a_key_says_plainly_what_it_proves(
    tmp_path: Path, keys: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = signed_export(tmp_path, keys[0])

    assert main(["audit", "verify", str(path)]) == 0

    out = capsys.readouterr().out
    assert "does not prove that nobody rewrote the whole file" in out
    assert "a signature is next to the file: check it with --public-key" in out


def test_cli_verify_fails_on_a_tampered_file_a_wrong_key_or_no_signature(
    tmp_path: Path, keys: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = signed_export(tmp_path, keys[0])
    other, _ = keygen(tmp_path / "other.pem")
    capsys.readouterr()

    # a wrong key: the chain is intact, the signature is another key's
    assert (
        main(["audit", "verify", str(path), "--public-key", str(tmp_path / "other.pub.pem")]) == 1
    )
    err = capsys.readouterr().err
    assert "FAILED: signature: the file was signed with another key" in err
    assert other.fingerprint in err

    # a tampered file: the chain names the record, and the signature fails too
    original = path.read_bytes()
    path.write_bytes(original.replace(b'"user_id":"u-2"', b'"user_id":"u-9"'))
    assert main(["audit", "verify", str(path), "--public-key", str(keys[1])]) == 1
    err = capsys.readouterr().err
    assert "FAILED: line 3: record 2 was altered" in err
    assert "signature FAILED too: the file was altered after it was signed" in err

    # no signature
    path.write_bytes(original)
    signature_path(path).unlink()
    assert main(["audit", "verify", str(path), "--public-key", str(keys[1])]) == 1
    assert "the file is not signed, or its signature was removed" in capsys.readouterr().err


def test_cli_keygen_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "k.pem"

    assert main(["audit", "keygen", str(key)]) == 0
    assert "fingerprint: sha256:" in capsys.readouterr().out
    assert main(["audit", "keygen", str(key)]) == 1
    assert "does not overwrite a key" in capsys.readouterr().err


def _pub(pem: bytes) -> Ed25519PublicKey:
    return load_public_key(pem, "pub.pem")


def _fp(public: Path) -> str:
    return fingerprint(read_public_key(public))


def test_cli_verify_reads_a_signature_kept_elsewhere(
    tmp_path: Path, keys: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = signed_export(tmp_path, keys[0])
    elsewhere = tmp_path / "kept-apart.sig"
    signature_path(path).rename(elsewhere)

    args = ["audit", "verify", str(path), "--signature", str(elsewhere)]
    assert main([*args, "--public-key", str(keys[1])]) == 0
    assert "signature: OK" in capsys.readouterr().out
    assert main(args) == 2  # a signature without a key to check it with is a usage error
    assert "--public-key" in capsys.readouterr().err
