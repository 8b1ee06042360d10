"""``preavis campaign ID --export FILE --sign-key KEY.pem`` then ``preavis audit verify FILE
--public-key PUB.pem``, on the real broker, as an operator and an auditor would run them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from notifications import topic_names as names
from tests import examples
from tests.support.kafka import produce
from tests.support.worker import run_preavis as preavis

AI = "purpose:ai-training:v1"


@pytest.fixture
async def campaign(clean_topics: None) -> None:
    await produce(
        names.TOPIC_PURPOSES, [(b"ai-training", json.dumps(examples.purpose_declared()).encode())]
    )
    notices = [
        {
            "type": "notice.delivery",
            "schema_version": 1,
            "notice_id": f"{AI}|{user}",
            "campaign_id": AI,
            "user_id": user,
            "status": "sent",
            "attempt": 1,
            "at": f"2026-03-02T10:00:0{i}Z",
        }
        for i, user in enumerate(["ana", "ben", "cleo"])
    ]
    await produce(
        names.TOPIC_DELIVERY,
        [(str(n["user_id"]).encode(), json.dumps(n).encode()) for n in notices],
    )


@pytest.fixture
def keys(tmp_path: Path, worker_env: dict[str, str]) -> tuple[Path, Path]:
    key = tmp_path / "audit.pem"
    made = preavis(worker_env, "audit", "keygen", str(key))
    assert made.returncode == 0, made.stderr
    return key, tmp_path / "audit.pub.pem"


async def test_a_signed_export_verifies_with_the_public_key_and_fails_when_altered(
    campaign: None, keys: tuple[Path, Path], worker_env: dict[str, str], tmp_path: Path
) -> None:
    key, public = keys
    path = tmp_path / "audit.jsonl"

    exported = preavis(worker_env, "campaign", AI, "--export", str(path), "--sign-key", str(key))

    assert exported.returncode == 0, exported.stderr
    assert f"signed: {path}.sig (Ed25519, public key sha256:" in exported.stdout
    verified = preavis(worker_env, "audit", "verify", str(path), "--public-key", str(public))
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("OK: 3 records, chain intact")
    assert "signature: OK" in verified.stdout

    # rewritten as a whole (chain recomputed by a forger with their own key): the chain is
    # intact, the exporter's public key says it is not theirs
    forger_key = tmp_path / "forger.pem"
    assert preavis(worker_env, "audit", "keygen", str(forger_key)).returncode == 0
    forged = tmp_path / "forged.jsonl"
    assert (
        preavis(
            worker_env, "campaign", AI, "--export", str(forged), "--sign-key", str(forger_key)
        ).returncode
        == 0
    )
    unkeyed = preavis(worker_env, "audit", "verify", str(forged))
    assert unkeyed.returncode == 0  # an unkeyed chain cannot tell, and verify says so
    assert "does not prove that nobody rewrote the whole file" in unkeyed.stdout
    refused = preavis(worker_env, "audit", "verify", str(forged), "--public-key", str(public))
    assert refused.returncode == 1
    assert "FAILED: signature: the file was signed with another key" in refused.stderr

    # one record edited
    path.write_text(path.read_text().replace('"user_id":"ben"', '"user_id":"bob"'))
    tampered = preavis(worker_env, "audit", "verify", str(path), "--public-key", str(public))
    assert tampered.returncode == 1
    assert "was altered" in tampered.stderr
    assert "signature FAILED too: the file was altered after it was signed" in tampered.stderr


async def test_an_unsigned_export_replaces_a_stale_signature_and_a_bad_key_writes_nothing(
    campaign: None, keys: tuple[Path, Path], worker_env: dict[str, str], tmp_path: Path
) -> None:
    key, _ = keys
    path = tmp_path / "audit.jsonl"
    assert (
        preavis(
            worker_env, "campaign", AI, "--export", str(path), "--sign-key", str(key)
        ).returncode
        == 0
    )

    assert preavis(worker_env, "campaign", AI, "--export", str(path)).returncode == 0
    assert not (tmp_path / "audit.jsonl.sig").exists()  # it could only fail on the new file

    other = tmp_path / "other.jsonl"
    missing = preavis(
        worker_env, "campaign", AI, "--export", str(other), "--sign-key", str(tmp_path / "no.pem")
    )
    assert missing.returncode == 1
    assert f"no private key file {tmp_path / 'no.pem'}" in missing.stderr
    assert not other.exists()
