"""The web surface's rules, no broker: allowlist, faces, sessions, throttle, proxies, origin."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from multidict import CIMultiDict

from notifications.forwarding import parse_networks
from notifications.signin_page import SignInPage, SignInView
from streams.app import create_app
from streams.settings import Settings
from streams.web.auth import Authenticator, Role, is_admin
from streams.web.proxies import TrustedProxies
from streams.web.server import aiohttp_application
from streams.web.sessions import SessionCodec, derive_key
from streams.web.surface import ROUTES, Face, face_of, faces_of_port
from streams.web.throttle import MAX_LOCKOUT_SECONDS, SignInThrottle
from tests.unit.test_app import make_settings


class Clock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def fake_request(
    headers: dict[str, str] | None = None,
    *,
    peer: str = "127.0.0.1",
    method: str = "GET",
    host: str = "127.0.0.1:6066",
    cookies: dict[str, str] | None = None,
) -> Any:
    transport = SimpleNamespace(get_extra_info=lambda name: (peer, 50000))
    return SimpleNamespace(
        headers=CIMultiDict(headers or {}),
        transport=transport,
        remote=peer,
        method=method,
        host=host,
        cookies=cookies or {},
    )


def test_the_allowlist_is_exactly_the_views_the_app_registers(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))
    assert set(app.web.views) == set(ROUTES)


def test_faust_never_mounts_its_built_in_pages(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))
    routes = aiohttp_application(app).router.routes()
    patterns = {r.resource.canonical for r in routes if r.resource is not None}
    assert patterns == set(ROUTES)
    assert not any(p.startswith(("/table", "/router", "/stats", "/graph")) for p in patterns)
    assert app.conf.web_bind == app.conf.web_host == "127.0.0.1"
    assert app._web_server_service is not None  # Faust's own server is never started


def test_faces_and_ports() -> None:
    assert face_of("/o/{token}") is Face.PUBLIC
    assert face_of("/dashboard") is Face.INTERNAL
    assert face_of("/table/{name}/{key}/") is None and face_of(None) is None
    assert faces_of_port(6066, 6066, None) == {Face.PUBLIC, Face.INTERNAL}
    assert faces_of_port(6066, 6066, 6067) == {Face.PUBLIC}
    assert faces_of_port(6067, 6066, 6067) == {Face.INTERNAL}
    assert faces_of_port(9999, 6066, 6067) == set()


def test_sessions_expire_and_refuse_tampering() -> None:
    clock = Clock(1_700_000_000)
    codec = SessionCodec(b"k" * 32, 600, clock=clock)
    value = codec.issue(Role.COMPLIANCE, "alice")
    session = codec.read(value)
    assert session is not None and session.role is Role.COMPLIANCE and session.name == "alice"
    body, _, mac = value.partition(".")
    assert codec.read(body.replace(body[5], "A" if body[5] != "A" else "B") + "." + mac) is None
    assert codec.read(value + "x") is None and codec.read("") is None and codec.read("a.b") is None
    assert SessionCodec(b"o" * 32, 600, clock=clock).read(value) is None  # another key
    clock.now += 601
    assert codec.read(value) is None


def test_a_new_token_ends_every_session() -> None:
    assert derive_key(b"secret", b"admin-1") != derive_key(b"secret", b"admin-2")


def test_throttle_is_free_at_first_then_doubles_and_forgets() -> None:
    clock = Clock()
    throttle = SignInThrottle(clock=clock, free_failures=2)
    assert [throttle.failed("a"), throttle.failed("a")] == [0, 0]
    assert throttle.retry_after("a") == 0
    assert throttle.failed("a") == 1 and throttle.retry_after("a") == 1
    assert throttle.retry_after("b") == 0  # per client
    assert [throttle.failed("a") for _ in range(3)] == [2, 4, 8]
    for _ in range(20):
        throttle.failed("a")
    assert throttle.retry_after("a") == MAX_LOCKOUT_SECONDS
    clock.now += 3601 + MAX_LOCKOUT_SECONDS
    assert throttle.retry_after("a") == 0 and throttle.failed("a") == 0
    throttle.failed("c")
    throttle.succeeded("c")
    assert throttle.retry_after("c") == 0


def test_throttle_memory_is_bounded() -> None:
    throttle = SignInThrottle(free_failures=0, max_clients=3)
    for client in "abcd":
        throttle.failed(client)
    assert throttle.retry_after("a") == 0 and throttle.retry_after("d") > 0


def test_forwarded_headers_are_believed_only_from_trusted_proxies() -> None:
    proxies = TrustedProxies("10.0.0.0/8, 127.0.0.4")
    staff = {"X-Staff-User": "alice", "X-Forwarded-For": "203.0.113.9, 10.1.2.3"}
    assert proxies.forwarded_header(fake_request(staff, peer="127.0.0.4"), "X-Staff-User") == (
        "alice"
    )
    assert proxies.forwarded_header(fake_request(staff, peer="127.0.0.1"), "X-Staff-User") is None
    assert proxies.client_address(fake_request(staff, peer="10.9.9.9")) == "203.0.113.9"
    assert proxies.client_address(fake_request(staff, peer="198.51.100.1")) == "198.51.100.1"
    with pytest.raises(ValueError, match="PREAVIS_TRUSTED_PROXIES"):
        parse_networks("10.0.0.0/8, not-an-ip")


def auth_settings(tmp_path: Path, **overrides: object) -> Settings:
    return make_settings(
        tmp_path,
        admin_token="admin-token-0123456789abcdef0123456789",
        compliance_token="compliance-token-0123456789abcdef012345",
        **overrides,
    )


def test_tokens_give_their_role_and_cookies_their_attributes(tmp_path: Path) -> None:
    auth = Authenticator(auth_settings(tmp_path, public_url="https://preavis.example"))
    assert auth.role_of_token("admin-token-0123456789abcdef0123456789") is Role.ADMIN
    assert auth.role_of_token("compliance-token-0123456789abcdef012345") is Role.COMPLIANCE
    assert auth.role_of_token("admin-token-0123456789abcdef012345678") is None
    assert Role.ADMIN.may(Role.COMPLIANCE) and not Role.COMPLIANCE.may(Role.ADMIN)
    assert auth.cookie_name == "__Host-preavis_session" and auth.secure


def test_no_token_configured_means_nobody(tmp_path: Path) -> None:
    auth = Authenticator(make_settings(tmp_path))
    assert auth.role_of_token("") is None and auth.role_of_token("anything") is None
    assert not is_admin(fake_request({"Authorization": "Bearer x"}), make_settings(tmp_path))


def test_a_session_changes_nothing_from_another_site(tmp_path: Path) -> None:
    auth = Authenticator(auth_settings(tmp_path))
    cookies = {"preavis_session": auth.sessions.issue(Role.ADMIN)}
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Referer": "https://evil.example/page"},
    ):
        request = fake_request(headers, method="POST", cookies=cookies)
        assert auth.session_of(request) is None, headers
    for headers in (
        {},
        {"Origin": "http://127.0.0.1:6066"},
        {"Origin": "null", "Sec-Fetch-Site": "same-origin"},  # Chromium under no-referrer
    ):
        request = fake_request(headers, method="POST", cookies=cookies)
        assert auth.session_of(request) is not None, headers
    # reading is harmless: a GET navigation from elsewhere still sees the session
    request = fake_request({"Sec-Fetch-Site": "cross-site"}, cookies=cookies)
    assert auth.session_of(request) is not None


def test_the_sign_in_page_is_a_plain_labelled_form() -> None:
    page = SignInPage()
    html = page.render(SignInView(error="That token is not right."), minutes=30)
    assert '<label for="token">' in html and 'aria-invalid="true"' in html
    assert 'role="alert"' in html and "<script" not in html
    assert "form-action 'self'" in page.content_security_policy
    assert "Sign out" in page.render(SignInView(signed_in="with the admin role"), minutes=30)
