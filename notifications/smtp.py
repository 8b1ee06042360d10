"""SMTP delivery through a pool of persistent aiosmtplib connections.

:class:`SmtpPool` holds ``connections`` slots, each an :class:`aiosmtplib.SMTP`
client connected lazily on first use and kept open between messages (the
most recently used one is taken first, so a light load opens one). A send
takes a free slot (so at most ``connections`` transactions run at once),
waits for its turn under ``max_rate`` (shared by the pool, see
:mod:`notifications.ratelimit`), runs one ``MAIL``/``RCPT``/``DATA``
transaction and gives the slot back.

:meth:`SmtpPool.send` never raises for what the network or the server does:
every failure becomes a :class:`SendResult`.

- A reply code is classified by :func:`classify` (see
  :mod:`notifications.smtp_reply` for the rules). Only a reply to ``RCPT`` or
  ``DATA`` may be ``bounced``: a refused ``MAIL FROM``, ``EHLO`` or ``AUTH``
  says nothing about the recipient, so a ``5.1.x`` there is ``failed``.
- ``535`` (authentication failed) is ``failed``: wrong credentials are a
  configuration error that retrying will not fix, and the reply says so.
  ``454`` (temporary authentication failure) is ``deferred``.
- Connection errors, timeouts and disconnections are ``deferred`` with
  ``code`` ``None`` and ``reply`` ``"connection error: <ExceptionName>"``.
- After an error reply, aiosmtplib has already sent ``RSET``, so the
  connection is kept for the next message. A ``421`` (the server is closing),
  a connection error, a timeout, a cancellation or anything unexpected
  discards the connection; the slot reconnects on its next send, as it does
  when the server closed an idle connection.

Encryption (``SmtpConfig.tls``, see :func:`tls_options`): ``auto`` upgrades
with STARTTLS whenever the relay offers it and speaks TLS from the first byte
on port 465; ``starttls`` requires STARTTLS (a relay that does not offer it
is ``failed``: nothing goes out in clear); ``implicit`` is TLS from the
first byte on any port; ``none`` never encrypts. Whenever TLS is used, the
relay's certificate is verified (chain and host name), against ``ca_file``
when given, else the system's trust store: a certificate that does not
verify is ``deferred`` with ``connection error: SSLCertVerificationError``.

A ``reply`` goes into Kafka events and logs: it never holds the envelope
addresses or anything that looks like an address (:func:`redact`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import parseaddr
from types import TracebackType
from typing import Literal

from aiosmtplib import (
    SMTP,
    SMTPDataError,
    SMTPException,
    SMTPRecipientRefused,
    SMTPRecipientsRefused,
    SMTPResponseException,
)

from notifications.backoff import backoff_delay
from notifications.ratelimit import RateLimiter
from notifications.smtp_reply import Outcome, SendResult, classify, redact

__all__ = [
    "Outcome",
    "SendResult",
    "SmtpConfig",
    "SmtpPool",
    "SmtpTls",
    "backoff_delay",
    "classify",
    "tls_options",
]

log = logging.getLogger(__name__)

QUIT_TIMEOUT = 5.0
SERVICE_CLOSING = 421
INVALID_ADDRESS = "invalid envelope address"
IMPLICIT_TLS_PORT = 465  # "submissions" (RFC 8314): TLS from the first byte

SmtpTls = Literal["auto", "starttls", "implicit", "none"]


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """Where and how to relay: plain values, the caller unwraps its secrets."""

    host: str = "127.0.0.1"
    port: int = 2525
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: SmtpTls = "auto"
    """``auto``, ``starttls``, ``implicit`` or ``none``: see :func:`tls_options`."""
    ca_file: str | None = None
    """PEM file of the CA(s) to trust for the relay's certificate; ``None``: the system's."""
    max_rate: float = 0.0
    """Messages per second for the whole pool; ``0``: no limit."""
    connections: int = 4
    timeout: float = 30.0
    """Seconds for connecting and for each SMTP command."""

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ValueError(f"port must be in 1..65535, not {self.port}")
        if self.connections < 1:
            raise ValueError(f"connections must be >= 1, not {self.connections}")
        if not self.max_rate >= 0 or math.isinf(self.max_rate):
            raise ValueError(f"max_rate must be a finite number >= 0, not {self.max_rate}")
        if not self.timeout > 0:
            raise ValueError(f"timeout must be > 0, not {self.timeout}")
        if self.tls not in ("auto", "starttls", "implicit", "none"):
            raise ValueError(f"tls must be auto, starttls, implicit or none, not {self.tls!r}")


def tls_options(config: SmtpConfig) -> tuple[bool, bool | None]:
    """aiosmtplib's ``(use_tls, start_tls)`` for ``config``.

    ``start_tls`` ``None`` is aiosmtplib's opportunistic mode: STARTTLS when
    the EHLO reply offers it, plain otherwise.
    """
    if config.tls == "implicit" or (config.tls == "auto" and config.port == IMPLICIT_TLS_PORT):
        return True, False
    if config.tls == "starttls":
        return False, True
    if config.tls == "none":
        return False, False
    return False, None


class SmtpPool:
    """``config.connections`` persistent SMTP connections, shared by concurrent senders."""

    def __init__(
        self,
        config: SmtpConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.config = config
        self._limiter = RateLimiter(config.max_rate, clock=clock, sleep=sleep)
        # Last in, first out: a light load keeps reusing the same warm connection.
        self._idle: asyncio.LifoQueue[SMTP] = asyncio.LifoQueue()
        for _ in range(config.connections):
            self._idle.put_nowait(self._new_client())
        self._security: str | None = None

    async def __aenter__(self) -> SmtpPool:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _new_client(self) -> SMTP:
        c = self.config
        use_tls, start_tls = tls_options(c)
        return SMTP(
            hostname=c.host,
            port=c.port,
            username=c.username,
            password=c.password,
            timeout=c.timeout,
            use_tls=use_tls,
            start_tls=start_tls,
            validate_certs=True,
            cert_bundle=c.ca_file,
        )

    def _note_security(self, client: SMTP) -> None:
        """Log (once per change) whether the relay's connection is encrypted."""
        tls = client.get_transport_info("ssl_object")
        if tls is not None:
            security = f"TLS ({tls.version()})"
        else:
            why = "PREAVIS_SMTP_TLS=none" if self.config.tls == "none" else "no STARTTLS offered"
            security = f"plain ({why})"
        if security != self._security:
            self._security = security
            log.info("SMTP to %s:%s: %s", self.config.host, self.config.port, security)

    async def send(self, sender: str, recipient: str, message: bytes) -> SendResult:
        """Relay ``message`` from ``sender`` to ``recipient``; classify what happens.

        Both are bare addresses (``alice@example.org``): anything aiosmtplib
        would rewrite first (``Alice <alice@…>``, ``a@x, b@y``, line breaks) is
        ``failed`` with reply ``"invalid envelope address"``, nothing sent.
        """
        if not (_bare(sender) and _bare(recipient)):
            return SendResult(Outcome.FAILED, INVALID_ADDRESS, None)
        client = await self._idle.get()
        keep = False
        try:
            await self._limiter.acquire()
            result, keep = await self._transact(client, sender, recipient, message)
            return result
        finally:
            if not (keep and client.is_connected):
                client.close()
                client = self._new_client()
            self._idle.put_nowait(client)

    async def _transact(
        self, client: SMTP, sender: str, recipient: str, message: bytes
    ) -> tuple[SendResult, bool]:
        """One transaction on ``client``, and whether its connection may be kept."""
        addresses = (recipient, sender)
        options = None if (sender + recipient).isascii() else ["SMTPUTF8"]
        try:
            if not client.is_connected:
                await client.connect()
                self._note_security(client)
            _, text = await client.sendmail(sender, [recipient], message, mail_options=options)
        except SMTPRecipientsRefused as exc:
            refused = exc.recipients[0]
            result = _replied(refused.code, refused.message, addresses, may_bounce=True)
        except (SMTPRecipientRefused, SMTPDataError) as exc:
            result = _replied(exc.code, exc.message, addresses, may_bounce=True)
        except SMTPResponseException as exc:  # MAIL FROM, EHLO, AUTH, greeting
            result = _replied(exc.code, exc.message, addresses, may_bounce=False)
        except (ConnectionError, TimeoutError, OSError) as exc:  # incl. SMTPServerDisconnected
            name = type(exc.__cause__ or exc).__name__
            log.debug("SMTP connection dropped: %s", name)
            return SendResult(Outcome.DEFERRED, f"connection error: {name}", None), False
        except SMTPException as exc:  # no AUTH offered, SMTPUTF8 unsupported...
            reply = redact(f"smtp error: {exc.message}", *addresses)
            return SendResult(Outcome.FAILED, reply, None), False
        except ValueError:  # an address aiosmtplib refuses to put on the wire
            return SendResult(Outcome.FAILED, INVALID_ADDRESS, None), False
        else:
            return _replied(250, text, addresses, may_bounce=False), True
        # aiosmtplib sent RSET after the error reply; a 421 after DATA leaves the socket open.
        return result, result.code != SERVICE_CLOSING

    async def close(self) -> None:
        """``QUIT`` every connection, once the sends in flight are done.

        The pool stays usable: a later :meth:`send` connects again.
        """
        clients = [await self._idle.get() for _ in range(self.config.connections)]
        try:
            await asyncio.gather(*(_quit(client) for client in clients))
        finally:
            for _ in clients:
                self._idle.put_nowait(self._new_client())


def _bare(address: str) -> bool:
    """Whether ``address`` goes on the wire as given (aiosmtplib sends ``parseaddr``'s pick)."""
    return parseaddr(address)[1] == address and not any(c in address for c in "\r\n\0")


def _replied(code: int, text: str, addresses: tuple[str, ...], *, may_bounce: bool) -> SendResult:
    outcome = classify(code, text)
    if outcome is Outcome.BOUNCED and not may_bounce:
        outcome = Outcome.FAILED
    relay_wide = code == SERVICE_CLOSING  # 421: the server is going away, whatever the command
    return SendResult(
        outcome,
        redact(f"{code} {text}", *addresses),
        code,
        recipient_only=may_bounce and not relay_wide,
    )


async def _quit(client: SMTP) -> None:
    try:
        if client.is_connected:
            await client.quit(timeout=QUIT_TIMEOUT)
    except (SMTPException, OSError):
        pass
    finally:
        client.close()
