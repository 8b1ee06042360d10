"""What an SMTP reply means for a notice, and how to quote it without personal data.

:class:`Outcome` is the one enum of what became of a notice attempt (the
``notice.delivery`` statuses); :class:`SendResult` is what a send came to, and
:class:`Sender` the seam a delivery handler sends through
(:class:`notifications.smtp.SmtpPool` in a worker, a recording fake in a test).

:func:`classify` turns a reply code and text into an :class:`Outcome`:

- ``2xx``: ``sent``.
- ``4xx``: ``deferred`` (try again later; ``421`` also means the server is
  closing the connection).
- ``5xx`` with an RFC 3463 enhanced status ``5.1.x`` (bad destination
  address: ``5.1.1`` user unknown, ``5.1.2`` bad domain, ``5.1.3`` bad
  syntax, ``5.1.6`` moved, ``5.1.10`` null MX...): ``bounced``, a hard
  bounce: this address will never take mail, so later campaigns suppress it.
  Except ``5.1.7`` / ``5.1.8`` and any ``5.1.x`` whose text speaks of the
  *sender*: those are about our envelope sender, not the recipient, and are
  ``failed``.
- ``550``, ``551`` or ``553`` *without* an enhanced status: ``bounced`` only
  when the text says the recipient does not exist ("user unknown", "no such
  user", "mailbox not found", "does not exist"...), otherwise ``failed``.
  "mailbox unavailable" alone is **not** a bounce: it is RFC 5321's generic
  text for 550, which servers also send for policy and spam rejections, and
  a bounce suppresses the address for good.
- any other ``5xx`` (``554 5.7.1`` rejected, ``535`` authentication failed,
  ``552`` too big...) and any code outside 200-599: ``failed``.

The caller decides where a bounce is possible: a reply to MAIL FROM, HELO or
AUTH is never the recipient's fault (see :mod:`notifications.smtp`).

:func:`redact` prepares a reply for events and logs: one line, bounded, every
address-looking token replaced with ``<address>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Outcome(StrEnum):
    """The fate of one delivery attempt; the values are ``notice.delivery`` statuses.

    A reply classifies as one of the first four; ``SUPPRESSED`` is delivery's
    own verdict when nothing is sent at all (an objection since the fan-out,
    an erased user, an address that bounced before).
    """

    SENT = "sent"
    DEFERRED = "deferred"
    FAILED = "failed"
    BOUNCED = "bounced"
    SUPPRESSED = "suppressed"


@dataclass(frozen=True, slots=True)
class SendResult:
    """What became of one message: the outcome, the server's reply, its code.

    ``reply`` is ``"250 2.0.0 Ok: queued"``, ``"451 4.3.0 try later"`` or
    ``"connection error: ConnectionRefusedError"``, never with an address in
    it; ``code`` is ``None`` when no server reply was read.
    """

    outcome: Outcome
    reply: str
    code: int | None
    #: The reply concerns this recipient only (RCPT or DATA): a "try later"
    #: here says nothing about the next message, unlike a refused connection,
    #: a greeting or a ``MAIL FROM`` reply, which would fail for every one.
    recipient_only: bool = False


class Sender(Protocol):
    """Relays one message and says what became of it, never raising for the network's faults."""

    async def send(self, sender: str, recipient: str, message: bytes) -> SendResult:
        """Relay ``message`` from the bare address ``sender`` to ``recipient``."""
        ...


MAX_REPLY_CHARS = 300

# An RFC 3463 status "class.subject.detail", not part of a longer dotted number (an IP address).
_ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_SENDER_DETAILS = frozenset({7, 8})  # 5.1.7 bad sender mailbox syntax, 5.1.8 bad sender system
_SENDER = re.compile(r"\bsender\b", re.IGNORECASE)
_NO_SUCH_RECIPIENT = re.compile(
    r"user unknown|unknown user|no such (?:user|mailbox|recipient)|mailbox not found"
    r"|recipient unknown|unknown recipient|does not exist|doesn't exist|address unknown",
    re.IGNORECASE,
)
_ADDRESS = re.compile(r"<?[^\s<>@,;:\"'()\[\]]+@[^\s<>@,;:\"'()\[\]]*>?")


def classify(code: int, message: str) -> Outcome:
    """The outcome of the SMTP reply ``code`` with text ``message`` (see the module doc)."""
    if 200 <= code < 300:
        return Outcome.SENT
    if 400 <= code < 500:
        return Outcome.DEFERRED
    if not 500 <= code < 600:
        return Outcome.FAILED
    if _SENDER.search(message):
        return Outcome.FAILED
    enhanced = _ENHANCED.search(message)
    if enhanced is not None and enhanced.group(1) == "5":
        subject, detail = int(enhanced.group(2)), int(enhanced.group(3))
        if subject == 1 and detail not in _SENDER_DETAILS:
            return Outcome.BOUNCED
        return Outcome.FAILED
    if code in (550, 551, 553) and _NO_SUCH_RECIPIENT.search(message):
        return Outcome.BOUNCED
    return Outcome.FAILED


def redact(text: str, *secrets: str) -> str:
    """``text`` on one line, at most :data:`MAX_REPLY_CHARS`, without addresses.

    Anything that looks like an email address, and every one of ``secrets``
    (the envelope addresses, however they are written), becomes ``<address>``.
    """
    for secret in secrets:
        if secret:
            pattern = "<?" + re.escape(secret) + ">?"
            text = re.sub(pattern, "<address>", text, flags=re.IGNORECASE)
    text = _ADDRESS.sub("<address>", text)
    text = " ".join(text.split())
    if len(text) > MAX_REPLY_CHARS:
        text = text[: MAX_REPLY_CHARS - 1] + "…"
    return text
