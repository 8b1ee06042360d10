"""SmtpPool against a real aiosmtpd server on 127.0.0.1 (no Kafka needed)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from notifications.smtp import Outcome, SmtpConfig, SmtpPool, SmtpTls
from tests.support.smtp_server import (
    SmtpServer,
    free_port,
    password_authenticator,
    smtp_server,
)
from tests.support.tls import RelayCertificates, make_certificates

SENDER = "privacy@platform.example"
RECIPIENT = "alice.martin@example.org"
MESSAGE = (
    b"From: Privacy Team <privacy@platform.example>\r\n"
    b"To: alice.martin@example.org\r\n"
    b"Subject: We are changing how we use your data\r\n"
    b"Message-ID: <notice-1@platform.example>\r\n"
    b"\r\n"
    b"Hello,\r\n"
    b".a line that starts with a dot\r\n"
    b"You can object at any time.\r\n"
)


@pytest.fixture(autouse=True)
def _broker_is_up() -> None:
    """Overrides the package's broker check: these tests talk SMTP only."""


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with smtp_server() as running:
        yield running


@pytest.fixture
async def pool(server: SmtpServer) -> AsyncIterator[SmtpPool]:
    async with SmtpPool(SmtpConfig(host=server.host, port=server.port, timeout=5)) as opened:
        yield opened


async def test_success_delivers_the_exact_bytes_and_envelope(
    server: SmtpServer, pool: SmtpPool
) -> None:
    result = await pool.send(SENDER, RECIPIENT, MESSAGE)

    assert result.outcome is Outcome.SENT
    assert result.code == 250
    assert result.reply == "250 2.0.0 Ok: queued as 4F2A"
    [received] = server.handler.received
    assert received.mail_from == SENDER
    assert received.rcpt_tos == [RECIPIENT]
    assert received.content == MESSAGE


async def test_4xx_is_deferred_then_the_next_send_succeeds(
    server: SmtpServer, pool: SmtpPool
) -> None:
    server.handler.data_replies.append("451 4.3.0 Try again later")

    first = await pool.send(SENDER, RECIPIENT, MESSAGE)
    second = await pool.send(SENDER, RECIPIENT, MESSAGE)

    assert (first.outcome, first.code, first.reply) == (
        Outcome.DEFERRED,
        451,
        "451 4.3.0 Try again later",
    )
    assert first.recipient_only  # a reply to this message's DATA
    assert second.outcome is Outcome.SENT
    assert len(server.handler.received) == 1
    assert server.handler.connections == 1  # the connection survived the 451 (RSET)


async def test_a_recipient_deferral_is_told_apart_from_a_relay_wide_one(
    server: SmtpServer, pool: SmtpPool
) -> None:
    server.handler.rcpt_replies.append("452 4.2.2 Mailbox full")
    full_mailbox = await pool.send(SENDER, RECIPIENT, MESSAGE)
    server.handler.mail_replies.append("451 4.3.0 Local problem, try later")
    relay_busy = await pool.send(SENDER, RECIPIENT, MESSAGE)

    assert (full_mailbox.outcome, full_mailbox.code, full_mailbox.recipient_only) == (
        Outcome.DEFERRED,
        452,
        True,
    )
    assert (relay_busy.outcome, relay_busy.code, relay_busy.recipient_only) == (
        Outcome.DEFERRED,
        451,
        False,
    )
    assert server.handler.received == []


async def test_554_is_failed(server: SmtpServer, pool: SmtpPool) -> None:
    server.handler.data_replies.append("554 5.7.1 Rejected")

    result = await pool.send(SENDER, RECIPIENT, MESSAGE)

    assert (result.outcome, result.code, result.reply) == (
        Outcome.FAILED,
        554,
        "554 5.7.1 Rejected",
    )


async def test_550_5_1_1_at_rcpt_is_bounced_and_the_address_is_masked(
    server: SmtpServer, pool: SmtpPool
) -> None:
    server.handler.rcpt_replies.append(
        "550 5.1.1 <{address}>: Recipient address rejected: User unknown"
    )

    result = await pool.send(SENDER, RECIPIENT, MESSAGE)

    assert result.outcome is Outcome.BOUNCED
    assert result.code == 550
    assert result.reply == "550 5.1.1 <address>: Recipient address rejected: User unknown"
    assert "alice" not in result.reply and "example.org" not in result.reply
    assert server.handler.received == []


