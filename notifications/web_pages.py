"""The objection pages (``/o/{token}``, ``/object``) and their two emails, in the reader's language.

Only rendering: the HTTP views decide what to record and send, and serve
:attr:`Page.html` with :attr:`Page.status`. Like :mod:`notifications.render`,
one Jinja2 environment is built once; the words come from per-language
catalogs with identical keys (``templates/web/i18n/*.json`` for the pages,
``templates/email/i18n_objections/*.json`` for the emails) and the operator's
texts (purpose names, descriptions, the controller's name) are passed as
*data*: autoescaped in HTML, never compiled as templates.

The pages are plain HTML5 documents: no JavaScript, no cookie, no external
resource (one inline ``<style>``, allowed by :attr:`WebPages.content_security_policy`),
a ``lang`` attribute, one ``<h1>``, a ``<label for>`` for every control and
a real ``<button type="submit">``. ``GET /o/{token}`` only shows a form: the
objection is recorded by its ``POST``, so that link scanners record nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Template
from markupsafe import Markup

from notifications.i18n import (
    FALLBACK_LANGUAGE,
    SUPPORTED_LANGUAGES,
    format_date,
    load_catalogs,
    pick_language,
)
from notifications.languages import language_of
from notifications.objections import REASON_MAX_CHARS
from notifications.render import _fill_filter, _wrap_filter
from notifications.template_folder import template_folder
from notifications.templating import inline_style_policy, template_environment

__all__ = [
    "ERROR_INVALID_EMAIL",
    "ERROR_UNKNOWN_PURPOSE",
    "OBJECT_FORM_PATH",
    "Email",
    "Page",
    "PurposeSummary",
    "WebPages",
    "page_language",
]

#: Where the form for people without a notice lives (``GET`` shows it, ``POST`` sends the link).
OBJECT_FORM_PATH = "/object"
#: ``error`` codes of :meth:`WebPages.object_form` shown translated (any other text: as is).
ERROR_INVALID_EMAIL = "invalid_email"
ERROR_UNKNOWN_PURPOSE = "unknown_purpose"
_ERROR_FIELDS = {ERROR_INVALID_EMAIL: "email", ERROR_UNKNOWN_PURPOSE: "purpose_id"}

_PAGES = ("objection", "objection_recorded", "not_found", "object_form", "object_request_sent")
_EMAILS = ("objection_confirmed", "objection_request")
# A path on this site ("/o/...", never "//host" nor "/\host") or an http(s) URL.
_ACTION = re.compile(r"(?:/(?![/\\])|https?://)[^\s\"'<>\\]*", re.IGNORECASE)
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_QUALITY = re.compile(r"0(?:\.\d{0,3})?|1(?:\.0{0,3})?")
_MAX_ACCEPT_LANGUAGE = 4096  # characters of the header read; the rest is ignored
_MAX_LANGUAGE_RANGES = 32


@dataclass(frozen=True, slots=True)
class PurposeSummary:
    """A purpose as the reader sees it, its texts already picked for their language."""

    purpose_id: str
    name: str  # already localized by the caller (pick_text)
    description: str | None
    starts_at: str | None  # RFC 3339, or None
    #: what objecting does before and after the start (``objection_effect``), localized
    objection_effect: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    status: int
    html: str


@dataclass(frozen=True, slots=True)
class Email:
    subject: str
    text: str
    html: str
    language: str  # the language actually used, for Content-Language


def page_language(accept_language: str | None) -> str:
    """The best supported language for an ``Accept-Language`` header, else ``en``.

    Ranges are ranked by q-value (ties: the order written); a range counts by
    its language (``fr-BE`` -> ``fr``); ``q=0``, a malformed q-value, ``*``
    and unsupported languages are skipped.
    """
    if not accept_language:
        return FALLBACK_LANGUAGE
    ranked: list[tuple[float, int, str]] = []
    items = accept_language[:_MAX_ACCEPT_LANGUAGE].split(",")[:_MAX_LANGUAGE_RANGES]
    for index, item in enumerate(items):
        tag, *params = item.split(";")
        language = language_of(tag)  # "no" is read as "nb"
        if language not in SUPPORTED_LANGUAGES:
            continue
        quality = _quality(params)
        if quality is not None and quality > 0:
            ranked.append((-quality, index, language))
    return min(ranked)[2] if ranked else FALLBACK_LANGUAGE


def _quality(params: list[str]) -> float | None:
    """The q-value of a language range (1 when absent), ``None`` when malformed."""
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            value = value.strip()
            return float(value) if _QUALITY.fullmatch(value) else None
    return 1.0


class WebPages:
    """Renders the objection pages and emails from one Jinja2 environment, built once."""

    def __init__(self, templates_dir: Path | None = None) -> None:
        folder = templates_dir or template_folder()
        self.catalogs = load_catalogs(folder / "web" / "i18n")
        self.email_catalogs = load_catalogs(folder / "email" / "i18n_objections")
        css = (folder / "web" / "page.css").read_text(encoding="utf-8").strip()
        if "<" in css:
            raise ValueError("templates/web/page.css must not contain '<'")
        self._css = Markup(css)
        #: A ``Content-Security-Policy`` the pages work under: no script, no
        #: resource but their own ``<style>``, never framed (no clickjacking of
        #: the confirm button).
        self.content_security_policy = inline_style_policy(css)
        self.env = template_environment(folder)
        self.env.filters.update(wrap=_wrap_filter, fill=_fill_filter)
        # Loaded now: a broken template fails at start-up, not on a person's click.
        self._pages: dict[str, Template] = {
            name: self.env.get_template(f"web/{name}.html.j2") for name in _PAGES
        }
        self._emails: dict[str, tuple[Template, Template]] = {
            name: (
                self.env.get_template(f"email/{name}.txt.j2"),
                self.env.get_template(f"email/{name}.html.j2"),
            )
            for name in _EMAILS
        }

    # --- pages -----------------------------------------------------------------

    def objection(
        self,
        language: str,
        purposes: list[PurposeSummary],
        controller_name: str | None,
        action_url: str,
    ) -> Page:
        """``GET /o/{token}``: what the objection covers and a form that POSTs to ``action_url``."""
        if not _ACTION.fullmatch(action_url):
            raise ValueError("action_url must be a path on this site or an http(s) URL")
        lang = pick_language(language)
        return self._page(
            "objection",
            lang,
            "objection_title",
            purposes=_summaries(purposes, lang),
            controller=controller_name or None,
            action_url=action_url,
            reason_max_length=REASON_MAX_CHARS,
        )

    def objection_recorded(self, language: str, purposes: list[PurposeSummary]) -> Page:
        """``POST /o/{token}``: the objection is recorded (the same words on a repeat)."""
        lang = pick_language(language)
        return self._page(
            "objection_recorded", lang, "recorded_title", purposes=_summaries(purposes, lang)
        )

    def not_found(self, language: str) -> Page:
        """404 for a forged, tampered or unknown token: how to object anyway."""
        return self._page("not_found", pick_language(language), "not_found_title", status=404)

    def object_form(
        self,
        language: str,
        purposes: list[PurposeSummary],
        error: str | None = None,
        email_value: str = "",
    ) -> Page:
        """``GET /object`` (200), or the same form again with ``error`` (400).

        ``error`` is :data:`ERROR_INVALID_EMAIL` or :data:`ERROR_UNKNOWN_PURPOSE`
        (shown translated, the field marked invalid) or any other text, shown as is.
        """
        lang = pick_language(language)
        message = None
        if error is not None:
            code = error if error in _ERROR_FIELDS else None
            message = self.catalogs[lang][f"error_{code}"] if code else error
        return self._page(
            "object_form",
            lang,
            "objection_title",
            status=200 if error is None else 400,
            purposes=_summaries(purposes, lang),
            error=message,
            invalid=_ERROR_FIELDS.get(error or ""),
            email_value=email_value,
        )

    def object_request_sent(self, language: str) -> Page:
        """After ``POST /object``: the same answer whether the address is known or not."""
        return self._page("object_request_sent", pick_language(language), "sent_title")

    def _page(
        self, name: str, language: str, heading: str, status: int = 200, **values: Any
    ) -> Page:
        t = self.catalogs[language]
        title = t[heading]
        if values.get("error") is not None:
            title = f"{t['error_prefix']}{t['colon']} {title}"
        html = self._pages[name].render(
            values,
            t=t,
            language=language,
            css=self._css,
            heading=t[heading],
            title=title,
            object_form_path=OBJECT_FORM_PATH,
        )
        return Page(status=status, html=html)

    # --- emails ----------------------------------------------------------------

    def objection_confirmed_email(
        self, language: str, purposes: list[PurposeSummary], controller_name: str | None
    ) -> Email:
        """Sent once an objection is recorded: what, that it applies, whom to ask."""
        lang = pick_language(language)
        return self._email(
            "objection_confirmed",
            lang,
            "confirmed_subject",
            purposes=_summaries(purposes, lang),
            controller=controller_name or None,
        )

    def objection_request_email(
        self, language: str, purpose: PurposeSummary, confirm_url: str
    ) -> Email:
        """For ``/object``: the signed link that the person must open to confirm."""
        if not _URL.fullmatch(confirm_url):
            raise ValueError("confirm_url must be an http(s) URL without spaces")
        lang = pick_language(language)
        [summary] = _summaries([purpose], lang)
        return self._email(
            "objection_request", lang, "request_subject", purpose=summary, url=confirm_url
        )

    def _email(self, name: str, language: str, subject_key: str, **values: Any) -> Email:
        t = self.email_catalogs[language]
        subject = t[subject_key]
        context = {**values, "t": t, "language": language, "subject": subject}
        text_template, html_template = self._emails[name]
        return Email(
            subject=subject,
            text=text_template.render(context),
            html=html_template.render(context),
            language=language,
        )


def _summaries(purposes: list[PurposeSummary], language: str) -> list[dict[str, str | None]]:
    return [
        {
            "purpose_id": purpose.purpose_id,
            "name": purpose.name,
            "description": (purpose.description or "").strip() or None,
            "date": _date(purpose.starts_at, language),
            "objection_effect": (purpose.objection_effect or "").strip() or None,
        }
        for purpose in purposes
    ]


def _date(moment: str | None, language: str) -> str | None:
    """The start date for the reader (no-break spaces), or None when absent or unreadable."""
    if not moment:
        return None
    try:
        return format_date(moment, language).replace(" ", "\u00a0")
    except ValueError:
        return None
