"""Render a notice (text + HTML) in the reader's language, deterministically.

The templates (``templates/email/notice_{purpose,terms}.{txt,html}.j2``) are
shared by every language; the words come from ``templates/email/i18n/*.json``
and the operator's texts (names, descriptions, retention...) are passed as
*variables*: they are data, never template code, and the HTML escapes them.
Nothing here reads the clock or draws a random number, so the same context
gives the same bytes and :attr:`RenderedNotice.content_sha256` proves what
was sent. A field the notice needs but the change lacks raises
:class:`~notifications.errors.InvalidEvent` rather than an incomplete notice.

A notice is in one language, the operator's texts included: the one
:func:`notifications.languages.notice_language` picks for the reader's
locale and country among the languages the operator wrote *every* text in.
No field falls back to English on its own (the campaign check refuses a
change lacking a language its audience needs, so that a reader gets their
own language whole, not English in the middle of it).
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup, escape

from notifications.authorities import authority_for, same_authority
from notifications.campaign import ChangeJson
from notifications.errors import InvalidEvent
from notifications.i18n import (
    SUPPORTED_LANGUAGES,
    Picked,
    data_category_phrase,
    fill,
    format_date,
    load_catalogs,
    pick_language,
    pick_text,
)
from notifications.languages import (
    OPERATOR_TEXT_FIELDS,
    notice_language,
    text_in,
    written_languages,
)
from notifications.template_folder import template_folder
from notifications.templating import template_environment

__all__ = [
    "SUPPORTED_LANGUAGES",
    "NoticeContext",
    "NoticeRenderer",
    "RenderedNotice",
    "format_date",
    "pick_language",
    "pick_text",
]

WRAP_WIDTH = 76
_TYPES = {"purpose": "purpose.declared", "terms": "terms.published"}
_URL = re.compile(r"https?://\S+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class NoticeContext:
    """What to tell one person: the change, their locale and their objection link."""

    campaign_id: str
    kind: Literal["purpose", "terms"]
    change: ChangeJson  # the purpose.declared / terms.published event as JSON
    locale: str  # the user's BCP 47 locale, e.g. "fr-BE"
    objection_url: str | None  # None when there is nothing to object to
    country: str | None = None


@dataclass(frozen=True, slots=True)
class RenderedNotice:
    language: str  # the language actually used, for Content-Language
    subject: str  # one line
    text: str
    html: str

    @property
    def content_sha256(self) -> str:
        """SHA-256 (hex) of subject, text and HTML: the proof of what was sent."""
        content = f"{self.subject}\n\n{self.text}\n\n{self.html}"
        return hashlib.sha256(content.encode("utf-8")).hexdigest()


@pass_eval_context
def _wrap_filter(eval_ctx: EvalContext, value: str) -> str:
    """Wrap each line at :data:`WRAP_WIDTH` (escaped first in HTML), never inside a word."""
    html = eval_ctx.autoescape
    source = str(escape(value)) if html else str(value)
    wrapped = "\n".join(_wrap_line(line) for line in source.splitlines())
    return Markup(wrapped) if html else wrapped


@functools.lru_cache(maxsize=4096)  # a campaign's texts repeat for every reader
def _wrap_line(line: str) -> str:
    """Greedy wrap at ASCII spaces only (a no-break space holds); faster than textwrap."""
    if len(line) <= WRAP_WIDTH:
        return line
    lines: list[str] = []
    current = ""
    for word in filter(None, line.split(" ")):
        if current and len(current) + 1 + len(word) > WRAP_WIDTH:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    lines.append(current)
    return "\n".join(lines)


@pass_eval_context
def _fill_filter(eval_ctx: EvalContext, template: str, **values: Any) -> str:
    """A catalog string with its ``{placeholders}`` filled; values escaped in HTML."""
    if eval_ctx.autoescape:
        escaped = {name: str(escape(value)) for name, value in values.items()}
        return Markup(fill(str(escape(template)), escaped))
    return fill(template, {name: str(value) for name, value in values.items()})


def _lang_filter(picked: Picked) -> Markup:
    """`` lang="en"`` for a text in another language than the email's, else nothing."""
    return Markup(' lang="{}"').format(picked.lang) if picked.lang else Markup("")


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