async def test_a_5_1_x_refusal_of_the_sender_is_failed_not_bounced(
    server: SmtpServer, pool: SmtpPool
) -> None:
    server.handler.mail_replies.append("553 5.1.8 <{address}>: Sender address rejected")

    result = await pool.send(SENDER, RECIPIENT, MESSAGE)

    assert (result.outcome, result.code) == (Outcome.FAILED, 553)
    assert "privacy@" not in result.reply and "<address>" in result.reply


async def test_server_down_is_deferred_then_the_same_pool_sends_when_it_is_up() -> None:
    server = SmtpServer(port=free_port())  # nothing listening yet
    async with SmtpPool(SmtpConfig(host=server.host, port=server.port, timeout=5)) as pool:
        down = await pool.send(SENDER, RECIPIENT, MESSAGE)
        assert (down.outcome, down.code, down.recipient_only) == (Outcome.DEFERRED, None, False)
        assert down.reply == "connection error: ConnectionRefusedError"

        server.start()
        try:
            up = await pool.send(SENDER, RECIPIENT, MESSAGE)
            assert up.outcome is Outcome.SENT

            server.stop()  # the relay restarts: the pooled connection goes stale
            await asyncio.sleep(0.05)
            server.start()
            again = await pool.send(SENDER, RECIPIENT, MESSAGE)
            assert again.outcome is Outcome.SENT
            assert server.handler.connections == 1  # a new connection to the restarted server
        finally:
            server.stop()
    assert len(server.handler.received) == 2


async def test_connections_are_reused(server: SmtpServer) -> None:
    config = SmtpConfig(host=server.host, port=server.port, connections=2, timeout=5)
    async with SmtpPool(config) as pool:
        for _ in range(10):
            assert (await pool.send(SENDER, RECIPIENT, MESSAGE)).outcome is Outcome.SENT
        assert server.handler.connections == 1  # one at a time: the same slot comes back

        results = await asyncio.gather(*(pool.send(SENDER, RECIPIENT, MESSAGE) for _ in range(20)))
        assert {r.outcome for r in results} == {Outcome.SENT}
        assert server.handler.connections <= 2
    assert len(server.handler.received) == 30


async def test_421_is_deferred_and_the_connection_is_replaced(
    server: SmtpServer, pool: SmtpPool
) -> None:
    server.handler.data_replies.append("421 4.3.2 Service shutting down")

    closing = await pool.send(SENDER, RECIPIENT, MESSAGE)
    after = await pool.send(SENDER, RECIPIENT, MESSAGE)

    assert (closing.outcome, closing.code) == (Outcome.DEFERRED, 421)
    assert not closing.recipient_only  # the server is going away for everyone
    assert after.outcome is Outcome.SENT
    assert server.handler.connections == 2


async def test_a_server_too_slow_to_answer_is_deferred(server: SmtpServer) -> None:
    server.handler.data_delay = 1.0
    async with SmtpPool(SmtpConfig(host=server.host, port=server.port, timeout=0.2)) as pool:
        slow = await pool.send(SENDER, RECIPIENT, MESSAGE)
        server.handler.data_delay = 0.0
        after = await pool.send(SENDER, RECIPIENT, MESSAGE)

    assert (slow.outcome, slow.code) == (Outcome.DEFERRED, None)
    assert slow.reply.startswith("connection error: ")
    assert after.outcome is Outcome.SENT
    assert server.handler.connections == 2


@pytest.fixture
def auth_server() -> Iterator[SmtpServer]:
    with smtp_server(
        authenticator=password_authenticator("relay-user", "s3cret"), auth_require_tls=False
    ) as running:
        yield running


async def test_auth_with_the_right_credentials_sends(auth_server: SmtpServer) -> None:
    config = SmtpConfig(
        host=auth_server.host, port=auth_server.port, username="relay-user", password="s3cret"
    )
    async with SmtpPool(config) as pool:
        result = await pool.send(SENDER, RECIPIENT, MESSAGE)

    assert result.outcome is Outcome.SENT
    assert len(auth_server.handler.received) == 1


