"""How every renderer of preavis builds its Jinja2 environment and its page's CSP.

One place for the settings that make a template error fail at start-up and
not in front of a person (``StrictUndefined``, no auto-reload), for the
autoescape rule, and for the ``Content-Security-Policy`` of a page whose only
resource is its own inline ``<style>``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

__all__ = ["html_only", "inline_style_policy", "template_environment"]


def html_only(name: str | None) -> bool:
    """Autoescape the HTML templates (``.html``, ``.html.j2``), not the plain-text ones."""
    return name is not None and name.endswith((".html", ".html.j2"))


def template_environment(
    folder: Path, *, autoescape: bool | Callable[[str | None], bool] = html_only
) -> Environment:
    """A Jinja2 environment over ``folder``: strict, whitespace-trimmed, never reloaded."""
    return Environment(
        loader=FileSystemLoader(folder),
        autoescape=autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )


def inline_style_policy(css: str, *, form_action: str | None = None) -> str:
    """A ``Content-Security-Policy`` allowing only the inline style ``css``, never framed.

    No script, no resource at all but that one ``<style>`` (allowed by its
    SHA-256), no ``<base>``; ``form_action`` (``'self'``, ``'none'``), when
    given, says where forms may post.
    """
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    forms = f"form-action {form_action}; " if form_action is not None else ""
    return (
        f"default-src 'none'; style-src 'sha256-{digest}'; base-uri 'none'; "
        f"{forms}frame-ancestors 'none'"
    )
