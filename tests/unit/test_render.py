"""The notice email's words: languages, content, escaping, determinism, golden files.

The golden files under ``tests/unit/golden/`` are the exact bytes of the
example AI-training notice (text and HTML) in English and French without a
country, and in German, Polish, Swedish, Greek and Hungarian for readers in
Austria, Poland, Finland, Cyprus and Hungary (each with their own authority). After an
intended change of a template or a catalog, regenerate them and review the diff:

    PREAVIS_UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/test_render.py -q
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape

from notifications import events
from notifications import topic_names as topics
from notifications.authorities import authority_for, same_authority
from notifications.errors import InvalidEvent
from notifications.i18n import language_data, load_catalogs, placeholders
from notifications.languages import COUNTRY_LANGUAGES, written_languages
from notifications.render import (
    SUPPORTED_LANGUAGES,
    NoticeContext,
    NoticeRenderer,
    RenderedNotice,
    format_date,
    pick_language,
    pick_text,
)
from tests import examples

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = ROOT / "templates" / "email" / "i18n"
GOLDEN = Path(__file__).parent / "golden"
URL = "https://preavis.example/o/TOKEN123"
CAMPAIGN = "purpose:ai-training:v1"


#: A word of each language's complaint sentence (Art. 77), as the catalog writes it.
@pytest.fixture(scope="module")
def renderer() -> NoticeRenderer:
    return NoticeRenderer()


def purpose_notice(
    renderer: NoticeRenderer, locale: str = "en", url: str | None = URL, **overrides: Any
) -> RenderedNotice:
    change = examples.purpose_declared(**overrides)
    return renderer.render(NoticeContext(CAMPAIGN, "purpose", change, locale, url))


def terms_notice(
    renderer: NoticeRenderer, locale: str = "en", url: str | None = URL, **overrides: Any
) -> RenderedNotice:
    change = examples.terms_published(**overrides)
    return renderer.render(
        NoticeContext("terms:terms-of-service:2026-04", "terms", change, locale, url)
    )


def both(notice: RenderedNotice) -> tuple[str, str]:
    """Text and HTML with whitespace runs made single spaces: paragraphs are wrapped."""
    return flat(notice.text), flat(notice.html)


def flat(text: str) -> str:
    return " ".join(text.split())


# --- languages, texts, dates -------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "language"),
    [
        ("fr-BE", "fr"),
        ("FR_be", "fr"),
        ("de", "de"),
        ("pt-BR", "pt"),
        ("pt", "pt"),
        ("no", "nb"),
        ("no-NO", "nb"),
        ("ja-JP", "en"),
        ("nl-NL", "nl"),
        ("pl", "pl"),
        ("", "en"),
        ("en-GB", "en"),
    ],
)
def test_pick_language(locale: str, language: str) -> None:
    assert pick_language(locale) == language


def test_pick_text_falls_back_from_locale_to_language_to_english() -> None:
    texts = {"en": "E", "fr": "F", "fr-BE": "B"}
    assert pick_text(texts, "fr-BE") == "B"
    assert pick_text(texts, "fr_be") == "B"
    assert pick_text(texts, "fr-CA") == "F"
    assert pick_text(texts, "fr") == "F"
    assert pick_text(texts, "de-AT") == "E"
    assert pick_text({"en": "E", "fr-BE": "B"}, "fr-FR") == "E"
    assert pick_text("plain", "fr") == "plain"
    assert pick_text(None, "fr") is None
    assert pick_text({"de": "D"}, "fr") is None


@pytest.mark.parametrize(
    ("language", "written"),
    [
        ("en", "16 April 2026"),
        ("fr", "16 avril 2026"),
        ("de", "16. April 2026"),
        ("es", "16 de abril de 2026"),
        ("it", "16 aprile 2026"),
        ("nl", "16 april 2026"),
        ("pl", "16 kwietnia 2026"),
        ("hu", "2026. április 16."),
        ("lt", "2026 m. balandžio 16 d."),
        ("ja", "16 April 2026"),  # not shipped: English
    ],
)
def test_format_date(language: str, written: str) -> None:
    assert format_date(examples.STARTS_AT, language) == written
    assert format_date(datetime(2026, 4, 16, 9, tzinfo=UTC), language) == written


def test_format_date_uses_the_utc_date_and_language_rules() -> None:
    assert format_date("2026-04-16T00:30:00+02:00", "en") == "15 April 2026"
    late = datetime(2026, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert format_date(late, "de") == "1. Januar 2027"
    assert format_date("2027-01-01T10:00:00Z", "fr") == "1er janvier 2027"
    assert format_date("2026-09-03T10:00:00Z", "pl") == "3 września 2026"
    assert format_date(datetime(2026, 5, 2, 23, 0), "nl") == "2 mei 2026"  # naive: UTC


# --- catalogs ----------------------------------------------------------------


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_catalog_has_the_keys_and_placeholders_of_english(language: str) -> None:
    english = json.loads((CATALOGS / "en.json").read_text(encoding="utf-8"))
    catalog = json.loads((CATALOGS / f"{language}.json").read_text(encoding="utf-8"))
    assert catalog.keys() == english.keys()
    for key, text in catalog.items():
        assert text.strip(), key
        assert placeholders(text) == placeholders(english[key]), key


def test_a_catalog_missing_a_key_is_refused_at_start(tmp_path: Path) -> None:
    for language in SUPPORTED_LANGUAGES:
        catalog = json.loads((CATALOGS / f"{language}.json").read_text(encoding="utf-8"))
        if language == "it":
            del catalog["footer"]
        (tmp_path / f"{language}.json").write_text(json.dumps(catalog), encoding="utf-8")
    with pytest.raises(ValueError, match=r"it\.json.*footer"):
        load_catalogs(tmp_path)


# --- content -----------------------------------------------------------------


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_purpose_notice_in_every_language(renderer: NoticeRenderer, language: str) -> None:
    notice = purpose_notice(renderer, language)
    catalog = renderer.catalogs[language]
    assert notice.language == language
    assert f'<html lang="{language}"' in notice.html
    words = language_data(language)
    expected = [
        URL,
        format_date(examples.STARTS_AT, language),
        "Example Platform SAS",
        "dpo@example.com",
    ]
    phrase = words.data_categories["user.content.public"]
    text, html = both(notice)
    assert flat(phrase) in flat(text) and flat(escape(phrase)) in flat(html), (language, phrase)
    for fragment in expected:
        assert fragment in text and escape(fragment) in html, (language, fragment)
    forms = words.glossary["supervisory_authority"]
    for body in (text, html):
        assert "user.content" not in body  # words, never the fideslang code
        assert any(form.lower() in body.lower() for form in forms), (language, forms)
    for key in ("heading_object", "object_any_time", "object_no_reason", "complaint"):
        text, html = both(notice)
        assert flat(catalog[key]) in text
        assert flat(escape(catalog[key])) in html
    assert "\n" not in notice.subject and "\r" not in notice.subject


def test_the_locale_then_its_language_then_english(renderer: NoticeRenderer) -> None:
    belgian = purpose_notice(renderer, "fr-BE")
    assert belgian.language == "fr"
    assert belgian.subject == (
        "Entraînement de nos modèles d'IA\u00a0: vous pouvez vous y opposer avant le 16 avril 2026"
    )
    assert "Nous utiliserons les publications" in belgian.text
    # every operator text is in French: none marked as written in another language
    assert escape("Aucun\u00a0: l'entraînement a lieu dans l'UE.") in belgian.html
    assert ' lang="en"' not in belgian.html
    name = {"en": "Training our AI models", "ja": "AIモデルのトレーニング"}
    japanese = purpose_notice(renderer, "ja-JP", name=name)  # a language preavis does not ship
    assert japanese.language == "en"
    assert '<html lang="en"' in japanese.html
    assert "Training our AI models" in japanese.subject  # no Japanese in an English email


def context(change: dict[str, Any], locale: str, country: str | None) -> NoticeContext:
    return NoticeContext(CAMPAIGN, "purpose", change, locale, URL, country=country)


@pytest.mark.parametrize(
    ("locale", "country", "language"),
    [
        ("nl-BE", "BE", "nl"),  # the locale's language
        ("ja", "BE", "fr"),  # never shipped: Belgium's first language
        ("en", "DE", "en"),  # the locale wins over the country
        ("xx", "AT", "de"),
        ("xx", "US", "en"),  # no language of the table: English
        ("", None, "en"),
    ],
)
def test_the_country_s_language_before_english(
    renderer: NoticeRenderer, locale: str, country: str | None, language: str
) -> None:
    notice = renderer.render(context(examples.purpose_declared(), locale, country))
    assert notice.language == language
    assert f'<html lang="{language}"' in notice.html


def test_a_language_the_operator_did_not_write_whole_is_not_used(
    renderer: NoticeRenderer,
) -> None:
    """German lacks one text: a German reader gets the whole notice in English, not a mix."""
    change = examples.purpose_declared()
    del change["retention"]["de"]
    notice = renderer.render(context(change, "de-AT", "AT"))
    assert notice.language == "en"
    assert "Training copies are deleted 12 months after training." in notice.text
    for german in examples.purpose_declared()["description"]["de"], "Widerspruch":
        assert german not in notice.text and german not in notice.html
    # a Belgian reading Dutch when Dutch is incomplete: French, Belgium's first language
    del change["recipients"]["nl"]
    assert renderer.render(context(change, "nl-BE", "BE")).language == "fr"


#: the languages shipped that the example is written in (all but en; ga and mt are optional)
WRITTEN = written_languages(examples.purpose_declared(), "purpose")


@pytest.mark.parametrize(
    "language", [lang for lang in SUPPORTED_LANGUAGES if lang in WRITTEN - {"en"}]
)
def test_no_english_sentence_of_the_operator_in_another_language(
    renderer: NoticeRenderer, language: str
) -> None:
    change = examples.purpose_declared()
    notice = renderer.render(context(change, language, None))
    assert notice.language == language
    english = [
        text["en"]
        for field, text in change.items()
        if isinstance(text, dict) and "en" in text and field != "controller"
    ]
    assert len(english) == 7  # name, description, interest, retention, recipients, ...
    for body in (notice.subject, flat(notice.text), flat(notice.html)):
        for sentence in english:
            assert sentence not in body, (language, sentence)
            assert str(escape(sentence)) not in body, (language, sentence)
    assert flat(change["objection_effect"][language]) in flat(notice.text)
    heading = renderer.catalogs[language]["heading_objection_effect"]
    assert f">{escape(heading)}</h2>" in notice.html
    assert heading in notice.text


def test_the_subject_says_what_and_by_when(renderer: NoticeRenderer) -> None:
    assert purpose_notice(renderer, "en").subject == (
        "Training our AI models: you can object before 16 April 2026"
    )
    assert purpose_notice(renderer, "de").subject == (
        "Training unserer KI-Modelle: Sie können vor dem 16. April 2026 widersprechen"
    )
    assert terms_notice(renderer, "en").subject == (
        "Terms of Service: new version from 16 April 2026"
    )


def test_purpose_notice_states_what_art_13_requires(renderer: NoticeRenderer) -> None:
    text, html = both(purpose_notice(renderer, "en"))
    for body in (text, html):
        for fragment in [
            "We will use the posts and comments you made public",
            "Training our AI models",
            "our legitimate interest",
            "Improving the writing assistant",
            "Training copies are deleted 12 months after training.",
            "No one outside Example Platform SAS.",
            "None: training runs in the EU.",
            "privacy@example.com",
            "at any time",
            "You do not need to give a reason.",
            "If you object before 16 April 2026",
            "https://www.cnil.fr/en/complaints",
            "https://example.com/privacy/ai-training",
        ]:
            assert fragment in body, fragment
    assert "12 rue de l&#39;Exemple, 75002 Paris, France" in html
    assert '<h2 id="right-to-object"' in html
    assert "Read the full privacy policy</a>" in html


def test_each_legal_basis_has_its_label(renderer: NoticeRenderer) -> None:
    for basis in (
        "consent",
        "contract",
        "legal_obligation",
        "vital_interests",
        "public_interest",
        "legitimate_interest",
    ):
        for language in SUPPORTED_LANGUAGES:
            notice = purpose_notice(renderer, language, legal_basis=basis)
            assert flat(renderer.catalogs[language][f"legal_basis_{basis}"]) in flat(notice.text)
    consent = purpose_notice(renderer, "de", legal_basis="consent", legitimate_interest=None)
    assert "Einwilligung jederzeit widerrufen" in consent.text


def test_complaint_without_an_authority_url(renderer: NoticeRenderer) -> None:
    controller = examples.controller(supervisory_authority_url=None)
    notice = purpose_notice(renderer, "it", controller=controller)
    generic = renderer.catalogs["it"]["complaint_generic"]
    text, html = both(notice)
    assert flat(generic) in text
    assert flat(escape(generic)) in html
    for body in (text, html):
        assert "reclamo" in body
        assert "cnil.fr" not in body


def test_objection_block_absent_without_a_link(renderer: NoticeRenderer) -> None:
    notice = purpose_notice(renderer, "en", url=None)
    for body in both(notice):
        assert "Your right to object" not in body
        assert "/o/" not in body
    assert "right-to-object" not in notice.html


def test_terms_notice_with_added_purposes(renderer: NoticeRenderer) -> None:
    notice = terms_notice(renderer, "fr", purposes_added=["ai-training", "ads-personalisation"])
    assert notice.subject == (
        "Conditions d'utilisation\u00a0: nouvelle version à partir du 16 avril 2026"
    )
    for body in both(notice):
        for fragment in [
            URL,
            "ai-training",
            "ads-personalisation",
            "16 avril 2026",
            "Nous entraînons désormais",
            "https://example.com/terms/2026-04",
            "dpo@example.com",
            "réclamation",
        ]:
            assert fragment in body, fragment
    assert "Vous pouvez vous y opposer à tout moment" in flat(notice.text)
    assert "ces finalités" in flat(notice.text)


def test_terms_notice_without_added_purposes(renderer: NoticeRenderer) -> None:
    for notice in (
        terms_notice(renderer, "en", purposes_added=[]),
        terms_notice(renderer, "en", url=None),
        renderer.render(
            NoticeContext(
                "t",
                "terms",
                examples.without(examples.terms_published(), "purposes_added"),
                "en",
                URL,
            )
        ),
    ):
        assert notice.subject == "Terms of Service: new version from 16 April 2026"
        for body in both(notice):
            assert "Your right to object" not in body
            assert URL not in body
            assert "16 April 2026" in body
            assert "https://example.com/terms/2026-04" in body


def test_renders_the_models_dump_too(renderer: NoticeRenderer) -> None:
    """The agent may pass ``model_dump()``: datetimes as objects, absent fields as None."""
    raw = json.dumps(examples.purpose_declared(transfers=None)).encode()
    event = events.decode(topics.TOPIC_PURPOSES, b"ai-training", raw)
    assert isinstance(event, events.PurposeDeclared)
    change = event.model_dump()
    notice = renderer.render(NoticeContext(CAMPAIGN, "purpose", change, "es-MX", URL))
    assert notice.language == "es"
    assert "16 de abril de 2026" in flat(notice.text)
    assert "Transferencias" not in notice.text


# --- safety ------------------------------------------------------------------


def test_operator_text_is_data_never_template_code(renderer: NoticeRenderer) -> None:
    evil = "Hello {{ 7*7 }} {% if true %}yes{% endif %} <script>alert(1)</script> & {date}"
    notice = purpose_notice(
        renderer,
        "en",
        description={"en": evil},
        name={"en": "AI {{ 7*7 }} <b>"},
        controller=examples.controller(name="Evil {controller} <i>Co</i>"),
    )
    text, html = both(notice)
    assert evil in text
    assert "Hello 49" not in text + html and "AI 49" not in text + html
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; {date}" in html
    assert "{{ 7*7 }}" in html and "{% if true %}" in html
    assert "Evil {controller} &lt;i&gt;Co&lt;/i&gt; will use" in html
    assert notice.subject == "AI {{ 7*7 }} <b>: you can object before 16 April 2026"


def test_subject_is_one_line(renderer: NoticeRenderer) -> None:
    notice = purpose_notice(renderer, "en", name={"en": "Two\r\nlines\u2028here"})
    assert notice.subject == "Two lines here: you can object before 16 April 2026"


def test_no_line_is_too_long(renderer: NoticeRenderer) -> None:
    long_text = " ".join(["transparency"] * 800)
    notice = purpose_notice(renderer, "nl", description={"en": long_text}, retention=long_text)
    for body in (notice.text, notice.html):
        assert max(len(line) for line in body.splitlines()) < 900
    assert max(len(line) for line in notice.text.splitlines()) <= 76


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (examples.without(examples.purpose_declared(), "retention"), "retention"),
        (examples.purpose_declared(legitimate_interest=None), "legitimate_interest"),
        (examples.purpose_declared(legal_basis="because"), "legal_basis"),
        (examples.purpose_declared(data_categories=[]), "data_categories"),
        (examples.purpose_declared(policy_url="javascript:alert(1)"), "policy_url"),
        (
            examples.purpose_declared(controller=examples.controller(dpo_email="")),
            "controller.dpo_email",
        ),
        (examples.purpose_declared(starts_at="soon"), "starts_at"),
        (examples.purpose_declared(starts_at=20260101), "starts_at"),
        (examples.purpose_declared(data_categories="user.contact"), "data_categories"),
        (examples.purpose_declared(description=["not", "a", "text"]), "description"),
        (examples.purpose_declared(name={"en": 7}), "name"),
        (examples.terms_published(), "type"),
    ],
)
def test_an_incomplete_change_is_refused_not_half_told(
    renderer: NoticeRenderer, change: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidEvent) as caught:
        renderer.render(NoticeContext(CAMPAIGN, "purpose", change, "en", URL))
    assert caught.value.field == field


def test_notifications_stays_free_of_streams_and_faust() -> None:
    code = (
        "import sys, notifications.render; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('streams', 'faust')]; "
        "sys.exit(str(bad) if bad else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# --- proof of what was sent ----------------------------------------------------


def test_rendering_is_deterministic_and_hashed(renderer: NoticeRenderer) -> None:
    first = purpose_notice(renderer, "pl")
    assert first == purpose_notice(renderer, "pl")
    assert first == purpose_notice(NoticeRenderer(), "pl")
    assert len(first.content_sha256) == 64
    assert first.content_sha256 == first.content_sha256.lower()
    changed = [
        purpose_notice(renderer, "pl", url=URL + "X"),
        purpose_notice(renderer, "pl", retention={"en": "Deleted after 11 months."}),
        purpose_notice(renderer, "pl", starts_at="2026-04-17T09:00:00Z"),
        RenderedNotice(first.language, first.subject + ".", first.text, first.html),
        RenderedNotice(first.language, first.subject, first.text + " ", first.html),
        RenderedNotice(first.language, first.subject, first.text, first.html + " "),
    ]
    hashes = {first.content_sha256, *(notice.content_sha256 for notice in changed)}
    assert len(hashes) == len(changed) + 1


GOLDEN_READERS = [  # (locale, country): no country, then readers with their own authority
    ("en", None),
    ("fr-BE", None),
    ("de-AT", "AT"),
    ("pl", "PL"),
    ("sv", "FI"),
    ("el", "CY"),
    ("hu", "HU"),
]


@pytest.mark.parametrize("suffix", ["txt", "html"])
@pytest.mark.parametrize(("locale", "country"), GOLDEN_READERS)
def test_golden_notice(
    renderer: NoticeRenderer, locale: str, country: str | None, suffix: str
) -> None:
    change = examples.purpose_declared()
    notice = renderer.render(NoticeContext(CAMPAIGN, "purpose", change, locale, URL, country))
    body = notice.text if suffix == "txt" else notice.html
    reader = locale if country is None else f"{locale}.{country}"
    path = GOLDEN / f"notice_purpose.{reader}.{suffix}"
    if os.environ.get("PREAVIS_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(body.encode("utf-8"))
    assert body.encode("utf-8") == path.read_bytes(), f"{path} differs: see the module docstring"


# --- the reader's own authority ----------------------------------------------


@pytest.mark.parametrize("country", sorted(COUNTRY_LANGUAGES))
def test_a_reader_in_each_eea_country_gets_their_own_authority(
    renderer: NoticeRenderer, country: str
) -> None:
    language = COUNTRY_LANGUAGES[country][0]
    change = examples.purpose_declared()
    context = NoticeContext(CAMPAIGN, "purpose", change, language, URL, country=country)
    notice = renderer.render(context)
    own = authority_for(country, notice.language)
    assert own is not None
    text, html = both(notice)
    assert own.url in text and f'href="{escape(own.url)}"' in html
    assert flat(own.name) in flat(text) and flat(escape(own.name)) in flat(html)
    intro = renderer.catalogs[notice.language]["complaint_own_authority_intro"]
    assert flat(intro) in flat(text)
    lead = change["controller"]["supervisory_authority_url"]
    # the controller's lead authority beside it, unless it is the same one
    assert (lead in text) == (not same_authority(lead, own))


def test_a_reader_outside_the_eea_is_told_to_find_their_authority(
    renderer: NoticeRenderer,
) -> None:
    change = examples.purpose_declared(
        controller={**examples.purpose_declared()["controller"], "supervisory_authority_url": None}
    )
    notice = renderer.render(NoticeContext(CAMPAIGN, "purpose", change, "en", URL, country="US"))
    assert flat(renderer.catalogs["en"]["complaint_generic"]) in flat(notice.text)
