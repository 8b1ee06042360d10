"""Languages of the notice: which one a locale gets, operator texts, dates, UI catalogs.

Pure functions, no clock: the same input always gives the same words, so that
the hash of a rendered notice proves what was sent.

- A locale gets its language when preavis speaks it, else English
  (``fr-BE`` -> ``fr``, ``pt-BR`` -> ``en``); case and ``_`` do not matter.
- An operator text (a ``Localized``) is taken for the exact locale, then its
  language, then ``en`` (which the contract requires).
- A date is the UTC date of the moment, written the way the language writes
  it (``16. April 2026``, ``1er avril 2026``, Polish genitive months).
- The UI strings of each language live in ``templates/email/i18n/<lang>.json``;
  every catalog must have exactly the keys (and placeholders) of ``en.json``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "fr", "de", "es", "it", "nl", "pl")
FALLBACK_LANGUAGE = "en"

_MONTHS: dict[str, tuple[str, ...]] = {
    language: tuple(names.split())
    for language, names in {
        "en": "January February March April May June July August September October November "
        "December",
        "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre "
        "décembre",
        "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
        "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
        "diciembre",
        "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre "
        "novembre dicembre",
        "nl": "januari februari maart april mei juni juli augustus september oktober november "
        "december",
        # Polish dates take the genitive: "16 kwietnia", never "16 kwiecień".
        "pl": "stycznia lutego marca kwietnia maja czerwca lipca sierpnia września października "
        "listopada grudnia",
    }.items()
}

_DATE_PATTERNS: dict[str, str] = {
    "en": "{day} {month} {year}",
    "fr": "{day} {month} {year}",
    "de": "{day}. {month} {year}",
    "es": "{day} de {month} de {year}",
    "it": "{day} {month} {year}",
    "nl": "{day} {month} {year}",
    "pl": "{day} {month} {year}",
}

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class Picked(NamedTuple):
    """An operator text and the language tag it was written in (``None``: unknown)."""

    text: str
    lang: str | None


def _normalize(tag: str) -> str:
    return tag.strip().replace("_", "-").lower()


def pick_language(locale: str) -> str:
    """The language a notice is written in for ``locale``: ``fr-BE`` -> ``fr``, else ``en``."""
    language = _normalize(locale).split("-")[0]
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
    if language not in _MONTHS:
        language = FALLBACK_LANGUAGE
    day = "1er" if language == "fr" and moment.day == 1 else str(moment.day)
    month = _MONTHS[language][moment.month - 1]
    return _DATE_PATTERNS[language].format(day=day, month=month, year=moment.year)


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
