"""A real SMTP server for tests: aiosmtpd, with captured envelopes and scripted replies.

``CapturingHandler`` keeps every accepted message and answers the next
``MAIL``, ``RCPT`` or ``DATA`` from a script (``"451 4.3.0 Try again later"``;
``{address}`` in a scripted reply is replaced with the address of the
command). ``SmtpServer`` runs it on 127.0.0.1 and can be stopped and started
again on the same port, to play a relay that goes down and comes back.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Received:
    """One accepted transaction."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    tls: str | None = None
    """The TLS version the message came over (``"TLSv1.3"``), ``None`` if in clear."""


@dataclass
class CapturingHandler:
    """aiosmtpd handler: capture each message, or answer what the scripts say.

    A scripted reply is used once, for the next command of its kind; an empty
    script accepts. ``data_delay`` makes DATA answer late (timeouts).
    """

    mail_replies: list[str] = field(default_factory=list)
    rcpt_replies: list[str] = field(default_factory=list)
    data_replies: list[str] = field(default_factory=list)
    data_delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    connections: int = 0
    """Client connections accepted since the server (re)started, counted by ``SmtpServer``."""

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.mail_replies:
            return self.mail_replies.pop(0).format(address=address)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0).format(address=address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        if self.data_replies:
            return self.data_replies.pop(0).format(address=",".join(envelope.rcpt_tos))
        content = envelope.original_content or b""
        assert envelope.mail_from is not None
        tls = server.transport.get_extra_info("ssl_object") if server.transport else None
        self.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                content,
                tls.version() if tls is not None else None,
            )
        )
        return "250 2.0.0 Ok: queued as 4F2A"


def password_authenticator(username: str, password: str) -> Any:
    """An aiosmtpd authenticator accepting one LOGIN/PLAIN user."""

    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == username.encode()
            and auth_data.password == password.encode()
        )
        return AuthResult(success=ok, handled=False)

    return authenticate


class _CountingController(Controller):
    def __init__(self, handler: CapturingHandler, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._capturing = handler

    def factory(self) -> SMTP:
        self._capturing.connections += 1  # one SMTP instance per client connection
        return cast(SMTP, super().factory())  # type: ignore[no-untyped-call]


class SmtpServer:
    """aiosmtpd on 127.0.0.1:``port``, which can be stopped and started again.

    ``smtp_kwargs`` go to aiosmtpd's ``SMTP`` (``authenticator=``,
    ``auth_require_tls=``, ``tls_context=`` to offer STARTTLS,
    ``require_starttls=``...) or its controller (``ssl_context=``: TLS from the
    first byte, as on port 465).
    """

    def __init__(
        self, handler: CapturingHandler | None = None, port: int | None = None, **smtp_kwargs: Any
    ) -> None:
        self.handler = handler or CapturingHandler()
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self._smtp_kwargs = smtp_kwargs
        self._controller: _CountingController | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        assert self._controller is None, "already running"
        controller = _CountingController(
            self.handler, hostname=self.host, port=self.port, **self._smtp_kwargs
        )
        controller.start()
        self.handler.connections = 0  # forget the controller's own start-up probe
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@contextmanager
def smtp_server(
    handler: CapturingHandler | None = None, port: int | None = None, **smtp_kwargs: Any
) -> Iterator[SmtpServer]:
    """A running :class:`SmtpServer`, stopped on exit."""
    server = SmtpServer(handler, port, **smtp_kwargs)
    server.start()
    try:
        yield server
    finally:
        server.stop()
