"""The render cache returns exactly what the renderer would, rendering each group once."""

from __future__ import annotations

import pytest

from notifications.i18n import SUPPORTED_LANGUAGES
from notifications.render import NoticeContext, NoticeRenderer, RenderedNotice
from notifications.render_cache import CachedRenderer
from tests import examples

CAMPAIGN = "purpose:ai-training:v1"


class Counting:
    """The real renderer, counting how often it renders."""

    def __init__(self, renderer: NoticeRenderer) -> None:
        self.renderer = renderer
        self.calls = 0

    def render(self, context: NoticeContext) -> RenderedNotice:
        self.calls += 1
        return self.renderer.render(context)

    def language_for(self, context: NoticeContext) -> str:
        return self.renderer.language_for(context)


@pytest.fixture(scope="module")
def renderer() -> NoticeRenderer:
    return NoticeRenderer()


def link(user: int) -> str:
    # real links differ in length (user ids do)
    return f"https://preavis.example/o/{'t' * (user % 7)}TOKEN-{user}.sig&x=<{user}>"


def contexts(change: dict[str, object], kind: str = "purpose") -> list[NoticeContext]:
    return [
        NoticeContext(CAMPAIGN, kind, change, locale, link(user))  # type: ignore[arg-type]
        for user in range(5)
        for locale in (*SUPPORTED_LANGUAGES, "fr-BE", "pt-BR")
    ]


def test_every_notice_is_what_the_renderer_renders(renderer: NoticeRenderer) -> None:
    cached = CachedRenderer(renderer)
    for change, kind in (
        (examples.purpose_declared(), "purpose"),
        (examples.terms_published(purposes_added=["ai-training"]), "terms"),
    ):
        for context in contexts(change, kind):
            assert cached.render(context) == renderer.render(context)


def test_a_group_is_rendered_once_for_all_its_readers(renderer: NoticeRenderer) -> None:
    counting = Counting(renderer)
    cached = CachedRenderer(counting)
    change = examples.purpose_declared()
    for user in range(50):
        cached.render(NoticeContext(CAMPAIGN, "purpose", dict(change), "de-AT", link(user)))
    assert counting.calls == 2  # learning the group: two stand-ins, then never again


def test_a_changed_text_is_a_new_group(renderer: NoticeRenderer) -> None:
    cached = CachedRenderer(renderer)
    first = examples.purpose_declared()
    second = examples.purpose_declared(retention="Until you delete your account.")
    one = cached.render(NoticeContext(CAMPAIGN, "purpose", first, "en", link(1)))
    two = cached.render(NoticeContext(CAMPAIGN, "purpose", second, "en", link(1)))
    assert "Until you delete your account." in two.text
    assert one.text != two.text


def test_no_link_is_rendered_as_is(renderer: NoticeRenderer) -> None:
    counting = Counting(renderer)
    cached = CachedRenderer(counting)
    change = examples.terms_published()
    context = NoticeContext("terms:tos:2026-04", "terms", change, "en", None)
    assert cached.render(context) == renderer.render(context)
    assert counting.calls == 1


class Wrapping:
    """A renderer that cuts the link into lines: the cache must not be used for it."""

    def render(self, context: NoticeContext) -> RenderedNotice:
        url = context.objection_url or ""
        text = "Object here: " + "\n".join(url[i : i + 30] for i in range(0, len(url), 30))
        return RenderedNotice("en", "Subject", text, f"<p>{url.upper()}</p>")

    def language_for(self, context: NoticeContext) -> str:
        return "en"


def test_a_template_that_transforms_the_link_is_rendered_in_full() -> None:
    cached = CachedRenderer(Wrapping())
    for user in range(10):
        context = NoticeContext(CAMPAIGN, "purpose", {}, "en", link(user))
        assert cached.render(context) == Wrapping().render(context)


def test_the_oldest_group_makes_room(renderer: NoticeRenderer) -> None:
    counting = Counting(renderer)
    cached = CachedRenderer(counting, max_groups=2)
    change = examples.purpose_declared()
    for locale in ("en", "de", "fr", "en"):
        cached.render(NoticeContext(CAMPAIGN, "purpose", change, locale, link(1)))
    assert counting.calls == 8  # "en" was dropped for "fr", and learned again
