"""SMTP pieces without a network: reply classification, redaction, backoff, rate limiting.

The pool-level rate test runs an in-process aiosmtpd server on 127.0.0.1, with
a fake clock: nothing sleeps for real.
"""

from __future__ import annotations

import asyncio
import random
from typing import get_args

import pytest

from notifications.backoff import backoff_delay
from notifications.events import NoticeDelivery
from notifications.ratelimit import RateLimiter
from notifications.smtp import Outcome, SmtpConfig, SmtpPool, classify, tls_options
from notifications.smtp_reply import MAX_REPLY_CHARS, redact
from tests.support.smtp_server import smtp_server


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        (250, "2.0.0 Ok: queued as 4F2A", Outcome.SENT),
        (251, "User not local; will forward", Outcome.SENT),
        (421, "4.3.2 Service shutting down", Outcome.DEFERRED),
        (450, "4.2.1 Mailbox busy", Outcome.DEFERRED),
        (451, "4.3.0 Try again later", Outcome.DEFERRED),
        (452, "4.2.2 Mailbox full", Outcome.DEFERRED),
        (454, "4.7.0 Temporary authentication failure", Outcome.DEFERRED),
        (450, "4.1.1 Recipient address rejected: unverified", Outcome.DEFERRED),
        (550, "5.1.1 User unknown", Outcome.BOUNCED),
        (550, "5.1.1 <a@b.example>: Recipient address rejected", Outcome.BOUNCED),
        (553, "5.1.3 Bad destination mailbox address syntax", Outcome.BOUNCED),
        (554, "5.1.1 Mailbox does not exist", Outcome.BOUNCED),
        (550, "5.1.10 Recipient address has null MX", Outcome.BOUNCED),
        (551, "5.1.6 User has moved", Outcome.BOUNCED),
        (550, "5.1.1-first line\n5.1.1 second line", Outcome.BOUNCED),
        (553, "5.1.8 Bad sender's system address", Outcome.FAILED),
        (550, "5.1.7 Bad sender's mailbox address syntax", Outcome.FAILED),
        (550, "5.1.0 <p@x.example>: Sender address rejected: Domain not found", Outcome.FAILED),
        (550, "5.7.1 Relaying denied", Outcome.FAILED),
        (550, "5.7.1 User unknown", Outcome.FAILED),  # the enhanced code wins over the text
        (554, "5.7.1 Rejected", Outcome.FAILED),
        (552, "5.3.4 Message too big", Outcome.FAILED),
        (535, "5.7.8 Authentication credentials invalid", Outcome.FAILED),
        (550, "User unknown", Outcome.BOUNCED),
        (550, "No such user here", Outcome.BOUNCED),
        (551, "unknown user", Outcome.BOUNCED),
        (553, "mailbox not found", Outcome.BOUNCED),
        (550, "Requested action not taken: mailbox unavailable", Outcome.FAILED),
        (550, "Message rejected as spam", Outcome.FAILED),
        (554, "User unknown", Outcome.FAILED),  # no enhanced code, not 550/551/553
        (550, "rejected by 5.1.1.4 [5.1.1.4]", Outcome.FAILED),  # an IP address is not a status
        (354, "End data with <CR><LF>.<CR><LF>", Outcome.FAILED),
        (600, "nonsense", Outcome.FAILED),
    ],
)
def test_classify(code: int, message: str, expected: Outcome) -> None:
    assert classify(code, message) is expected


