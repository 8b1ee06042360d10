"""See before you send: every rule of the campaign agent, and what each reader would receive.

Pure: no file, no Kafka, no clock. ``preavis check`` (``streams.check``) reads
the operator's file and writes what this module returns; ``preavis publish``
refuses what :func:`problems` lists. The rules are the campaign agent's own
(:func:`notifications.requirements.check_change`, after the same parser),
never a copy, so that what passes here is what the agent accepts.

A preview is the notice as a reader of each language the audience needs
would get it (the same renderer and :func:`notifications.mime.build_notice`
as delivery, with the controller's name and Reply-To), and the objection
page its link opens. A language preavis has no catalog for yet is written
in the language such a reader gets instead (:attr:`Preview.language`).
"""

from __future__ import annotations

from dataclasses import dataclass

from notifications.campaign import Change, change_json, kind_of
from notifications.errors import HeaderInjection, InvalidEvent
from notifications.languages import COUNTRY_LANGUAGES, FALLBACK_LANGUAGE, text_in
from notifications.mime import build_notice, message_id_for, sender
from notifications.render import NoticeContext, NoticeRenderer
from notifications.requirements import check_change
from notifications.web_pages import PurposeSummary, WebPages

__all__ = ["PREVIEW_ADDRESS", "Preview", "Problem", "problems", "render_previews"]

#: The To of a preview: a reserved domain (RFC 2606), so a preview can never reach anyone.
PREVIEW_ADDRESS = "reader@example.invalid"
_PREVIEW_TOKEN = "PREVIEW"


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason the campaign agent would reject the change, with the field it concerns."""

    field: str
    code: str  # the compliance.alert code the agent would raise
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message} ({self.code})"


def problems(change: Change, *, min_notice_days: int) -> list[Problem]:
    """Everything :func:`check_change` finds, one :class:`Problem` per field (stable order)."""
    verdict = check_change(change, min_notice_days=min_notice_days)
    found = [
        Problem(path, "incomplete_notice", "missing or blank: GDPR Art. 13/14 requires it")
        for path in verdict.missing
    ]
    found += [
        Problem(
            f"{item.field}.{item.language}",
            "incomplete_translation",
            f"not written in {item.language}, which the audience needs",
        )
        for item in verdict.missing_translations
    ]
    found += [
        Problem(
            "data_categories",
            "unknown_data_category",
            f"{category!r} is not a category of fideslang's taxonomy: no reader could be told it",
        )
        for category in verdict.unknown_categories
    ]
    if (period := verdict.notice_period) is not None:
        start = "starts_at" if change.type == "purpose.declared" else "effective_at"
        found.append(Problem(start, "notice_period_too_short", period.describe()))
    return found


@dataclass(frozen=True, slots=True)
class Preview:
    """What a reader of ``wanted`` gets: the notice's bytes and the objection page."""

    wanted: str  # a language the audience needs
    language: str  # the language the notice is written in (``wanted`` once preavis ships it)
    eml: bytes | None  # None: it could not be rendered (``error`` says why)
    objection_page: str | None  # None for terms that add no purpose
    error: str | None = None


def _country_for(language: str, countries: frozenset[str] | None) -> str | None:
    """A country of the audience whose readers need ``language`` (``None`` for English)."""
    if language == FALLBACK_LANGUAGE:
        return None
    candidates = sorted(countries) if countries else sorted(COUNTRY_LANGUAGES)
    for country in candidates:
        if language in COUNTRY_LANGUAGES.get(country, ()):
            return country
    return None


def render_previews(
    change: Change,
    languages: tuple[str, ...],
    *,
    renderer: NoticeRenderer,
    pages: WebPages,
    mail_from: str,
    public_url: str,
) -> list[Preview]:
    """A :class:`Preview` for each of ``languages`` (the audience's, ``required_languages``)."""
    kind = kind_of(change)
    data = change_json(change)
    url = f"{public_url.rstrip('/')}/o/{_PREVIEW_TOKEN}"
    controller = change.controller
    name = controller.name if controller else None
    contact = controller.contact_email if controller else None
    domain = (mail_from.rpartition("@")[2].strip(" >") or "preview.invalid").lower()
    countries = change.audience.resolved_countries
    previews: list[Preview] = []
    for wanted in languages:
        country = _country_for(wanted, countries)
        context = NoticeContext(change.campaign_id, kind, data, wanted, url, country=country)
        language = renderer.language_for(context)
        try:
            notice = renderer.render(context)
            eml = build_notice(
                from_header=sender(name, mail_from),
                to_address=PREVIEW_ADDRESS,
                subject=notice.subject,
                text=notice.text,
                html=notice.html,
                language=notice.language,
                message_id=message_id_for(change.campaign_id, f"preview-{wanted}", domain),
                campaign_id=change.campaign_id,
                date=change.published_at,  # no clock: the same file, the same bytes
                reply_to=contact,
            )
        except (InvalidEvent, HeaderInjection) as exc:
            previews.append(Preview(wanted, language, None, None, str(exc)))
            continue
        summaries = _summaries(change, language)
        page = (
            pages.objection(language, summaries, name, f"/o/{_PREVIEW_TOKEN}").html
            if summaries
            else None
        )
        previews.append(Preview(wanted, notice.language, eml, page))
    return previews


def _summaries(change: Change, language: str) -> list[PurposeSummary]:
    """The purposes the objection page lists, in the notice's language."""
    if change.type == "purpose.declared":
        return [
            PurposeSummary(
                purpose_id=change.purpose_id,
                name=text_in(change.name, language) or change.purpose_id,
                description=text_in(change.description, language),
                starts_at=change.starts_at.isoformat(),
                objection_effect=text_in(change.objection_effect, language),
            )
        ]
    return [
        PurposeSummary(purpose, purpose, None, change.effective_at.isoformat())
        for purpose in change.purposes_added or ()
    ]
