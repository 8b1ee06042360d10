"""The contract's "Languages" table as code: what a campaign needs, what a reader gets."""

from __future__ import annotations

import pytest

from notifications.countries import EEA_COUNTRIES
from notifications.languages import (
    COUNTRY_LANGUAGES,
    EEA_LANGUAGES,
    language_of,
    notice_language,
    required_languages,
    text_in,
    written_languages,
)
from tests import examples

ALL = frozenset(EEA_LANGUAGES)


def test_the_table_covers_the_eea_and_ships_26_languages() -> None:
    assert set(COUNTRY_LANGUAGES) == set(EEA_COUNTRIES)
    assert len(EEA_LANGUAGES) == 26
    assert {lang for langs in COUNTRY_LANGUAGES.values() for lang in langs} == ALL - {"ga", "mt"}


@pytest.mark.parametrize(
    ("countries", "languages"),
    [
        (["FR"], ("en", "fr")),
        (["BE"], ("en", "de", "fr", "nl")),
        (["FI", "SE"], ("en", "fi", "sv")),
        (["IE", "MT"], ("en",)),
        (["NO"], ("en", "nb")),
        (["us", "CH"], ("en",)),  # outside the table: English only
    ],
)
def test_required_languages(countries: list[str], languages: tuple[str, ...]) -> None:
    assert required_languages(countries) == languages


def test_every_country_needs_every_language_of_the_table() -> None:
    assert set(required_languages(None)) == ALL - {"ga", "mt"}
    assert required_languages([]) == required_languages(None)
    assert required_languages(EEA_COUNTRIES) == required_languages(None)


@pytest.mark.parametrize(
    ("locale", "country", "written", "language"),
    [
        ("fr-BE", "BE", {"en", "fr", "nl"}, "fr"),
        ("nl_BE", "BE", {"en", "fr", "nl"}, "nl"),
        ("de-BE", "BE", {"en", "fr", "nl"}, "fr"),  # no German: Belgium's first written
        ("sv-FI", "FI", {"en", "fi"}, "fi"),
        ("no", "NO", {"en", "nb"}, "nb"),  # the alias
        ("nb-NO", None, {"en", "nb"}, "nb"),
        ("ga", "IE", {"en", "ga"}, "ga"),  # shipped, and written: used
        ("ga", "IE", {"en"}, "en"),
        ("pt-BR", "PT", {"en", "pt"}, "pt"),
        ("pt-BR", "BR", {"en", "pt"}, "pt"),
        ("ja", "JP", {"en", "pt"}, "en"),
        ("", None, set(), "en"),
    ],
)
def test_notice_language(
    locale: str, country: str | None, written: set[str], language: str
) -> None:
    assert notice_language(locale, country, written, shipped=ALL) == language


def test_only_a_shipped_language_is_picked() -> None:
    assert notice_language("sv", "SE", {"en", "sv"}, shipped={"en", "fr"}) == "en"
    assert notice_language("sv", "BE", {"en", "sv", "fr"}, shipped={"en", "fr"}) == "fr"


def test_written_languages_is_what_every_text_holds() -> None:
    change = examples.purpose_declared()
    assert written_languages(change, "purpose") == ALL  # Irish and Maltese too
    change["retention"] = "Kept a year."  # a plain string is English
    assert written_languages(change, "purpose") == {"en"}
    change = examples.purpose_declared()
    del change["transfers"]  # absent: does not count
    change["recipients"] = {"en": "No one.", "no": "Ingen.", "fr": " "}
    assert written_languages(change, "purpose") == {"en", "nb"}
    assert written_languages(examples.terms_published(), "terms") == ALL - {"ga", "mt"}


def test_text_in_one_language_only() -> None:
    texts = {"en": "Hello", "fr": "Bonjour", "fr-BE": "Bonjour (BE)", "no": "Hei"}
    assert text_in(texts, "fr", "fr-BE") == "Bonjour (BE)"
    assert text_in(texts, "fr", "fr-CA") == "Bonjour"
    assert text_in(texts, "fr", "de") == "Bonjour"
    assert text_in(texts, "nb") == "Hei"
    assert text_in(texts, "de") is None  # never another language's text
    assert text_in({"en": "x", "nl-BE": "Hallo"}, "nl", "nl-NL") == "Hallo"
    assert text_in("plain", "en") == "plain"
    assert text_in("plain", "fr") is None
    assert text_in(None, "en") is None
    assert language_of("NO_no") == "nb"
