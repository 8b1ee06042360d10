"""Every EEA language ships whole: catalogs, glossary, dates, data categories, authorities.

These tests read the shipped files themselves, so that a language added
without one of its parts, a sentence left in English, or a legal term that
is not the GDPR's own wording in that language fails here, not in a reader's
inbox.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from notifications.authorities import authority_for, authority_table
from notifications.countries import EEA_COUNTRIES
from notifications.i18n import (
    GLOSSARY_TERMS,
    LANGUAGE_DATA_FOLDER,
    SUPPORTED_LANGUAGES,
    known_data_categories,
    language_data,
    load_catalogs,
)
from notifications.languages import COUNTRY_LANGUAGES, EEA_LANGUAGES
from notifications.template_folder import template_folder

CATALOG_FOLDERS = ("email/i18n", "email/i18n_objections", "web/i18n")

#: Where each glossary term must appear: the email sentence that states it.
GLOSSARY_KEYS = {
    "legitimate_interest": "legal_basis_legitimate_interest",
    "data_controller": "label_controller",
    "supervisory_authority": "complaint",
    "right_to_object": "heading_object",
}

#: Longer than this and a sentence equal to the English one was not translated
#: (shorter ones may be the same word: "Contact", "Date", "Email").
SAME_AS_ENGLISH_MAX = 12

FIDESLANG_USER_CATEGORIES = 81  # fideslang's default taxonomy, categories under ``user.``

NON_ENGLISH = [language for language in SUPPORTED_LANGUAGES if language != "en"]


@pytest.fixture(scope="module")
def catalogs() -> dict[str, dict[str, dict[str, str]]]:
    folder = template_folder()
    return {name: load_catalogs(folder / name) for name in CATALOG_FOLDERS}


def test_every_eea_language_ships() -> None:
    assert set(SUPPORTED_LANGUAGES) == set(EEA_LANGUAGES)
    assert SUPPORTED_LANGUAGES[0] == "en"


@pytest.mark.parametrize("language", NON_ENGLISH)
def test_no_sentence_is_left_in_english(
    catalogs: dict[str, dict[str, dict[str, str]]], language: str
) -> None:
    for name, by_language in catalogs.items():
        english = by_language["en"]
        same = [
            key
            for key, text in by_language[language].items()
            if text == english[key] and len(text) > SAME_AS_ENGLISH_MAX
        ]
        assert not same, f"{name}/{language}.json: still English: {same}"


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_each_catalog_uses_its_glossary(
    catalogs: dict[str, dict[str, dict[str, str]]], language: str
) -> None:
    data = language_data(language)
    assert set(data.glossary) == set(GLOSSARY_TERMS)
    assert data.glossary_source.strip()
    email = catalogs["email/i18n"][language]
    for term, key in GLOSSARY_KEYS.items():
        forms = data.glossary[term]
        assert forms and all(form.strip() for form in forms), (language, term)
        sentence = email[key].lower()
        assert any(form.lower() in sentence for form in forms), (language, key, forms)


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_data_category_has_words(language: str) -> None:
    data = language_data(language)
    assert set(data.data_categories) == known_data_categories()
    english = language_data("en").data_categories
    for category, phrase in data.data_categories.items():
        assert phrase.strip() and "user." not in phrase, (language, category)
        if language != "en":
            assert phrase != english[category], f"{language}: {category} is still English"


def test_the_categories_are_fideslangs_user_taxonomy() -> None:
    categories = known_data_categories()
    assert len(categories) == FIDESLANG_USER_CATEGORIES
    assert all(category.startswith("user.") for category in categories)
    # every parent of a category is a category too: the taxonomy is a tree
    for category in categories:
        parent = category.rsplit(".", 1)[0]
        assert parent == "user" or parent in categories, category


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_months_and_date_pattern(language: str) -> None:
    data = language_data(language)
    assert len(set(data.months)) == 12
    assert all(month.strip() for month in data.months)
    assert data.name.strip()


def test_a_language_data_file_names_its_problem(tmp_path: Path) -> None:
    from notifications.i18n import _read_language_data

    path = tmp_path / "xx.json"
    english = json.loads((LANGUAGE_DATA_FOLDER / "en.json").read_text("utf-8"))
    english["months"] = english["months"][:11]
    path.write_text(json.dumps(english), encoding="utf-8")
    with pytest.raises(ValueError, match=r"xx\.json: months must be 12"):
        _read_language_data(path)


def test_the_thirty_eea_authorities() -> None:
    table = authority_table()
    assert set(table) == EEA_COUNTRIES
    for country, entry in table.items():
        assert "en" in entry.names, country
        for language in COUNTRY_LANGUAGES[country]:
            assert entry.names.get(language, "").strip(), (country, language)
        for url in (entry.complaint_url, *entry.complaint_urls.values()):
            assert url.startswith("https://"), (country, url)


@pytest.mark.parametrize("country", sorted(EEA_COUNTRIES))
def test_a_reader_gets_their_countrys_authority_in_its_language(country: str) -> None:
    local = COUNTRY_LANGUAGES[country][0]
    authority = authority_for(country, local)
    assert authority is not None
    assert authority.name == authority_table()[country].names[local]
    # a reader in another language still gets the name the authority has at home
    elsewhere = authority_for(country, "ja" if local != "ja" else "en")
    assert elsewhere is not None and elsewhere.name == authority.name


def test_no_authority_outside_the_eea() -> None:
    assert authority_for("US", "en") is None
    assert authority_for("CH", "de") is None
    assert authority_for(None, "en") is None
