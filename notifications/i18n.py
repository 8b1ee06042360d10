"""Languages of the notice: which one a locale gets, operator texts, dates, UI catalogs.

Pure functions, no clock: the same input always gives the same words, so that
the hash of a rendered notice proves what was sent.

- A locale gets its language when preavis speaks it, else English
  (``fr-BE`` -> ``fr``, ``no`` -> ``nb``, ``ja-JP`` -> ``en``); case and ``_``
  do not matter. preavis speaks the 26 languages of the EEA.
- An operator text (a ``Localized``) is taken for the exact locale, then its
  language, then ``en`` (which the contract requires).
- A date is the UTC date of the moment, written the way the language writes
  it (``16. April 2026``, ``1er avril 2026``, ``2026. április 16.``), from the
  language's data file (:func:`language_data`), which also holds its glossary
  of GDPR terms and the plain phrases of the data categories.
- The UI strings of each language live in ``templates/email/i18n/<lang>.json``;
  every catalog must have exactly the keys (and placeholders) of ``en.json``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Final, NamedTuple

from notifications.languages import language_of

FALLBACK_LANGUAGE = "en"

#: Where each language's own data lives: its months, its date pattern, the
#: glossary of GDPR terms its catalogs use and the plain phrases of the data
#: categories (``notifications/data/languages/<lang>.json``, package data).
LANGUAGE_DATA_FOLDER: Final = Path(__file__).parent / "data" / "languages"

#: The four terms of the GDPR whose official wording each language's catalog must use.
GLOSSARY_TERMS: Final = (
    "legitimate_interest",
    "data_controller",
    "supervisory_authority",
    "right_to_object",
)


class LanguageData(NamedTuple):
    """What preavis knows of one language beyond its sentence catalogs."""

    language: str
    name: str
    months: tuple[str, ...]
    date_pattern: str
    first_day: str | None
    glossary_source: str
    glossary: Mapping[str, tuple[str, ...]]
    data_categories: Mapping[str, str]


def _read_language_data(path: Path) -> LanguageData:
    """One language's file, checked: a wrong file fails at start-up, naming itself."""
    with path.open(encoding="utf-8") as file:
        raw = json.load(file)
    language = path.stem
    try:
        months = tuple(raw["months"])
        if len(months) != 12 or not all(isinstance(month, str) for month in months):
            raise ValueError("months must be 12 strings")
        pattern = raw["date_pattern"]
        if placeholders(pattern) != {"day", "month", "year"}:
            raise ValueError("date_pattern must hold {day}, {month} and {year}")
        glossary = {term: tuple(raw["glossary"][term]) for term in GLOSSARY_TERMS}
        categories = {str(key): str(phrase) for key, phrase in raw["data_categories"].items()}
        return LanguageData(
            language=language,
            name=str(raw["language"]),
            months=months,
            date_pattern=pattern,
            first_day=raw.get("first_day"),
            glossary_source=str(raw["glossary_source"]),
            glossary=glossary,
            data_categories=categories,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"language data {path.name}: {exc}") from exc


def _shipped_languages(folder: Path) -> tuple[str, ...]:
    found = sorted(path.stem for path in folder.glob("*.json"))
    return (FALLBACK_LANGUAGE, *(language for language in found if language != FALLBACK_LANGUAGE))


#: The languages preavis writes notices in: English first, then in tag order
#: (every EEA language, :data:`notifications.languages.EEA_LANGUAGES`).
SUPPORTED_LANGUAGES: Final[tuple[str, ...]] = _shipped_languages(LANGUAGE_DATA_FOLDER)


@cache
def language_data(language: str) -> LanguageData:
    """The data of a shipped ``language`` (``KeyError`` for one preavis does not ship)."""
    if language not in SUPPORTED_LANGUAGES:
        raise KeyError(language)
    return _read_language_data(LANGUAGE_DATA_FOLDER / f"{language}.json")


def data_category_phrase(category: str, language: str) -> str | None:
    """The plain phrase for a fideslang ``category`` in ``language``, ``None`` if unknown."""
    return language_data(language).data_categories.get(category)


@cache
def known_data_categories() -> frozenset[str]:
    """The fideslang categories (``user.*``) for which every language has a phrase."""
    return frozenset(language_data(FALLBACK_LANGUAGE).data_categories)


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class Picked(NamedTuple):
    """An operator text and the language tag it was written in (``None``: unknown)."""

    text: str
    lang: str | None


def _normalize(tag: str) -> str:
    return tag.strip().replace("_", "-").lower()


def pick_language(locale: str) -> str:
    """The language a notice is written in for ``locale``: ``fr-BE`` -> ``fr``, else ``en``."""
    language = language_of(locale)
    return language if language in SUPPORTED_LANGUAGES else FALLBACK_LANGUAGE


def pick(value: Mapping[str, str] | str | None, locale: str) -> Picked | None:
    """:func:`pick_text`, also telling which language tag the text came from."""
    if value is None:
        return None
    if isinstance(value, str):
        return Picked(value, None)
    by_tag = {_normalize(tag): (tag, text) for tag, text in value.items()}
    wanted = _normalize(locale)
    for candidate in (wanted, wanted.split("-")[0], FALLBACK_LANGUAGE):
        if candidate in by_tag:
            tag, text = by_tag[candidate]
            return Picked(text, tag)
    return None


def pick_text(value: Mapping[str, str] | str | None, locale: str) -> str | None:
    """An operator text for ``locale``: exact locale, then its language, then ``en``.

    A plain string is returned as is; ``None`` when there is no text at all.
    """
    picked = pick(value, locale)
    return None if picked is None else picked.text


def format_date(moment: datetime | str, language: str) -> str:
    """The UTC date of ``moment`` written for ``language`` (English if unsupported).

    ``moment`` is a datetime or an RFC 3339 string; a naive datetime is taken as UTC.
    """
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.strip())
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    data = language_data(language if language in SUPPORTED_LANGUAGES else FALLBACK_LANGUAGE)
    day = data.first_day if data.first_day and moment.day == 1 else str(moment.day)
    month = data.months[moment.month - 1]
    return fill(data.date_pattern, {"day": day, "month": month, "year": str(moment.year)})


def placeholders(text: str) -> frozenset[str]:
    """The ``{name}`` placeholders of a catalog string."""
    return frozenset(_PLACEHOLDER.findall(text))


def fill(template: str, values: Mapping[str, str]) -> str:
    """Put ``values`` into the ``{name}`` placeholders of ``template``, in one pass.

    No ``str.format``: a value is never read as a template, and a placeholder
    can only name a value, never an attribute or an index.
    """
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def load_catalogs(folder: Path) -> dict[str, dict[str, str]]:
    """The UI strings of every supported language, checked against ``en.json``.

    Raises ``ValueError`` when a catalog lacks a key, has an extra one, or
    does not use the same placeholders as English: better at start-up than in
    the middle of a campaign.
    """
    catalogs: dict[str, dict[str, str]] = {}
    for language in SUPPORTED_LANGUAGES:
        with (folder / f"{language}.json").open(encoding="utf-8") as file:
            catalogs[language] = json.load(file)
    reference = catalogs[FALLBACK_LANGUAGE]
    for language, catalog in catalogs.items():
        if catalog.keys() != reference.keys():
            diff = sorted(catalog.keys() ^ reference.keys())
            raise ValueError(f"catalog {language}.json differs from en.json in keys {diff}")
        for key, text in catalog.items():
            if placeholders(text) != placeholders(reference[key]):
                raise ValueError(f"catalog {language}.json: {key!r} has other placeholders")
    return catalogs
