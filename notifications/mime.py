"""Notice emails as bytes, assembled directly: over ten times faster than the stdlib.

``EmailMessage`` builds a tree of objects, parses and refolds every header and
runs a generator over the tree (~770 messages/s on a 2-core machine). A notice
always has the same shape: From, To, Subject, Date, Message-ID, MIME-Version,
Content-Type (multipart/alternative), Content-Language, X-Preavis-Campaign,
Auto-Submitted, then a text/plain and a text/html part. So it is written here
as bytes, the C encoders of :mod:`binascii` doing the per-byte work.

Choices, and why:

- **Transfer encoding: quoted-printable, base64 when shorter.** Mostly Latin
  text stays readable in the source and 15-25 % smaller than in base64, and
  some spam filters frown on base64 text that did not need it. Greek, Cyrillic
  or CJK text nearly triples in quoted-printable, so a part whose UTF-8 is
  more than ~1/12 multi-byte overhead goes base64 (the stdlib too picks the
  shorter). Lines stay within 76 octets. Quoted-printable is made line by
  line, with a cache: all lines but the objection link recur in every notice
  of a campaign, which halves the cost of a 9 KB notice.
- **Line breaks** are CRLF everywhere. Text parts are in canonical form:
  ``\\n``, ``\\r\\n`` and a lone ``\\r`` in the input are all line breaks and
  decode back as ``\\r\\n`` (RFC 2046 4.1.1); every other character decodes
  back exactly, trailing spaces included.
- **Headers** are checked before anything is written: CR, LF or NUL in any of
  them is :class:`HeaderInjection`; an address that is not one bare ASCII
  addr-spec is :class:`InvalidAddress` (internationalised addresses would need
  SMTPUTF8 end to end: not supported yet). ``Reply-To`` (the controller's
  contact address, so that "reply to this message" reaches a person) is the
  campaign's, not the reader's: one that is not a bare address is
  :class:`HeaderInjection`, never :class:`InvalidAddress`, so that the
  reader is not suppressed for the operator's typo. Subject and X-Preavis-Campaign are
  RFC 2047 ``B`` encoded-words when not plain single-spaced ASCII, folded at 78
  columns. From, Subject and the campaign header are the same for a whole
  campaign, so their encoding is cached.
- **Deterministic**: the boundary is derived from the Message-ID, and nothing
  else (no clock, no random) enters the bytes. ``=_`` never occurs in either
  transfer encoding's output, so the boundary cannot collide with the content.
"""

from __future__ import annotations

import hashlib
import re
from binascii import b2a_base64, b2a_qp
from datetime import datetime
from email.utils import parseaddr
from functools import lru_cache

from notifications.errors import HeaderInjection, InvalidAddress

__all__ = ["HeaderInjection", "InvalidAddress", "build_notice", "message_id_for", "sender"]


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# A dot-atom local part and a host name: no spaces, quotes, brackets, commas or semicolons.
_ADDR_SPEC = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9_.-]+")
_MSG_ID = re.compile(r"<[!-;=?-~]+@[!-;=?-~]+>")  # printable ASCII without "<", ">", " "
_LANGUAGE = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
_ATOMS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]+")  # a display name needing no quotes
_WORD_BYTES = 42  # UTF-8 bytes per encoded-word: "Subject: =?utf-8?b?<56 chars>?=" is 77 columns


def _check(name: str, value: str) -> None:
    if "\r" in value or "\n" in value or "\x00" in value:
        raise HeaderInjection(f"{name} holds CR, LF or NUL: {value!r}")


def _address(name: str, value: str) -> str:
    _check(name, value)
    if len(value) > 254 or not _ADDR_SPEC.fullmatch(value):
        raise InvalidAddress(f"{name} is not one bare address (user@example.org): {value!r}")
    return value


