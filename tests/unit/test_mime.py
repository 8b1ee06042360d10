"""Notice emails built as bytes, read back with the stdlib parser."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from typing import Any

import pytest

from notifications.errors import PreavisError
from notifications.mime import (
    HeaderInjection,
    InvalidAddress,
    build_notice,
    message_id_for,
    sender,
)

TEXT = (
    "Bonjour,\n\nNous utiliserons vos publications pour entraîner nos modèles d'IA.\n"
    "Zażółć gęślą jaźń — Ελληνικά — 日本語 — 🎉👩‍👩‍👧\n"
    ".\n"
    ".leading dot\n"
    "From the privacy team\n"
    "trailing spaces   \n"
    "tab\tand = sign =?utf-8?q?x?=\n" + "x" * 3000 + "\n" + "é" * 3000 + "\nend without newline"
)
HTML = (
    '<!doctype html>\n<html lang="fr"><body>\n<p style="margin:0">Vos données — 🎉</p>\n'
    + "<p>"
    + "y" * 3000
    + "</p>\n.\nFrom here\n</body></html>\n"
)
MESSAGE_ID = message_id_for("purpose:ai-training:v1", "u-000123", "localhost")
DATE = datetime(2026, 11, 30, 9, 5, 7, tzinfo=timezone(timedelta(hours=1)))


def notice(**overrides: Any) -> bytes:
    fields: dict[str, Any] = {
        "from_header": "Privacy Team <privacy@localhost>",
        "to_address": "alice@example.org",
        "subject": "Vos données et l'IA : Zażółć gęślą jaźń 🎉",
        "text": TEXT,
        "html": HTML,
        "language": "fr",
        "message_id": MESSAGE_ID,
        "campaign_id": "purpose:ai-training:v1",
        "date": DATE,
    }
    fields.update(overrides)
    return build_notice(**fields)


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert not message.defects
    return message


def crlf(text: str) -> str:
    """Text parts are in canonical form: every line break is CRLF."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def assert_lines(data: bytes) -> None:
    assert data.endswith(b"\r\n")
    lines = data.split(b"\r\n")[:-1]
    for line in lines:
        assert b"\r" not in line and b"\n" not in line  # no bare CR or LF
        assert len(line) + 2 <= 998
    head = data[: data.index(b"\r\n\r\n")].split(b"\r\n")
    assert all(len(line) <= 78 for line in head)
    body = data[data.index(b"\r\n\r\n") :].split(b"\r\n")
    assert all(len(line) <= 76 for line in body)


def test_headers_read_back() -> None:
    data = notice()
    message = parse(data)
    assert message["From"] == "Privacy Team <privacy@localhost>"
    assert message["To"] == "alice@example.org"
    assert message["Subject"] == "Vos données et l'IA : Zażółć gęślą jaźń 🎉"
    assert message["Date"].datetime == DATE
    assert message["Message-ID"] == MESSAGE_ID
    assert message["MIME-Version"] == "1.0"
    assert message["Content-Language"] == "fr"
    assert message["X-Preavis-Campaign"] == "purpose:ai-training:v1"
    assert message["Auto-Submitted"] == "auto-generated"
    assert b"\r\nDate: Mon, 30 Nov 2026 09:05:07 +0100\r\n" in data
    assert data.startswith(b"From: Privacy Team <privacy@localhost>\r\nTo: alice@example.org\r\n")


def test_parts_decode_to_the_inputs() -> None:
    message = parse(notice())
    assert message.is_multipart()
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.iter_parts()
    for part, expected, subtype in ((plain, TEXT, "plain"), (html, HTML, "html")):
        assert isinstance(part, EmailMessage)
        assert part.get_content_type() == f"text/{subtype}"
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] in ("quoted-printable", "base64")
        assert part.get_content() == crlf(expected)


def test_latin_text_is_quoted_printable_and_mostly_non_latin_is_base64() -> None:
    greek = "Θα χρησιμοποιήσουμε τις δημοσιεύσεις σας για την εκπαίδευση.\n" * 40  # noqa: RUF001
    plain, html = parse(notice(text=greek, html="<p>plain ascii</p>")).iter_parts()
    assert plain["Content-Transfer-Encoding"] == "base64"
    assert html["Content-Transfer-Encoding"] == "quoted-printable"
    assert plain.get_content() == crlf(greek)
    assert_lines(notice(text=greek))


