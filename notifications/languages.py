"""Which languages a campaign needs, and which one a reader gets (CONTRACT.md, "Languages").

Pure data and functions, no catalog, no I/O: the campaign check
(:mod:`notifications.requirements`), the renderer, the delivery handlers and
``preavis check`` all ask this module, so that the language a notice is
required in and the language it is written in cannot disagree.

- :data:`COUNTRY_LANGUAGES` is the contract's table: the official languages of
  each EEA country in which its people must be able to read a notice.
  Ireland and Malta need English; Irish and Maltese are shipped too and used
  where the operator wrote them (a reader whose locale asks for them).
- :func:`required_languages`: the languages an audience's countries need (an
  audience of every country needs every language of the table; a country
  outside the table adds nothing but English, which every text holds).
- :func:`notice_language`: the user's locale, its language part, the official
  language(s) of their country, then English; the first that preavis ships
  *and* that the operator wrote every text in. A notice is then written
  entirely in that language: never a sentence of the operator's in another.
- ``no`` (Norwegian) is an alias of ``nb`` (Bokmål), wherever a tag is read.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Final

__all__ = [
    "COUNTRY_LANGUAGES",
    "EEA_LANGUAGES",
    "FALLBACK_LANGUAGE",
    "LANGUAGE_ALIASES",
    "OPERATOR_TEXT_FIELDS",
    "language_of",
    "notice_language",
    "required_languages",
    "text_in",
    "written_languages",
]

FALLBACK_LANGUAGE: Final = "en"

#: The contract's table: country -> the languages its readers need, in order of preference.
COUNTRY_LANGUAGES: Final[Mapping[str, tuple[str, ...]]] = {
    "AT": ("de",),
    "DE": ("de",),
    "LI": ("de",),
    "BE": ("fr", "nl", "de"),
    "BG": ("bg",),
    "CY": ("el",),
    "GR": ("el",),
    "CZ": ("cs",),
    "DK": ("da",),
    "EE": ("et",),
    "ES": ("es",),
    "FI": ("fi", "sv"),
    "FR": ("fr",),
    "HR": ("hr",),
    "HU": ("hu",),
    "IE": ("en",),
    "MT": ("en",),
    "IS": ("is",),
    "IT": ("it",),
    "LT": ("lt",),
    "LU": ("fr", "de"),
    "LV": ("lv",),
    "NL": ("nl",),
    "NO": ("nb",),
    "PL": ("pl",),
    "PT": ("pt",),
    "RO": ("ro",),
    "SE": ("sv",),
    "SI": ("sl",),
    "SK": ("sk",),
}

#: The 26 languages preavis ships (the table's 24, and Irish and Maltese), in tag order.
EEA_LANGUAGES: Final[tuple[str, ...]] = (
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr", "hu",
    "is", "it", "lt", "lv", "mt", "nb", "nl", "pl", "pt", "ro", "sk", "sl", "sv",
)  # fmt: skip

#: Tags read as another language's.
LANGUAGE_ALIASES: Final[Mapping[str, str]] = {"no": "nb"}

#: The operator's texts a notice shows, per kind of change (the Localized fields).
OPERATOR_TEXT_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    "purpose": (
        "name",
        "description",
        "legitimate_interest",
        "retention",
        "recipients",
        "transfers",
        "objection_effect",
    ),
    "terms": ("title", "summary"),
}


def language_of(tag: str) -> str:
    """The language part of a BCP 47 tag, lower case, aliases resolved: ``no-NO`` -> ``nb``."""
    primary = tag.strip().replace("_", "-").lower().split("-")[0]
    return LANGUAGE_ALIASES.get(primary, primary)


def _normalize(tag: str) -> str:
    parts = tag.strip().replace("_", "-").lower().split("-")
    parts[0] = LANGUAGE_ALIASES.get(parts[0], parts[0])
    return "-".join(parts)


def required_languages(audience_countries: Iterable[str] | None) -> tuple[str, ...]:
    """The languages a campaign for these countries needs, English first, then in tag order.

    ``None`` (or empty) is an audience of every country: every language of the table.
    """
    countries = [country.strip().upper() for country in audience_countries or ()]
    if not countries:
        countries = list(COUNTRY_LANGUAGES)
    needed = {FALLBACK_LANGUAGE}
    for country in countries:
        needed.update(COUNTRY_LANGUAGES.get(country, ()))
    return (FALLBACK_LANGUAGE, *sorted(needed - {FALLBACK_LANGUAGE}))


def _texts(value: object) -> Mapping[str, str] | None:
    """A text as a change holds it: a plain string is English (as the event models read it)."""
    if isinstance(value, str):
        return {FALLBACK_LANGUAGE: value}
    if isinstance(value, Mapping):
        return {str(tag): text for tag, text in value.items() if isinstance(text, str)}
    return None


def written_languages(change: Mapping[str, object], kind: str) -> frozenset[str]:
    """The languages in which the operator wrote *every* text of ``change`` that it holds.

    A text absent from the change (an optional ``transfers``) does not count;
    a blank one does not count as written.
    """
    written: set[str] | None = None
    for field in OPERATOR_TEXT_FIELDS[kind]:
        texts = _texts(change.get(field))
        if texts is None:
            continue
        languages = {language_of(tag) for tag, text in texts.items() if text.strip()}
        written = languages if written is None else written & languages
    return frozenset(written if written is not None else {FALLBACK_LANGUAGE})


def notice_language(
    locale: str | None,
    country: str | None,
    written: Collection[str],
    *,
    shipped: Collection[str] | None = None,
) -> str:
    """The language of a reader's notice: locale, its language, their country's, then English.

    The first candidate that preavis ships (``shipped``, by default the
    languages with catalogs, :data:`notifications.i18n.SUPPORTED_LANGUAGES`)
    and that is in ``written`` (:func:`written_languages`). English when none
    is: every change holds English texts.
    """
    if shipped is None:
        from notifications.i18n import SUPPORTED_LANGUAGES  # i18n may import this module

        shipped = SUPPORTED_LANGUAGES
    candidates: list[str] = []
    if locale and locale.strip():
        tag = _normalize(locale)
        candidates += [tag, tag.split("-")[0]]
    if country:
        candidates += COUNTRY_LANGUAGES.get(country.strip().upper(), ())
    for candidate in candidates:
        if candidate in shipped and candidate in written:
            return candidate
    return FALLBACK_LANGUAGE


def text_in(value: object, language: str, locale: str | None = None) -> str | None:
    """The operator's text in ``language`` only, never another: the locale's variant first.

    ``fr-BE`` reads ``fr-BE`` if written, then ``fr``, then any other ``fr-*``
    (the first in tag order); ``None`` when the text has no version in
    ``language`` (or is absent, or blank).
    """
    texts = _texts(value)
    if not texts:
        return None
    by_tag = {_normalize(tag): text for tag, text in texts.items() if text.strip()}
    wanted = _normalize(locale) if locale else language
    if language_of(wanted) == language and wanted in by_tag:
        return by_tag[wanted]
    if language in by_tag:
        return by_tag[language]
    variants = sorted(tag for tag in by_tag if language_of(tag) == language)
    return by_tag[variants[0]] if variants else None
