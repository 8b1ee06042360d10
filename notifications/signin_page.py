"""The dashboard's sign-in and sign-out page (``/signin``, ``/signout``).

Only rendering, like :mod:`notifications.web_pages`, whose base template and
stylesheet it shares: a plain HTML5 document, no JavaScript, no external
resource (one inline ``<style>``, allowed by
:attr:`SignInPage.content_security_policy`), a ``<label for>`` for the one
field and a real submit button. In English, like the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from notifications.template_folder import template_folder
from notifications.templating import inline_style_policy, template_environment

__all__ = ["SignInPage", "SignInView"]

TEMPLATE = "web/signin.html.j2"


@dataclass(frozen=True, slots=True)
class SignInView:
    """What the page says: an error, a notice, or who is signed in already."""

    error: str | None = None
    notice: str | None = None
    signed_in: str | None = None  # e.g. "with the compliance role (read only)"


class SignInPage:
    """Renders the sign-in page from one Jinja2 environment, built once."""

    def __init__(self, templates_dir: Path | None = None) -> None:
        folder = templates_dir or template_folder()
        css = (folder / "web" / "page.css").read_text(encoding="utf-8").strip()
        if "<" in css:
            raise ValueError("templates/web/page.css must not contain '<'")
        self._css = Markup(css)
        #: Its own style only, forms posted to this site only, never framed.
        self.content_security_policy = inline_style_policy(css, form_action="'self'")
        env = template_environment(folder, autoescape=True)
        # Loaded now: a broken template fails at start-up.
        self._template = env.get_template(TEMPLATE)

    def render(self, view: SignInView, *, minutes: int) -> str:
        """The whole HTML document."""
        heading = "Sign in to the compliance dashboard" if view.signed_in is None else "Signed in"
        title = f"Error: {heading} - preavis" if view.error else f"{heading} - preavis"
        return self._template.render(
            language="en",
            css=self._css,
            heading=heading,
            title=title,
            error=view.error,
            notice=view.notice,
            signed_in=view.signed_in,
            minutes=minutes,
        )
