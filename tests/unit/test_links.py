"""Signed objection tokens: round trips, key rotation, and nothing else verifies."""

from __future__ import annotations

import re

import pytest

from notifications.errors import PreavisError
from notifications.links import (
    InvalidToken,
    LinkKeys,
    TokenClaims,
    WeakSecret,
    key_id,
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
    assert token.startswith(f"2.{key_id(SECRET)}.")


def test_the_usual_token_is_short() -> None:
    assert len(TOKEN) < 100
    assert TOKEN.count(".") == 3
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
        "2.xxx.yyy.zzz",
        "0." + TOKEN[2:],
        "1." + TOKEN[2:],
        "3." + TOKEN[2:],
        "1." + TOKEN.split(".", 2)[2],  # version 2's payload and tag without the key id
        TOKEN.replace(key_id(SECRET), key_id(b"another-secret-of-32-bytes-long!")),
        TOKEN.replace(key_id(SECRET), ""),
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


# Key rotation: PREAVIS_LINK_SECRET signs, PREAVIS_LINK_SECRETS_OLD still verifies.

OLD = b"the-key-of-last-year-32-bytes!!!"
NEW = b"the-key-of-this-year-32-bytes!!!"


def test_the_key_id_is_derived_from_the_key_and_is_not_the_key() -> None:
    assert key_id(SECRET) == key_id(SECRET)
    assert len({key_id(OLD), key_id(NEW), key_id(SECRET)}) == 3
    assert re.fullmatch(r"[A-Za-z0-9_-]{8}", key_id(SECRET))
    assert key_id(SECRET).encode() not in SECRET


def test_a_link_signed_before_a_rotation_still_verifies_after_it() -> None:
    before = LinkKeys(OLD)
    after = LinkKeys(NEW, (OLD,))
    emailed = sign_token(before, CLAIMS)

    assert verify_token(after, emailed) == CLAIMS
    fresh = sign_token(after, CLAIMS)
    assert fresh.split(".")[1] == key_id(NEW) != emailed.split(".")[1]  # the new key signs
    assert verify_token(after, fresh) == CLAIMS
    with pytest.raises(InvalidToken):
        verify_token(before, fresh)  # a worker not yet given the new key


def test_a_retired_key_verifies_nothing() -> None:
    emailed = sign_token(OLD, CLAIMS)
    with pytest.raises(InvalidToken):
        verify_token(LinkKeys(NEW), emailed)
    with pytest.raises(InvalidToken):
        verify_token(LinkKeys(NEW, (SECRET,)), emailed)


def test_an_old_key_is_only_tried_for_its_own_id() -> None:
    """A tag made with the old key under the new key's id is refused."""
    keys = LinkKeys(NEW, (OLD,))
    genuine = sign_token(OLD, CLAIMS)
    relabelled = genuine.replace(key_id(OLD), key_id(NEW))
    with pytest.raises(InvalidToken):
        verify_token(keys, relabelled)


# Links emailed before key ids existed: ``1.{payload}.{tag}``, made by the
# previous release of this module with SECRET (kept verbatim).
LEGACY_EN = (
    "1.dS0wMDAxMjMAcHVycG9zZTphaS10cmFpbmluZzp2MQBlbgBhaS10cmFpbmluZw.Ab901uZdItnlERRfCylatA"
)
LEGACY_FR = (
    "1.dS0wMDAxMjMAcHVycG9zZTphaS10cmFpbmluZzp2MQBmcgBhaS10cmFpbmluZw.RyawwKvwLLz3FjfM-DUDzw"
)


def test_links_from_before_key_ids_still_verify() -> None:
    assert verify_token(SECRET, LEGACY_EN) == CLAIMS
    assert verify_token(SECRET, LEGACY_FR).language == "fr"
    # after a rotation, SECRET is an old key: its legacy links still work
    assert verify_token(LinkKeys(NEW, (SECRET,)), LEGACY_EN) == CLAIMS
    with pytest.raises(InvalidToken):
        verify_token(LinkKeys(NEW), LEGACY_EN)


@pytest.mark.parametrize("position", [0, 2, 10, 40, -23, -22, -2, -1])
def test_a_changed_character_of_a_legacy_link_is_refused(position: int) -> None:
    with pytest.raises(InvalidToken):
        verify_token(SECRET, flip(LEGACY_EN, position))


def test_keys_never_show_and_every_key_is_checked() -> None:
    keys = LinkKeys(NEW, (OLD,))
    assert NEW.decode() not in repr(keys) and OLD.decode() not in repr(keys)
    assert keys.key_ids == (key_id(NEW), key_id(OLD))
    with pytest.raises(WeakSecret):
        LinkKeys(NEW, (b"short",))