async def test_auth_with_wrong_credentials_is_failed_535(auth_server: SmtpServer) -> None:
    config = SmtpConfig(
        host=auth_server.host, port=auth_server.port, username="relay-user", password="wrong"
    )
    async with SmtpPool(config) as pool:
        result = await pool.send(SENDER, RECIPIENT, MESSAGE)

    assert (result.outcome, result.code) == (Outcome.FAILED, 535)
    assert result.reply.startswith("535 ")
    assert "wrong" not in result.reply and "wrong" not in repr(config)
    assert auth_server.handler.received == []


async def test_auth_configured_but_not_offered_is_failed(server: SmtpServer) -> None:
    config = SmtpConfig(host=server.host, port=server.port, username="relay-user", password="x")
    async with SmtpPool(config) as pool:
        result = await pool.send(SENDER, RECIPIENT, MESSAGE)

    assert (result.outcome, result.code) == (Outcome.FAILED, None)
    assert "AUTH" in result.reply


async def test_a_non_ascii_address_goes_with_smtputf8(server: SmtpServer, pool: SmtpPool) -> None:
    result = await pool.send(SENDER, "zoé@exemple.fr", MESSAGE)

    assert result.outcome is Outcome.SENT
    assert server.handler.received[0].rcpt_tos == ["zoé@exemple.fr"]


async def test_starttls_configured_but_not_offered_is_failed(server: SmtpServer) -> None:
    config = SmtpConfig(host=server.host, port=server.port, tls="starttls", timeout=5)
    async with SmtpPool(config) as pool:
        result = await pool.send(SENDER, RECIPIENT, MESSAGE)

    assert (result.outcome, result.code) == (Outcome.FAILED, None)
    assert "STARTTLS" in result.reply
    assert server.handler.received == []


async def test_an_address_that_cannot_go_on_the_wire_is_failed_without_echo(
    server: SmtpServer, pool: SmtpPool
) -> None:
    for bad in [
        "bob@example.org>\r\nRCPT TO:<eve@evil.example",
        "Bob <bob@example.org>",
        "bob@example.org, eve@evil.example",
        " bob@example.org",
    ]:
        result = await pool.send(SENDER, bad, MESSAGE)
        assert (result.outcome, result.code, result.reply) == (
            Outcome.FAILED,
            None,
            "invalid envelope address",
        )
    after = await pool.send(SENDER, RECIPIENT, MESSAGE)

    assert after.outcome is Outcome.SENT
    assert [r.rcpt_tos for r in server.handler.received] == [[RECIPIENT]]