class NoticeRenderer:
    """Renders notices from one Jinja2 environment, built once."""

    def __init__(self, templates_dir: Path | None = None) -> None:
        folder = templates_dir or template_folder()
        self.catalogs = load_catalogs(folder / "email" / "i18n")
        self.env = template_environment(folder)
        self.env.filters.update(wrap=_wrap_filter, fill=_fill_filter, lang=_lang_filter)

    def language_for(self, context: NoticeContext) -> str:
        """The one language ``context``'s notice is written in (see the module docstring)."""
        written = written_languages(context.change, context.kind)
        return notice_language(context.locale, context.country, written, shipped=self.catalogs)

    def render(self, context: NoticeContext) -> RenderedNotice:
        change = context.change
        if change.get("type", _TYPES[context.kind]) != _TYPES[context.kind]:
            raise InvalidEvent("type", f"is not a {_TYPES[context.kind]} event")
        for field in OPERATOR_TEXT_FIELDS[context.kind]:
            _localized(change.get(field), field)  # a wrong type names its field
        language = self.language_for(context)

        def text(field: str) -> Picked:
            picked = optional(field)
            if picked is None:
                raise InvalidEvent(field, "is required in a notice")
            return picked

        def optional(field: str) -> Picked | None:
            # In the notice's language or not at all: never another language's text.
            found = text_in(change.get(field), language, context.locale)
            return None if found is None else Picked(found, None)

        catalog = self.catalogs[language]
        v: dict[str, Any] = {"t": catalog, "language": language}
        v["controller"] = _controller(change.get("controller"))
        v["authority"] = own = authority_for(context.country, language)
        lead = v["controller"]["complaint_url"]
        v["lead_authority_url"] = None if lead and own and same_authority(lead, own) else lead
        if context.kind == "purpose":
            basis = change.get("legal_basis")
            if f"legal_basis_{basis}" not in catalog:  # the catalog names the six of Art. 6(1)
                raise InvalidEvent("legal_basis", "is not a legal basis of GDPR Art. 6(1)")
            v["data_categories"] = _category_phrases(change, language)
            v |= {
                field: text(field) for field in ("name", "description", "retention", "recipients")
            }
            v |= {
                field: optional(field)
                for field in ("legitimate_interest", "transfers", "objection_effect")
            }
            if basis == "legitimate_interest" and v["legitimate_interest"] is None:
                raise InvalidEvent("legitimate_interest", "is required on legitimate_interest")
            v["legal_basis"] = catalog[f"legal_basis_{basis}"]
            v["consent"] = basis == "consent"
            v["start"] = date = _date(change, "starts_at", language)
            v["policy_url"] = _url(change.get("policy_url"), "policy_url")
            subject = fill(
                catalog["subject_purpose"],
                {"name": v["name"].text, "date": _plain_date(change, "starts_at", language)},
            )
            purposes: list[str] = []
        else:
            v |= {"title": text("title"), "summary": text("summary")}
            v["effective"] = date = _date(change, "effective_at", language)
            v["url"] = _url(change.get("url"), "url")
            subject = fill(
                catalog["subject_terms"],
                {"title": v["title"].text, "date": _plain_date(change, "effective_at", language)},
            )
            purposes = _strings(change.get("purposes_added"), "purposes_added")
        v["objection"] = None
        if context.objection_url is not None and (context.kind == "purpose" or purposes):
            url = _url(context.objection_url, "objection_url")
            v["objection"] = {"url": url, "purposes": purposes, "date": date}
        v["subject"] = subject = _one_line(subject)
        stem = f"email/notice_{context.kind}"
        return RenderedNotice(
            language=language,
            subject=subject,
            text=self.env.get_template(f"{stem}.txt.j2").render(v),
            html=self.env.get_template(f"{stem}.html.j2").render(v),
        )


def _category_phrases(change: ChangeJson, language: str) -> list[str]:
    """The data concerned, in words of the reader's language: never a fideslang code."""
    categories = _strings(change.get("data_categories"), "data_categories")
    if not categories:
        raise InvalidEvent("data_categories", "is required in a notice")
    phrases: list[str] = []
    for category in categories:
        phrase = data_category_phrase(category, language)
        if phrase is None:
            raise InvalidEvent("data_categories", f"{category!r} is not a fideslang category")
        if phrase not in phrases:
            phrases.append(phrase)
    return phrases


def _controller(value: object) -> dict[str, str | None]:
    controller = value if isinstance(value, Mapping) else {}
    fields: dict[str, str | None] = {}
    for field in ("name", "address", "contact_email", "dpo_email"):
        content = controller.get(field)
        if not isinstance(content, str) or not content.strip():
            raise InvalidEvent(f"controller.{field}", "is required in a notice")
        fields[field] = content
    authority = controller.get("supervisory_authority_url")
    fields["complaint_url"] = (
        None if authority is None else _url(authority, "controller.supervisory_authority_url")
    )
    return fields


def _date(change: ChangeJson, field: str, language: str) -> str:
    """The date for the reader, with no-break spaces: a date is never cut at a line end."""
    return _plain_date(change, field, language).replace(" ", "\u00a0")


def _plain_date(change: ChangeJson, field: str, language: str) -> str:
    """The date for the reader with ordinary spaces (a subject line: folded by mail, not cut)."""
    try:
        moment = change[field]
        if not isinstance(moment, str | datetime):
            raise TypeError(field)
        return format_date(moment, language)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidEvent(field, "must be an RFC 3339 time") from exc


def _localized(value: object, field: str) -> Mapping[str, str] | str | None:
    """An operator text as the change holds it: one string, or one per language tag."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping) and all(
        isinstance(tag, str) and isinstance(text, str) for tag, text in value.items()
    ):
        return value
    raise InvalidEvent(field, "must be a text or an object of texts by language tag")


def _strings(value: object, field: str) -> list[str]:
    """A list of identifiers (data categories, purposes), empty when absent."""
    if value is None:
        return []
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return list(value)
    raise InvalidEvent(field, "must be a list of strings")


def _url(value: object, field: str) -> str:
    if not isinstance(value, str) or not _URL.fullmatch(value):
        raise InvalidEvent(field, "must be an http(s) URL without spaces")
    return value
