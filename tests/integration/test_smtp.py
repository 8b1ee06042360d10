"""SmtpPool against a real aiosmtpd server on 127.0.0.1 (no Kafka needed)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from notifications.smtp import Outcome, SmtpConfig, SmtpPool
from tests.support.smtp_server import (
    SmtpServer,
    free_port,
    password_authenticator,
    smtp_server,
)

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
    config = SmtpConfig(host=server.host, port=server.port, starttls=True, timeout=5)
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
