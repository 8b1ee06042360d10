"""Signed objection tokens: round trips, and nothing else verifies."""

from __future__ import annotations

import re

import pytest

from notifications.errors import PreavisError
from notifications.links import (
    InvalidToken,
    TokenClaims,
    WeakSecret,
    objection_url,
    sign_token,
    verify_token,
)

SECRET = b"s3cret-for-tests-only-32-bytes!!"
CLAIMS = TokenClaims("u-000123", ("ai-training",), "purpose:ai-training:v1")
TOKEN = sign_token(SECRET, CLAIMS)
URL_SAFE = re.compile(r"[A-Za-z0-9_.-]+")


@pytest.mark.parametrize(
    "claims",
    [
        CLAIMS,
        TokenClaims("u-000123", ("ai-training", "profiling", "ads"), "terms:tos-2027:v3"),
        TokenClaims("u-000123", ("ai-training",), None),
        TokenClaims("utilisateur-é-🎉", ("entraînement",), "campagne:été"),
        TokenClaims("u" * 300, ("p",) * 20, "c" * 100),
    ],
)
def test_round_trip(claims: TokenClaims) -> None:
    token = sign_token(SECRET, claims)
    assert verify_token(SECRET, token) == claims
    assert URL_SAFE.fullmatch(token)
    assert token.startswith("1.")


def test_the_usual_token_is_short() -> None:
    assert len(TOKEN) < 120
    assert TOKEN.count(".") == 2
    assert len(TOKEN.rsplit(".", 1)[1]) == 22  # 128-bit tag


def test_signing_is_deterministic_and_per_claims() -> None:
    assert sign_token(SECRET, CLAIMS) == TOKEN
    other = TokenClaims("u-000124", ("ai-training",), "purpose:ai-training:v1")
    assert sign_token(SECRET, other) != TOKEN
    assert sign_token(SECRET, TokenClaims("u-000123", ("ai-training",), None)) != TOKEN


def flip(token: str, position: int) -> str:
    replacement = "B" if token[position] == "A" else "A"
    return token[:position] + replacement + token[position + 1 :]


@pytest.mark.parametrize("position", [0, 1, 2, 10, len(TOKEN) // 2, -23, -22, -2, -1])
def test_a_changed_character_is_refused(position: int) -> None:
    with pytest.raises(InvalidToken):
        verify_token(SECRET, flip(TOKEN, position))


def test_every_changed_character_is_refused() -> None:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
    for position in range(len(TOKEN)):
        # Every other character: base64's spare low bits included.
        for replacement in alphabet.replace(TOKEN[position], ""):
            forged = TOKEN[:position] + replacement + TOKEN[position + 1 :]
            with pytest.raises(InvalidToken):
                verify_token(SECRET, forged)


def test_cut_or_extended_tokens_are_refused() -> None:
    for end in range(len(TOKEN)):
        with pytest.raises(InvalidToken):
            verify_token(SECRET, TOKEN[:end])
    for suffix in ("A", "=", "==", ".", " ", "\n"):
        with pytest.raises(InvalidToken):
            verify_token(SECRET, TOKEN + suffix)


def test_another_secret_is_refused() -> None:
    with pytest.raises(InvalidToken):
        verify_token(b"another-secret-of-32-bytes-long!", TOKEN)
    with pytest.raises(InvalidToken):
        verify_token(SECRET, sign_token(b"another-secret-of-32-bytes-long!", CLAIMS))


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        ".",
        "..",
        "1.",
        "1..",
        "1.x",
        "2.xxx.yyy",
        "0." + TOKEN[2:],
        "2." + TOKEN[2:],
        "a" * 2000,
        "1." + "a" * 2000 + ".b",
        "1.données.tag",
        "1.🎉.🎉",
        TOKEN.replace(".", "\x00"),
    ],
)
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(InvalidToken) as caught:
        verify_token(SECRET, garbage)
    assert isinstance(caught.value, PreavisError) and isinstance(caught.value, ValueError)


def test_weak_secrets_are_refused() -> None:
    for weak in (b"", b"short", b"x" * 15):
        with pytest.raises(WeakSecret):
            sign_token(weak, CLAIMS)
        with pytest.raises(ValueError):
            verify_token(weak, TOKEN)
    assert verify_token(b"x" * 16, sign_token(b"x" * 16, CLAIMS)) == CLAIMS


@pytest.mark.parametrize(
    "claims",
    [
        TokenClaims("", ("ai-training",), None),
        TokenClaims("u-1", (), None),
        TokenClaims("u-1", ("",), None),
        TokenClaims("u-1", ("ai-training",), ""),
        TokenClaims("u\x001", ("ai-training",), None),
        TokenClaims("u-1", ("ai\x00training",), None),
        TokenClaims("u-1", ("ai-training",), "c\x00"),
    ],
)
def test_claims_a_token_cannot_carry(claims: TokenClaims) -> None:
    with pytest.raises(ValueError):
        sign_token(SECRET, claims)


def test_objection_url() -> None:
    assert objection_url("http://127.0.0.1:6066", TOKEN) == f"http://127.0.0.1:6066/o/{TOKEN}"
    assert objection_url("https://example.org/privacy/", "t") == "https://example.org/privacy/o/t"