def _encoded_words(value: str) -> list[str]:
    """RFC 2047 ``B`` encoded-words of at most 42 UTF-8 bytes, never splitting a character."""
    data, words, start = value.encode(), [], 0
    while start < len(data):
        end = min(start + _WORD_BYTES, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # a continuation byte
            end -= 1
        words.append(f"=?utf-8?b?{b2a_base64(data[start:end], newline=False).decode()}?=")
        start = end
    return words


def _fold(name: str, words: list[str]) -> str:
    """``Name: w1 w2...`` broken before a word wherever a line would pass 78 columns."""
    lines, line = [], f"{name}:"
    for word in words:
        if len(line) + 1 + len(word) > 78 and line != f"{name}:":
            lines.append(line)
            line = ""
        line += " " + word
    lines.append(line)
    return "\r\n".join(lines) + "\r\n"


@lru_cache(maxsize=256)
def _unstructured(name: str, value: str) -> bytes:
    """A free-text header (Subject...), plain if single-spaced printable ASCII, else encoded."""
    _check(name, value)
    words = value.split(" ")
    plain = value.isascii() and value.isprintable() and "=?" not in value
    if plain and all(0 < len(word) < 900 for word in words):
        return _fold(name, words).encode()
    return _fold(name, _encoded_words(value)).encode()


@lru_cache(maxsize=64)
def _from(value: str) -> bytes:
    """``Name <addr>`` or a bare address; the display name quoted or encoded as it needs."""
    _check("From", value)
    match = re.fullmatch(r"\s*(.*?)\s*<([^<>]*)>\s*", value)
    if match is None:
        return f"From: {_address('From', value.strip())}\r\n".encode()
    name, address = match[1], _address("From", match[2])
    if len(name) > 1 and name[0] == name[-1] == '"':
        name = re.sub(r"\\(.)", r"\1", name[1:-1])
    words: list[str]
    if not name:
        words = []
    elif not name.isascii() or not name.isprintable() or "=?" in name:
        words = _encoded_words(name)
    elif _ATOMS.fullmatch(name) and "  " not in name and name == name.strip():
        words = name.split(" ")
    else:
        words = ['"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"']
    return _fold("From", [*words, f"<{address}>"]).encode()


@lru_cache(maxsize=64)  # keyed by the second: consecutive messages share it
def _date(date: datetime) -> str:
    """RFC 5322 ``Mon, 30 Nov 2026 09:00:00 +0100`` (English names whatever the locale)."""
    offset = date.utcoffset()
    if offset is None:
        raise ValueError(f"date must carry a UTC offset: {date!r}")
    minutes = int(offset.total_seconds()) // 60
    zone = f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    day = f"{_DAYS[date.weekday()]}, {date.day:02d} {_MONTHS[date.month - 1]} {date.year:04d}"
    return f"{day} {date.hour:02d}:{date.minute:02d}:{date.second:02d} {zone}"


@lru_cache(maxsize=4096)
def _qp(line: bytes) -> bytes:
    """One line in quoted-printable, soft breaks in CRLF.

    A line at a time, also because given a whole text, b2a_qp may turn a space
    before a line break into ``=20`` past column 76.
    """
    return b2a_qp(line, istext=True).replace(b"\n", b"\r\n")


def _part(content_type: bytes, content: str) -> bytes:
    """One text part: its headers, a blank line and the body, CRLF throughout."""
    data = content.encode()
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if (len(data) - len(content)) * 12 <= len(data):  # few multi-byte characters
        cte, body = b"quoted-printable", b"\r\n".join([_qp(line) for line in data.split(b"\n")])
    else:
        coded = b2a_base64(data.replace(b"\n", b"\r\n"), newline=False)
        cte, body = b"base64", b"\r\n".join([coded[i : i + 76] for i in range(0, len(coded), 76)])
    head = b'; charset="utf-8"\r\nContent-Transfer-Encoding: '
    return b"".join((b"Content-Type: ", content_type, head, cte, b"\r\n\r\n", body))


def message_id_for(campaign_id: str, user_id: str, domain: str) -> str:
    """``<32 hex digits@domain>``, the same for a (campaign, user) whenever it is made."""
    for name, value in (("campaign_id", campaign_id), ("user_id", user_id)):
        if "\x00" in value:
            raise HeaderInjection(f"{name} holds NUL: {value!r}")
    _check("domain", domain)
    digest = hashlib.sha256(f"{campaign_id}\x00{user_id}".encode()).hexdigest()[:32]
    message_id = f"<{digest}@{domain}>"
    if not _MSG_ID.fullmatch(message_id):
        raise HeaderInjection(f"not a domain for a Message-ID: {domain!r}")
    return message_id


def sender(display_name: str | None, mail_from: str) -> str:
    """A From header: ``display_name`` (the controller's name) at ``mail_from``'s address.

    People recognise the controller, not "Privacy Team"; the address stays
    the configured sender, which the relay is allowed to send for. Without a
    name, ``mail_from`` as configured.
    """
    name = (display_name or "").strip()
    if not name:
        return mail_from
    address = parseaddr(mail_from)[1] or mail_from.strip()
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + f'" <{address}>'


@lru_cache(maxsize=64)
def _reply_to(value: str) -> bytes:
    try:
        return f"Reply-To: {_address('Reply-To', value)}\r\n".encode()
    except InvalidAddress as exc:  # the campaign's header: not the reader's address
        raise HeaderInjection(str(exc)) from None


def build_notice(
    *,
    from_header: str,
    to_address: str,
    subject: str,
    text: str,
    html: str,
    language: str,
    message_id: str,
    campaign_id: str,
    date: datetime,
    reply_to: str | None = None,
) -> bytes:
    """The notice as the bytes to hand to SMTP: multipart/alternative, text then HTML."""
    reply = b"" if reply_to is None else _reply_to(reply_to)
    to = _address("To", to_address)
    _check("Message-ID", message_id)
    if len(message_id) > 900 or not _MSG_ID.fullmatch(message_id):
        raise HeaderInjection(f"Message-ID is not <left@right>: {message_id!r}")
    _check("Content-Language", language)
    if len(language) > 64 or not _LANGUAGE.fullmatch(language):
        raise HeaderInjection(f"Content-Language is not a language tag: {language!r}")
    boundary = "=_preavis_" + hashlib.sha256(message_id.encode()).hexdigest()[:32]
    headers = (
        f"To: {to}\r\n".encode(),
        _unstructured("Subject", subject),
        f"Date: {_date(date.replace(microsecond=0))}\r\n"
        f"Message-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"\r\n'
        f"Content-Language: {language}\r\n".encode(),
        _unstructured("X-Preavis-Campaign", campaign_id),
        b"Auto-Submitted: auto-generated\r\n",
    )
    delimiter = f"\r\n--{boundary}\r\n".encode()
    return b"".join(
        (
            _from(from_header),
            reply,
            *headers,
            delimiter,  # its CRLF is the blank line that ends the headers
            _part(b"text/plain", text),
            delimiter,
            _part(b"text/html", html),
            delimiter[:-2],
            b"--\r\n",
        )
    )