def test_outcome_values_are_the_contract_statuses() -> None:
    # one enum for every status a notice.delivery event may carry, and no other
    statuses = get_args(NoticeDelivery.model_fields["status"].annotation)
    assert sorted(o.value for o in Outcome) == sorted(statuses)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("550 5.1.1 <alice@example.org>: User unknown", "550 5.1.1 <address>: User unknown"),
        ("550 5.1.1 alice@example.org... User unknown", "550 5.1.1 <address> User unknown"),
        ("550 user zoé@exemple.fr unknown", "550 user <address> unknown"),
        ("451 4.3.0 try\r\n  later", "451 4.3.0 try later"),
        ("250 2.0.0 Ok: queued", "250 2.0.0 Ok: queued"),
    ],
)
def test_redact_masks_addresses(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_redact_masks_the_given_addresses_even_when_they_do_not_look_like_one() -> None:
    assert redact('550 "odd local"@x unknown', '"odd local"@x') == "550 <address> unknown"
    assert redact("550 mailbox BOB@EXAMPLE.ORG full", "bob@example.org") == (
        "550 mailbox <address> full"
    )


def test_redact_bounds_the_length() -> None:
    reply = redact("554 " + "x" * 1000)
    assert len(reply) == MAX_REPLY_CHARS and reply.endswith("…")


def test_config_repr_hides_the_password() -> None:
    config = SmtpConfig(username="relay", password="hunter2")
    assert "hunter2" not in repr(config)
    assert "relay" in repr(config)


@pytest.mark.parametrize(
    "kwargs",
    [{"connections": 0}, {"max_rate": -1.0}, {"timeout": 0.0}, {"port": 0}, {"tls": "yes"}],
)
def test_config_rejects_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        SmtpConfig(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tls", "port", "expected"),
    [
        ("auto", 587, (False, None)),  # aiosmtplib's opportunistic STARTTLS
        ("auto", 25, (False, None)),
        ("auto", 465, (True, False)),  # port 465 is TLS from the first byte
        ("starttls", 587, (False, True)),
        ("starttls", 465, (False, True)),  # told so: STARTTLS even there
        ("implicit", 2465, (True, False)),
        ("none", 465, (False, False)),
        ("none", 25, (False, False)),
    ],
)
def test_tls_modes_map_to_aiosmtplib(
    tls: str, port: int, expected: tuple[bool, bool | None]
) -> None:
    assert tls_options(SmtpConfig(port=port, tls=tls)) == expected  # type: ignore[arg-type]


def test_tls_is_on_by_default() -> None:
    assert SmtpConfig().tls == "auto"
    assert tls_options(SmtpConfig()) == (False, None)


def test_backoff_delay_stays_within_full_jitter_bounds() -> None:
    rng = random.Random(42)
    for attempt in range(1, 30):
        ceiling = min(300.0, 2.0 ** (attempt - 1))
        delays = [backoff_delay(attempt, rng=rng) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2  # spread over the window, not stuck near 0
    assert all(backoff_delay(10_000, rng=rng) <= 300.0 for _ in range(10))


def test_backoff_delay_honours_base_and_cap_and_is_reproducible() -> None:
    first = [backoff_delay(n, base=0.5, cap=10.0, rng=random.Random(7)) for n in range(1, 8)]
    again = [backoff_delay(n, base=0.5, cap=10.0, rng=random.Random(7)) for n in range(1, 8)]
    assert first == again
    assert all(d <= min(10.0, 0.5 * 2 ** (n - 1)) for n, d in enumerate(first, start=1))


def test_backoff_delay_rejects_attempt_zero() -> None:
    with pytest.raises(ValueError):
        backoff_delay(0)


class FakeTime:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        wake = self.now + delay
        await asyncio.sleep(0)
        self.now = max(self.now, wake)  # concurrent sleepers: the clock ends at the latest wake


async def test_rate_limiter_spaces_acquisitions() -> None:
    fake = FakeTime()
    limiter = RateLimiter(4.0, clock=fake.clock, sleep=fake.sleep)
    times = []
    for _ in range(5):
        await limiter.acquire()
        times.append(fake.now)
    assert times == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])


async def test_rate_limiter_without_rate_never_sleeps() -> None:
    fake = FakeTime()
    limiter = RateLimiter(0.0, clock=fake.clock, sleep=fake.sleep)
    for _ in range(100):
        await limiter.acquire()
    assert fake.sleeps == []


async def test_rate_limiter_lets_an_idle_caller_through_at_once() -> None:
    fake = FakeTime()
    limiter = RateLimiter(10.0, clock=fake.clock, sleep=fake.sleep)
    await limiter.acquire()
    fake.now = 5.0
    await limiter.acquire()
    assert fake.sleeps == []


@pytest.mark.parametrize("concurrent", [False, True])
async def test_pool_max_rate_spaces_30_sends_over_2_9_seconds(concurrent: bool) -> None:
    fake = FakeTime()
    with smtp_server() as server:
        config = SmtpConfig(host=server.host, port=server.port, max_rate=10.0, timeout=5)
        async with SmtpPool(config, clock=fake.clock, sleep=fake.sleep) as pool:
            if concurrent:
                results = await asyncio.gather(
                    *(pool.send("a@x.example", "b@y.example", b"Hi\r\n") for _ in range(30))
                )
            else:
                results = [
                    await pool.send("a@x.example", "b@y.example", b"Hi\r\n") for _ in range(30)
                ]

    assert {r.outcome for r in results} == {Outcome.SENT}
    assert len(server.handler.received) == 30
    assert fake.now == pytest.approx(2.9)
    assert len(fake.sleeps) == 29
