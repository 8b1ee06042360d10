"""The shared Jinja2 environment and inline-style CSP of notifications.templating."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from notifications.templating import html_only, inline_style_policy, template_environment


def test_inline_style_policy_allows_only_that_style() -> None:
    css = "body{color:red}"
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert inline_style_policy(css) == (
        f"default-src 'none'; style-src 'sha256-{digest}'; base-uri 'none'; frame-ancestors 'none'"
    )
    assert inline_style_policy(css, form_action="'self'") == (
        f"default-src 'none'; style-src 'sha256-{digest}'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


def test_html_only_escapes_html_templates() -> None:
    assert html_only("web/page.html.j2") and html_only("a.html")
    assert not html_only("email/notice.txt.j2") and not html_only(None)


def test_template_environment_is_strict_and_escapes_html(tmp_path: Path) -> None:
    (tmp_path / "a.html.j2").write_text("{{ x }}\n", encoding="utf-8")
    (tmp_path / "a.txt.j2").write_text("{{ x }}\n", encoding="utf-8")
    env = template_environment(tmp_path)
    assert env.get_template("a.html.j2").render(x="<b>") == "&lt;b&gt;\n"
    assert env.get_template("a.txt.j2").render(x="<b>") == "<b>\n"
    with pytest.raises(UndefinedError):
        env.get_template("a.txt.j2").render()
    assert not env.auto_reload
