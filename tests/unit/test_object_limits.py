"""The /object limits on an injected clock, and whom X-Forwarded-For is believed from."""

from __future__ import annotations

import pytest

from notifications.addresses import (
    address_digest,
    derive_key,
    digest_of_pseudonym,
    index_keys,
    pseudonymous_user_id,
)
from notifications.forwarding import client_address, parse_networks
from notifications.object_limits import DAY, HOUR, ClientLimiter, SendLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_one_email_per_address_and_purpose_per_hour() -> None:
    clock = Clock()
    limiter = SendLimiter(3, clock=clock)
    assert limiter.allow("Ana@Example.org", "ai-training")
    for _ in range(20):
        assert not limiter.allow(" ana@example.ORG ", "ai-training")
    clock.now += HOUR - 1
    assert not limiter.allow("ana@example.org", "ai-training")
    clock.now += 1
    assert limiter.allow("ana@example.org", "ai-training")


def test_daily_cap_per_address_across_purposes() -> None:
    clock = Clock()
    limiter = SendLimiter(3, clock=clock)
    assert [limiter.allow("ana@example.org", f"p{i}") for i in range(5)] == [
        True,
        True,
        True,
        False,
        False,
    ]
    assert limiter.allow("bob@example.org", "p0")  # another address has its own cap
    clock.now += HOUR
    assert not limiter.allow("ana@example.org", "p0")  # the day is not over
    clock.now += DAY - HOUR
    assert limiter.allow("ana@example.org", "p0")


def test_send_limiter_memory_is_bounded_and_fails_closed() -> None:
    clock = Clock()
    limiter = SendLimiter(3, clock=clock, max_addresses=10)
    assert all(limiter.allow(f"u{i}@example.org", "p") for i in range(10))
    assert not limiter.allow("new@example.org", "p")  # full: no email rather than a repeat
    assert limiter.refused_full == 1
    assert not limiter.allow("u0@example.org", "p")  # the known ones are still limited
    clock.now += DAY
    assert limiter.allow("new@example.org", "p")  # the old entries expired
    assert len(limiter) == 1


def test_send_limiter_keeps_no_address_in_clear() -> None:
    limiter = SendLimiter(3, key=b"k" * 32)
    limiter.allow("secret.person@example.org", "ai-training")
    state = repr(vars(limiter))
    assert "secret.person" not in state and "example.org" not in state


def test_client_limit_per_minute_refills() -> None:
    clock = Clock()
    limiter = ClientLimiter(10, clock=clock)
    assert [limiter.allow("198.51.100.7") for _ in range(12)] == [True] * 10 + [False] * 2
    assert limiter.allow("198.51.100.8")  # another client
    clock.now += 6  # 10 per minute: one token back every 6 seconds
    assert limiter.allow("198.51.100.7")
    assert not limiter.allow("198.51.100.7")
    clock.now += 60
    assert len(limiter) <= 2
    assert all(limiter.allow("198.51.100.7") for _ in range(10))


def test_client_limit_counts_an_ipv6_host_by_its_slash_64() -> None:
    limiter = ClientLimiter(3, clock=Clock())
    answers = [limiter.allow(f"2001:db8:1:2::{i:x}") for i in range(5)]
    assert answers == [True, True, True, False, False]
    assert limiter.allow("2001:db8:1:3::1")


def test_client_limiter_memory_is_bounded() -> None:
    clock = Clock()
    limiter = ClientLimiter(5, clock=clock, max_clients=100)
    for i in range(1000):
        limiter.allow(f"10.0.{i // 256}.{i % 256}")
    assert len(limiter) == 100


TRUSTED = parse_networks("10.0.0.0/8, 192.0.2.1, 2001:db8::/32")


def test_forwarded_for_ignored_from_an_untrusted_peer() -> None:
    assert client_address("203.0.113.9", ["1.1.1.1"], TRUSTED) == "203.0.113.9"
    assert client_address("203.0.113.9", [], ()) == "203.0.113.9"


def test_forwarded_for_takes_the_right_most_untrusted_hop() -> None:
    # the client forged "1.1.1.1"; the proxy 10.1.1.1 appended the real client
    spoofed = ["1.1.1.1, 198.51.100.4, 10.1.1.1"]
    assert client_address("192.0.2.1", spoofed, TRUSTED) == "198.51.100.4"
    # several headers are one list, in order
    assert client_address("10.0.0.2", ["1.1.1.1", "198.51.100.4"], TRUSTED) == "198.51.100.4"


def test_forwarded_for_edge_cases() -> None:
    # no header from a trusted proxy: the proxy itself
    assert client_address("10.0.0.2", [], TRUSTED) == "10.0.0.2"
    # every hop trusted: the left-most
    assert client_address("10.0.0.2", ["10.9.9.9, 10.0.0.3"], TRUSTED) == "10.9.9.9"
    # garbage written after the last trusted hop: stop at the proxy that wrote it
    assert client_address("10.0.0.2", ["198.51.100.4, nonsense"], TRUSTED) == "10.0.0.2"
    # ports, brackets and IPv4-mapped IPv6
    assert client_address("10.0.0.2", ["198.51.100.4:5123"], TRUSTED) == "198.51.100.4"
    assert client_address("10.0.0.2", ["[2001:4860::1]:443"], TRUSTED) == "2001:4860::1"
    assert client_address("::ffff:10.0.0.2", ["198.51.100.4"], TRUSTED) == "198.51.100.4"
    # an IPv6 proxy in a trusted network
    assert client_address("2001:db8::5", ["203.0.113.1"], TRUSTED) == "203.0.113.1"
    # no peer (a Unix socket): one shared bucket
    assert client_address(None, ["1.1.1.1"], TRUSTED) == "unknown"


def test_trusted_proxies_setting_names_a_bad_entry() -> None:
    assert parse_networks("") == ()
    with pytest.raises(ValueError, match=r"'10\.0\.0\.300'"):
        parse_networks("10.0.0.1, 10.0.0.300")


def test_address_digest_is_keyed_and_normalized() -> None:
    key = derive_key(b"a-link-secret-of-32-bytes-000000")
    assert key != derive_key(b"another-link-secret-of-32-bytes0")
    assert address_digest(key, " Ana@Example.org ") == address_digest(key, "ana@example.org")
    assert address_digest(key, "ana@example.org") != address_digest(b"x" * 32, "ana@example.org")
    user_id = pseudonymous_user_id(key, "ana@example.org")
    assert user_id.startswith("email-hmac:") and "ana" not in user_id
    assert digest_of_pseudonym(user_id) == address_digest(key, "ana@example.org")
    assert digest_of_pseudonym("email-hmac:nothex") is None
    assert digest_of_pseudonym("u-1") is None
    assert index_keys([b"s1" * 8, b"s2" * 8])[0] == derive_key(b"s1" * 8)