@pytest.mark.parametrize(
    "text",
    [
        *["", "\n", "a\r\nb\rc\nd", " ", "end with space ", "\x00nul\x01\x7f", ".", "=", "\t"],
        *["x" * 75, "x" * 76, "x" * 77, "é" * 40],
        # A space or tab ending a line just short of column 76.
        *[("a" * n + blank + "\nb") for n in (73, 74, 75, 76) for blank in (" ", "\t")],
    ],
)
def test_edge_contents_round_trip(text: str) -> None:
    data = notice(text=text, html=text)
    assert_lines(data)
    for part in parse(data).iter_parts():
        assert isinstance(part, EmailMessage)
        assert part.get_content() == crlf(text)


def test_every_line_is_crlf_and_short() -> None:
    assert_lines(notice())
    long_subject = " ".join(["données"] * 60) + " " + "z" * 200
    data = notice(subject=long_subject, from_header="Équipe « Vie privée » 🎉 <privacy@localhost>")
    assert_lines(data)
    message = parse(data)
    assert message["Subject"] == long_subject
    assert message["From"].addresses[0].display_name == "Équipe « Vie privée » 🎉"


@pytest.mark.parametrize(
    "subject",
    [
        "Plain ASCII subject",
        "A long plain ASCII subject " * 8,
        "  spaced  out  ",
        "Looks =?utf-8?q?encoded?= but is not",
        "Ąę 🎉 " * 30,
        "",
    ],
)
def test_subject_round_trips(subject: str) -> None:
    data = notice(subject=subject)
    assert_lines(data)
    assert parse(data)["Subject"] == subject


def test_unbreakable_ascii_words_stay_whole_within_998() -> None:
    subject = "See https://example.org/" + "p" * 300 + " for details"
    data = notice(subject=subject, campaign_id="c" * 500)
    message = parse(data)
    assert (message["Subject"], message["X-Preavis-Campaign"]) == (subject, "c" * 500)
    assert b"\r\nX-Preavis-Campaign: " + b"c" * 500 + b"\r\n" in data
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    # Past what a line can hold, the value goes as encoded-words, folded.
    data = notice(subject="q" * 2000)
    assert parse(data)["Subject"] == "q" * 2000
    assert_lines(data)


@pytest.mark.parametrize(
    ("header", "name", "address"),
    [
        ("privacy@localhost", "", "privacy@localhost"),
        ('"Privacy, Team" <privacy@localhost>', "Privacy, Team", "privacy@localhost"),
        ("Privacy Team <privacy@localhost>", "Privacy Team", "privacy@localhost"),
        ("Équipe Vie privée <dpo@example.fr>", "Équipe Vie privée", "dpo@example.fr"),
    ],
)
def test_from_header_forms(header: str, name: str, address: str) -> None:
    (parsed,) = parse(notice(from_header=header))["From"].addresses
    assert (parsed.display_name, parsed.addr_spec) == (name, address)


INJECTIONS = ["\r\nBcc: x@y", "\n", "\r", "\x00"]
HEADER_INPUTS = ["from_header", "to_address", "subject", "message_id", "campaign_id", "language"]


@pytest.mark.parametrize("field", HEADER_INPUTS)
@pytest.mark.parametrize("injection", INJECTIONS)
def test_header_injection_is_refused(field: str, injection: str) -> None:
    valid = {
        "from_header": "Privacy Team <privacy@localhost>",
        "to_address": "alice@example.org",
        "subject": "Subject",
        "message_id": "<abc@localhost>",
        "campaign_id": "purpose:ai-training:v1",
        "language": "fr",
    }[field]
    for value in (valid + injection, injection + valid, valid[:2] + injection + valid[2:]):
        with pytest.raises(HeaderInjection) as caught:
            notice(**{field: value})
        assert isinstance(caught.value, PreavisError) and isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    "address",
    [
        "alice@example.org, bob@example.org",
        "alice@example.org;bob@example.org",
        "Alice <alice@example.org>",
        "<alice@example.org>",
        "alice",
        "@example.org",
        "alice@",
        "alice@@example.org",
        "a b@example.org",
        '"a b"@example.org',
        "alice@[127.0.0.1]",
        "ælice@example.org",
        "a" * 250 + "@example.org",
        "",
    ],
)
def test_to_address_must_be_one_bare_address(address: str) -> None:
    with pytest.raises(InvalidAddress):
        notice(to_address=address)
    with pytest.raises(HeaderInjection):
        notice(from_header=f"Privacy <{address}>")