# TLS: a relay with a certificate signed by a CA made for the test run.


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> RelayCertificates:
    return make_certificates(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture
def starttls_server(certificates: RelayCertificates) -> Iterator[SmtpServer]:
    """A relay that offers STARTTLS (and AUTH only after it, aiosmtpd's default)."""
    with smtp_server(
        tls_context=certificates.server_context(),
        authenticator=password_authenticator("relay-user", "s3cret"),
    ) as running:
        yield running


@pytest.fixture
def implicit_tls_server(certificates: RelayCertificates) -> Iterator[SmtpServer]:
    """A relay that speaks TLS from the first byte, as on port 465."""
    with smtp_server(ssl_context=certificates.server_context()) as running:
        yield running


def tls_config(
    server: SmtpServer,
    tls: SmtpTls,
    ca_file: Path | None,
    username: str | None = None,
    password: str | None = None,
) -> SmtpConfig:
    return SmtpConfig(
        host=server.host,
        port=server.port,
        username=username,
        password=password,
        tls=tls,
        ca_file=str(ca_file) if ca_file else None,
        timeout=5,
    )


@pytest.mark.parametrize("tls", ["auto", "starttls"])
async def test_starttls_is_used_when_the_relay_offers_it(
    starttls_server: SmtpServer, certificates: RelayCertificates, tls: SmtpTls
) -> None:
    config = tls_config(starttls_server, tls, certificates.ca_file)
    async with SmtpPool(config) as pool:
        result = await pool.send(SENDER, RECIPIENT, MESSAGE)

    assert result.outcome is Outcome.SENT
    [received] = starttls_server.handler.received
    assert received.tls in {"TLSv1.2", "TLSv1.3"}  # the server saw a TLS session
    assert received.content == MESSAGE


async def test_auto_sends_in_clear_to_a_relay_without_starttls(server: SmtpServer) -> None:
    async with SmtpPool(tls_config(server, "auto", None)) as pool:
        result = await pool.send(SENDER, RECIPIENT, MESSAGE)

    assert result.outcome is Outcome.SENT
    assert [r.tls for r in server.handler.received] == [None]


async def test_none_never_upgrades_even_when_offered(
    starttls_server: SmtpServer, certificates: RelayCertificates
) -> None:
    async with SmtpPool(tls_config(starttls_server, "none", certificates.ca_file)) as pool:
        result = await pool.send(SENDER, RECIPIENT, MESSAGE)

    assert result.outcome is Outcome.SENT
    assert [r.tls for r in starttls_server.handler.received] == [None]


async def test_the_password_goes_only_after_starttls(
    starttls_server: SmtpServer, certificates: RelayCertificates
) -> None:
    """aiosmtpd refuses AUTH before TLS: auto mode upgrades first, then logs in."""
    config = tls_config(
        starttls_server, "auto", certificates.ca_file, username="relay-user", password="s3cret"
    )
    async with SmtpPool(config) as pool:
        result = await pool.send(SENDER, RECIPIENT, MESSAGE)

    assert result.outcome is Outcome.SENT
    assert starttls_server.handler.received[0].tls is not None


async def test_implicit_tls_sends_to_a_tls_relay(
    implicit_tls_server: SmtpServer, certificates: RelayCertificates
) -> None:
    async with SmtpPool(tls_config(implicit_tls_server, "implicit", certificates.ca_file)) as pool:
        first = await pool.send(SENDER, RECIPIENT, MESSAGE)
        second = await pool.send(SENDER, RECIPIENT, MESSAGE)

    assert (first.outcome, second.outcome) == (Outcome.SENT, Outcome.SENT)
    assert [r.tls is not None for r in implicit_tls_server.handler.received] == [True, True]
    assert implicit_tls_server.handler.connections == 1  # the TLS connection is kept


async def test_plain_smtp_to_an_implicit_tls_relay_sends_nothing(
    implicit_tls_server: SmtpServer,
) -> None:
    async with SmtpPool(tls_config(implicit_tls_server, "none", None)) as pool:
        result = await pool.send(SENDER, RECIPIENT, MESSAGE)

    assert result.outcome is Outcome.DEFERRED
    assert implicit_tls_server.handler.received == []


@pytest.mark.parametrize(("tls", "relay"), [("auto", "starttls"), ("implicit", "implicit")])
async def test_a_certificate_that_does_not_verify_is_deferred_and_nothing_sent(
    starttls_server: SmtpServer, implicit_tls_server: SmtpServer, tls: SmtpTls, relay: str
) -> None:
    """Without the test CA the relay's certificate is unknown: no fallback to clear text."""
    server = starttls_server if relay == "starttls" else implicit_tls_server
    async with SmtpPool(tls_config(server, tls, None)) as pool:
        result = await pool.send(SENDER, RECIPIENT, MESSAGE)

    assert (result.outcome, result.code) == (Outcome.DEFERRED, None)
    assert result.reply == "connection error: SSLCertVerificationError"
    assert server.handler.received == []


async def test_a_certificate_for_another_host_is_refused(tmp_path: Path) -> None:
    other = make_certificates(tmp_path, hosts=("relay.example.org",))
    with smtp_server(tls_context=other.server_context()) as server:
        async with SmtpPool(tls_config(server, "starttls", other.ca_file)) as pool:
            result = await pool.send(SENDER, RECIPIENT, MESSAGE)

    assert result.outcome is Outcome.DEFERRED
    assert result.reply == "connection error: SSLCertVerificationError"
    assert server.handler.received == []
