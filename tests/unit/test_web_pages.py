"""The objection pages and emails: languages, accessibility, escaping, statuses."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest

from notifications.i18n import SUPPORTED_LANGUAGES, load_catalogs, placeholders
from notifications.web_pages import (
    ERROR_INVALID_EMAIL,
    ERROR_UNKNOWN_PURPOSE,
    OBJECT_FORM_PATH,
    Email,
    Page,
    PurposeSummary,
    WebPages,
    page_language,
)

ROOT = Path(__file__).resolve().parents[2]
CATALOG_SETS = [
    ROOT / "templates" / "web" / "i18n",
    ROOT / "templates" / "email" / "i18n_objections",
]
ACTION = "/o/1.dXNlcg.TAG"
CONFIRM_URL = "https://preavis.example/o/1.cGF5bG9hZA.TAG123"
HOSTILE = "<script>alert(1)</script> {{ 7*7 }} {% if 1 %}x{% endif %}"

#: Per language, a word of "Confirm my objection" (and of the recorded page's
#: heading and the two emails' subjects), and a word of the email address label:
#: written by a reader of the language, so that a page whose sentences lost
#: their subject fails.
LANGUAGE_WORDS: dict[str, dict[str, str]] = json.loads(
    (Path(__file__).parent / "language_words.json").read_text(encoding="utf-8")
)
OBJECTION_WORD = {language: words["objection"] for language, words in LANGUAGE_WORDS.items()}
EMAIL_WORD = {language: words["email"] for language, words in LANGUAGE_WORDS.items()}

AI = PurposeSummary(
    purpose_id="ai-training",
    name="Training our AI models",
    description="We will use your public posts to train our models.",
    starts_at="2026-04-16T09:00:00Z",
)
ADS = PurposeSummary("ads", "Personalised advertising", None, None)


@pytest.fixture(scope="module")
def pages() -> WebPages:
    return WebPages()


@pytest.fixture(scope="module")
def catalogs() -> dict[str, dict[str, str]]:
    return load_catalogs(CATALOG_SETS[0])


class Document(HTMLParser):
    """The parts of a page the tests look at: elements, their attributes and texts."""

    VOID = frozenset({"meta", "input", "br", "link", "img", "hr"})

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.texts: list[str] = []
        self.open: list[int] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))
        self.texts.append("")
        if tag not in self.VOID:
            self.open.append(len(self.elements) - 1)

    def handle_endtag(self, tag: str) -> None:
        for position in range(len(self.open) - 1, -1, -1):
            if self.elements[self.open[position]][0] == tag:
                del self.open[position:]
                return

    def handle_data(self, data: str) -> None:
        for index in self.open:
            self.texts[index] += data

    def find(self, tag: str, **attrs: str) -> list[tuple[dict[str, str], str]]:
        """Elements ``tag`` having ``attrs``: (attributes, text with spaces collapsed)."""
        return [
            (found, collapse(self.texts[index]))
            for index, (name, found) in enumerate(self.elements)
            if name == tag and all(found.get(key) == value for key, value in attrs.items())
        ]

    def text(self, tag: str, **attrs: str) -> str:
        [(_, text)] = self.find(tag, **attrs)
        return text


def collapse(text: str) -> str:
    """Runs of ASCII white space made one space (a no-break space stays)."""
    return re.sub(r"[ \t\r\n]+", " ", text).strip()


def check_document(page: Page, language: str) -> Document:
    """What every page must be: a full, accessible, script-free HTML5 document."""
    html = page.html
    assert html.startswith("<!DOCTYPE html>\n")
    assert "<script" not in html.lower()
    assert "javascript:" not in html.lower()
    doc = Document(html)
    [(root, _)] = doc.find("html")
    assert root["lang"] == language
    assert doc.find("meta", charset="utf-8")
    [(viewport, _)] = doc.find("meta", name="viewport")
    assert "width=device-width" in viewport["content"]
    assert doc.text("title")
    assert len(doc.find("h1")) == 1 and doc.text("h1")
    # No external resource, no inline handler or style attribute beyond the one <style>.
    assert not doc.find("link") and not doc.find("img") and not doc.find("iframe")
    assert len(doc.find("style")) == 1
    for _, attributes in doc.elements:
        assert not any(name.startswith("on") or name == "src" for name in attributes)
    # Every control has a label, every label names an existing control.
    ids = {attributes["id"] for _, attributes in doc.elements if "id" in attributes}
    assert len(ids) == sum(1 for _, attributes in doc.elements if "id" in attributes)
    labelled = set()
    for attributes, text in doc.find("label"):
        assert attributes["for"] in ids and text
        labelled.add(attributes["for"])
    for tag, attributes in doc.elements:
        if tag in {"textarea", "select"} or (tag == "input" and attributes["type"] != "hidden"):
            assert attributes["id"] in labelled, attributes
        if tag == "button":
            assert attributes["type"] == "submit"
    for attributes, _ in doc.find("form"):
        assert attributes["method"] == "post"
    return doc


def every_page(pages: WebPages, language: str) -> dict[str, Page]:
    return {
        "objection": pages.objection(language, [AI, ADS], "Example Platform SAS", ACTION),
        "objection_recorded": pages.objection_recorded(language, [AI]),
        "not_found": pages.not_found(language),
        "object_form": pages.object_form(language, [AI, ADS]),
        "object_form_error": pages.object_form(language, [AI], ERROR_INVALID_EMAIL, "a@b"),
        "object_request_sent": pages.object_request_sent(language),
    }


# --- every page, every language -------------------------------------------


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_page_is_a_complete_accessible_document(
    pages: WebPages, catalogs: dict[str, dict[str, str]], language: str
) -> None:
    t = catalogs[language]
    for name, page in every_page(pages, language).items():
        doc = check_document(page, language)
        expected = 400 if name == "object_form_error" else 404 if name == "not_found" else 200
        assert page.status == expected, name
        if language != "en":  # really translated, not English with a lang attribute
            assert doc.text("h1") != catalogs["en"][_heading(name)], name
        assert doc.text("h1") == t[_heading(name)], name


def _heading(name: str) -> str:
    return {
        "objection": "objection_title",
        "objection_recorded": "recorded_title",
        "not_found": "not_found_title",
        "object_form": "objection_title",
        "object_form_error": "objection_title",
        "object_request_sent": "sent_title",
    }[name]


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_objection_page_shows_what_it_covers_and_a_confirm_button(
    pages: WebPages, catalogs: dict[str, dict[str, str]], language: str
) -> None:
    t = catalogs[language]
    doc = check_document(pages.objection(language, [AI, ADS], "Example SAS", ACTION), language)
    [(form, _)] = doc.find("form")
    assert form["action"] == ACTION
    button = doc.text("button", type="submit")
    assert button == t["confirm_button"]
    assert OBJECTION_WORD[language] in button.lower()
    [(textarea, _)] = doc.find("textarea", name="reason")
    assert "required" not in textarea
    assert doc.text("label", **{"for": textarea["id"]}) == t["reason_label"]
    assert doc.text("p", id=textarea["aria-describedby"]) == t["reason_hint"]
    body = doc.text("main")
    for text in ("Training our AI models", str(AI.description), "Personalised advertising"):
        assert text in body
    assert "Example SAS" in body
    assert t["free_no_reason"] in body and t["nothing_until_confirm"] in body
    assert t["label_start"] in body


def test_objection_page_dates_the_start_in_the_readers_language(pages: WebPages) -> None:
    assert "16\u00a0April\u00a02026" in pages.objection("en", [AI], None, ACTION).html
    assert "16\u00a0kwietnia\u00a02026" in pages.objection("pl", [AI], None, ACTION).html
    first_of_june = PurposeSummary("p", "P", None, "2026-06-01T10:00:00+02:00")
    assert "1er\u00a0juin" in pages.objection("fr", [first_of_june], None, ACTION).html
    unreadable = PurposeSummary("p", "P", None, "not a date")
    assert "Start date" not in pages.objection("en", [unreadable], None, ACTION).html


def test_objection_page_without_controller_name(
    pages: WebPages, catalogs: dict[str, dict[str, str]]
) -> None:
    doc = Document(pages.objection("de", [AI], None, ACTION).html)
    assert catalogs["de"]["objection_intro"] in doc.text("main")


@pytest.mark.parametrize(
    "action",
    ["javascript:alert(1)", "//evil.example/o/x", "/\\evil.example", "data:text/html,x", ""],
)
def test_objection_page_refuses_a_form_action_off_site(pages: WebPages, action: str) -> None:
    with pytest.raises(ValueError):
        pages.objection("en", [AI], None, action)


def test_objection_page_accepts_a_path_or_the_public_url(pages: WebPages) -> None:
    assert pages.objection("en", [AI], None, "https://preavis.example/o/x").status == 200
    assert pages.objection("en", [AI], None, "/o/1.a-b_c.d").status == 200


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_recorded_page_names_the_purposes_and_is_fine_when_repeated(
    pages: WebPages, catalogs: dict[str, dict[str, str]], language: str
) -> None:
    t = catalogs[language]
    page = pages.objection_recorded(language, [AI, ADS])
    doc = check_document(page, language)
    assert OBJECTION_WORD[language] in doc.text("h1").lower()
    body = doc.text("main")
    assert "Training our AI models" in body and "Personalised advertising" in body
    assert t["recorded_intro"] in body and t["recorded_repeat"] in body
    assert not doc.find("form")
    assert pages.objection_recorded(language, [AI, ADS]) == page  # same words on a repeat


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_not_found_is_a_404_that_says_how_to_object_anyway(
    pages: WebPages, catalogs: dict[str, dict[str, str]], language: str
) -> None:
    page = pages.not_found(language)
    assert page.status == 404
    doc = check_document(page, language)
    assert doc.text("h1") == catalogs[language]["not_found_title"]
    [(link, text)] = doc.find("a")
    assert link["href"] == f"{OBJECT_FORM_PATH}?lang={language}"
    assert text == catalogs[language]["object_form_link"]
    assert catalogs[language]["not_found_still_object"] in doc.text("main")


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_object_form_has_labelled_email_and_purpose_fields(
    pages: WebPages, catalogs: dict[str, dict[str, str]], language: str
) -> None:
    t = catalogs[language]
    page = pages.object_form(language, [AI, ADS])
    assert page.status == 200
    doc = check_document(page, language)
    assert not doc.find("div", role="alert")
    [(form, _)] = doc.find("form")
    assert form["action"] == OBJECT_FORM_PATH
    [(email, _)] = doc.find("input", name="email")
    assert email["type"] == "email" and "required" in email and email["value"] == ""
    label = doc.text("label", **{"for": email["id"]})
    assert label == t["email_label"] and EMAIL_WORD[language] in label.lower()
    [(select, _)] = doc.find("select", name="purpose_id")
    assert doc.text("label", **{"for": select["id"]}) == t["purpose_label"]
    options = doc.find("option")
    assert [(o["value"], text) for o, text in options] == [
        ("ai-training", "Training our AI models"),
        ("ads", "Personalised advertising"),
    ]
    [(hidden, _)] = doc.find("input", type="hidden")
    assert hidden == {"type": "hidden", "name": "lang", "value": language}
    assert doc.text("button", type="submit") == t["submit_request"]


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_object_form_with_an_error_is_a_400_with_an_alert(
    pages: WebPages, catalogs: dict[str, dict[str, str]], language: str
) -> None:
    t = catalogs[language]
    page = pages.object_form(language, [AI], ERROR_INVALID_EMAIL, "not-an-address")
    assert page.status == 400
    doc = check_document(page, language)
    [(alert, text)] = doc.find("div", role="alert")
    assert text == t["error_invalid_email"]
    assert doc.text("title").startswith(t["error_prefix"])
    [(email, _)] = doc.find("input", name="email")
    assert email["value"] == "not-an-address"
    assert email["aria-invalid"] == "true"
    assert alert["id"] in email["aria-describedby"].split()

    page = pages.object_form(language, [AI], ERROR_UNKNOWN_PURPOSE)
    doc = Document(page.html)
    assert doc.text("div", role="alert") == t["error_unknown_purpose"]
    [(select, _)] = doc.find("select")
    assert select["aria-invalid"] == "true"


def test_object_form_shows_any_other_error_text_escaped(pages: WebPages) -> None:
    page = pages.object_form("en", [AI], HOSTILE)
    assert page.status == 400
    assert "<script>" not in page.html and "&lt;script&gt;" in page.html
    assert Document(page.html).text("div", role="alert") == collapse(HOSTILE)
    empty = pages.object_form("en", [AI], "")
    assert empty.status == 400 and 'role="alert"' in empty.html


def test_object_form_without_purposes_has_no_form(
    pages: WebPages, catalogs: dict[str, dict[str, str]]
) -> None:
    doc = check_document(pages.object_form("nl", []), "nl")
    assert not doc.find("form")
    assert catalogs["nl"]["no_purposes"] in doc.text("main")


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_request_sent_page_does_not_tell_whether_the_address_is_known(
    pages: WebPages, catalogs: dict[str, dict[str, str]], language: str
) -> None:
    doc = check_document(pages.object_request_sent(language), language)
    body = doc.text("main")
    assert catalogs[language]["sent_body"] in body
    assert catalogs[language]["only_on_confirm"] in body


def test_a_locale_or_unsupported_language_is_normalized(pages: WebPages) -> None:
    check_document(pages.not_found("fr-BE"), "fr")
    check_document(pages.objection("ja-JP", [AI], None, ACTION), "en")
    check_document(pages.objection("no-NO", [AI], None, ACTION), "nb")
    assert pages.objection_confirmed_email("de_AT", [AI], None).language == "de"


# --- escaping --------------------------------------------------------------


def test_operator_texts_are_escaped_and_never_templates(pages: WebPages) -> None:
    hostile = PurposeSummary(HOSTILE, HOSTILE, HOSTILE, None)
    rendered: list[str] = [
        pages.objection("en", [hostile], HOSTILE, ACTION).html,
        pages.objection_recorded("en", [hostile]).html,
        pages.object_form("en", [hostile], email_value=HOSTILE).html,
        pages.objection_confirmed_email("en", [hostile], HOSTILE).html,
        pages.objection_request_email("en", hostile, CONFIRM_URL).html,
    ]
    for html in rendered:
        assert "<script" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "{{ 7*7 }}" in html and "49" not in html
        assert "{% if 1 %}x{% endif %}" in html
    doc = Document(rendered[2])
    [(option, text)] = doc.find("option")
    assert option["value"] == HOSTILE and text == collapse(HOSTILE)
    assert doc.find("input", name="email")[0][0]["value"] == HOSTILE
    # Plain text is plain: the words as written, never evaluated.
    text = pages.objection_request_email("en", hostile, CONFIRM_URL).text
    assert "<script>alert(1)</script> {{ 7*7 }}" in text and "49" not in text


def test_style_is_the_only_inline_code_and_matches_the_policy(pages: WebPages) -> None:
    html = pages.object_form("en", [AI]).html
    [css] = re.findall(r"<style>(.*?)</style>", html, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    policy = pages.content_security_policy
    assert f"style-src 'sha256-{digest}'" in policy
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "script-src" not in policy
    assert ":focus" in css and "outline" in css  # a visible focus


def _luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def _contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.mark.parametrize(
    ("foreground", "background", "minimum"),
    [
        ("#1a1a1a", "#ffffff", 4.5),  # text
        ("#0b57d0", "#ffffff", 4.5),  # links
        ("#ffffff", "#0b57d0", 4.5),  # button
        ("#ffffff", "#0842a0", 4.5),  # button, hovered
        ("#4d4d4d", "#ffffff", 4.5),  # hints
        ("#1a1a1a", "#fce8e6", 4.5),  # error text
        ("#595959", "#ffffff", 3.0),  # field borders (non-text)
        ("#1a1a1a", "#ffffff", 3.0),  # focus outline (non-text)
    ],
)
def test_colours_have_enough_contrast(foreground: str, background: str, minimum: float) -> None:
    css = (ROOT / "templates" / "web" / "page.css").read_text(encoding="utf-8")
    assert foreground in css and background in css
    assert _contrast(foreground, background) >= minimum


# --- Accept-Language -------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("fr-BE,fr;q=0.9,en;q=0.8", "fr"),
        ("ja-JP", "en"),
        ("nb-NO", "nb"),
        ("no", "nb"),
        (None, "en"),
        ("", "en"),
        ("de;q=0.1, it;q=0.9", "it"),
        ("ja-JP,ja;q=0.9,nl;q=0.5,en;q=0.4", "nl"),
        ("pt-BR,pt;q=0.9,nl;q=0.5,en;q=0.4", "pt"),
        ("es-419, es;q=0.9", "es"),
        ("PL", "pl"),
        ("de_AT", "de"),
        ("*", "en"),
        ("fr;q=0, de;q=0.5", "de"),
        ("fr;q=abc, it;q=0.2", "it"),  # a malformed q-value: that range is skipped
        ("fr;q=nan, it;q=0.2", "it"),
        ("fr;q=2, it;q=0.2", "it"),
        ("nl;q=0.5, de;q=0.5", "nl"),  # a tie: the first written
        ("en;q=0.5, fr", "fr"),
        ("de ; q = 0.7 , fr;q=0.6", "de"),
        (";;,,;q=1,", "en"),
        ("x" * 100_000, "en"),
    ],
)
def test_page_language(header: str | None, language: str) -> None:
    assert page_language(header) == language


# --- catalogs --------------------------------------------------------------


@pytest.mark.parametrize("folder", CATALOG_SETS, ids=lambda folder: folder.name)
@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_catalogs_have_the_keys_and_placeholders_of_english(folder: Path, language: str) -> None:
    english = json.loads((folder / "en.json").read_text(encoding="utf-8"))
    catalog = json.loads((folder / f"{language}.json").read_text(encoding="utf-8"))
    assert catalog.keys() == english.keys()
    for key, text in catalog.items():
        assert text.strip(), key
        assert "<" not in text and "{{" not in text, key
        assert placeholders(text) == placeholders(english[key]), key
    load_catalogs(folder)  # the check the pages make at start-up


# --- emails ----------------------------------------------------------------

EmailMaker = Callable[[WebPages, str], Email]
EMAILS: dict[str, EmailMaker] = {
    "confirmed": lambda pages, language: pages.objection_confirmed_email(
        language, [AI, ADS], "Example Platform SAS"
    ),
    "request": lambda pages, language: pages.objection_request_email(language, AI, CONFIRM_URL),
}


@pytest.mark.parametrize("kind", EMAILS)
@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_emails_render_in_every_language(pages: WebPages, kind: str, language: str) -> None:
    email = EMAILS[kind](pages, language)
    english = EMAILS[kind](pages, "en")
    assert email.language == language
    assert email.subject.strip() and "\n" not in email.subject
    if language != "en":
        assert email.subject != english.subject
    assert OBJECTION_WORD[language] in email.subject.lower()
    assert "Training our AI models" in email.text and "Training our AI models" in email.html
    assert "<script" not in email.html
    doc = Document(email.html)
    assert doc.find("html")[0][0]["lang"] == language
    assert len(doc.find("h1")) == 1
    if kind == "request":
        assert CONFIRM_URL in email.text
        assert [link["href"] for link, _ in doc.find("a")] == [CONFIRM_URL, CONFIRM_URL]
    else:
        assert "Example Platform SAS" in email.text and "Example Platform SAS" in email.html
        assert "Personalised advertising" in email.text
    assert all(len(line) <= 76 or "://" in line for line in email.text.splitlines())


def test_confirmed_email_without_controller_name(pages: WebPages) -> None:
    email = pages.objection_confirmed_email("fr", [AI], None)
    catalog = load_catalogs(CATALOG_SETS[1])["fr"]
    assert catalog["confirmed_contact"].split()[0] in email.text
    assert "None" not in email.text and "None" not in email.html


@pytest.mark.parametrize("url", ["javascript:alert(1)", "/o/relative", "https://a b", ""])
def test_request_email_needs_an_absolute_http_link(pages: WebPages, url: str) -> None:
    with pytest.raises(ValueError):
        pages.objection_request_email("en", AI, url)


def test_rendering_is_deterministic(pages: WebPages) -> None:
    again = WebPages()
    assert again.objection("it", [AI], "X", ACTION) == pages.objection("it", [AI], "X", ACTION)
    assert again.objection_request_email("nl", AI, CONFIRM_URL) == pages.objection_request_email(
        "nl", AI, CONFIRM_URL
    )