@pytest.mark.parametrize("message_id", ["abc@localhost", "<abc>", "<a b@c>", "<<a@b>>", ""])
def test_malformed_message_id_is_refused(message_id: str) -> None:
    with pytest.raises(HeaderInjection):
        notice(message_id=message_id)


@pytest.mark.parametrize("language", ["", "fr fr", "fr;x", "é", "fr_FR", "x" * 9])
def test_malformed_language_is_refused(language: str) -> None:
    with pytest.raises(HeaderInjection):
        notice(language=language)


def test_naive_date_is_refused() -> None:
    with pytest.raises(ValueError, match="offset"):
        notice(date=datetime(2026, 11, 30, 9, 0))


def test_dates_in_other_zones() -> None:
    assert b"\r\nDate: Sun, 01 Mar 2026 00:00:00 +0000\r\n" in notice(
        date=datetime(2026, 3, 1, tzinfo=UTC)
    )
    west = datetime(2026, 7, 4, 23, 59, 59, tzinfo=timezone(-timedelta(hours=9, minutes=30)))
    data = notice(date=west)
    assert b"\r\nDate: Sat, 04 Jul 2026 23:59:59 -0930\r\n" in data
    assert parse(data)["Date"].datetime == west


def test_same_inputs_give_the_same_bytes() -> None:
    assert notice() == notice()
    other = message_id_for("purpose:ai-training:v1", "u-000124", "localhost")
    assert notice() != notice(message_id=other)
    # The boundary follows the Message-ID, so it differs between recipients.
    assert parse(notice()).get_boundary() != parse(notice(message_id=other)).get_boundary()


def test_message_id_for_is_stable_and_per_user() -> None:
    first = message_id_for("purpose:ai-training:v1", "u-000123", "example.org")
    assert first == message_id_for("purpose:ai-training:v1", "u-000123", "example.org")
    assert first != message_id_for("purpose:ai-training:v1", "u-000124", "example.org")
    assert first != message_id_for("purpose:ai-training:v2", "u-000123", "example.org")
    assert first.startswith("<") and first.endswith("@example.org>")
    assert len(first) == len("<@example.org>") + 32
    int(first[1:33], 16)
    # campaign "a", user "b" and campaign "a" + NUL..., cannot be confused.
    with pytest.raises(HeaderInjection):
        message_id_for("a\x00b", "c", "example.org")
    for domain in ("", "exa mple.org", "example.org>", "example.org\r\nBcc: x"):
        with pytest.raises(HeaderInjection):
            message_id_for("c", "u", domain)


def test_reply_to_is_the_controller_s_address() -> None:
    message = parse(notice(reply_to="privacy@example.com"))
    assert str(message["Reply-To"]) == "privacy@example.com"
    assert parse(notice())["Reply-To"] is None
    assert_lines(notice(reply_to="privacy@example.com"))


@pytest.mark.parametrize(
    "reply_to", ["two@example.com, three@example.com", "privé@example.com", "x@y\r\nBcc: z@w", ""]
)
def test_a_bad_reply_to_is_the_campaign_s_fault_not_the_reader_s(reply_to: str) -> None:
    """HeaderInjection, never InvalidAddress (which would suppress the reader)."""
    with pytest.raises(HeaderInjection) as raised:
        notice(reply_to=reply_to)
    assert not isinstance(raised.value, InvalidAddress)
    assert "Reply-To" in str(raised.value)


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Example Platform SAS", "Example Platform SAS"),
        ('Acme "Labs", Inc.', 'Acme "Labs", Inc.'),
        ("Société Exemple", "Société Exemple"),
        ("Back\\slash", "Back\\slash"),
    ],
)
def test_the_sender_is_the_controller_at_the_configured_address(name: str, shown: str) -> None:
    header = sender(name, "Privacy Team <privacy@platform.example>")
    (parsed,) = parse(notice(from_header=header))["From"].addresses
    assert (parsed.display_name, parsed.addr_spec) == (shown, "privacy@platform.example")
    assert sender(None, "Privacy Team <p@x.example>") == "Privacy Team <p@x.example>"
    assert sender("  ", "p@x.example") == "p@x.example"
    with pytest.raises(HeaderInjection):
        notice(from_header=sender("Evil\r\nBcc: all@example.org", "p@x.example"))
