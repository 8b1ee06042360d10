"""Render a campaign's notice once per reader group, not once per reader.

Every notice of a campaign in one language (and for one country) is the same
text but for the reader's signed objection link. Rendering it is most of the
CPU a notice costs (two Jinja templates, a catalog, wrapping, escaping), so
:class:`CachedRenderer` renders each group once with a stand-in link and puts
each reader's own link in its place.

That is only right if the templates treat the link as an opaque string (they
print it, escaped in HTML, and never cut, wrap or transform it). The cache
does not assume so: the first time it sees a group it renders it with two
different stand-ins, and caches the group only if the two results differ in
nothing but the stand-in. A template that transforms the link therefore just
makes that group uncached (every notice rendered in full), never wrong.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Hashable
from typing import Protocol

from markupsafe import escape

from notifications.campaign import change_digest
from notifications.render import NoticeContext, RenderedNotice

#: Stand-in links: valid http(s) URLs (the renderer checks them) that no real
#: link can contain, with nothing HTML escaping would change. One shorter and
#: one longer than any real link: a template that wraps the link's line, where
#: the link's length matters, renders the two differently and is not cached.
_STAND_INS = (
    "https://x.invalid/5b0f8c",
    "https://stand-in.invalid/" + "d93a27f4" * 40,
)
#: Groups kept: campaigns x languages x countries in delivery at once, with room.
MAX_GROUPS = 1024


class Renderer(Protocol):
    def render(self, context: NoticeContext) -> RenderedNotice: ...

    def language_for(self, context: NoticeContext) -> str: ...


@dataclasses.dataclass(frozen=True, slots=True)
class _Template:
    """A group's notice with the stand-in link in it (``None``: render every notice)."""

    notice: RenderedNotice | None
    stand_in: str = _STAND_INS[0]


class CachedRenderer:
    """A :class:`Renderer` that renders each (campaign text, reader group) once."""

    def __init__(self, renderer: Renderer, max_groups: int = MAX_GROUPS) -> None:
        self._renderer = renderer
        self._max_groups = max_groups
        self._groups: OrderedDict[Hashable, _Template] = OrderedDict()

    def language_for(self, context: NoticeContext) -> str:
        """The language the wrapped renderer writes ``context``'s notice in."""
        return self._renderer.language_for(context)

    def render(self, context: NoticeContext) -> RenderedNotice:
        """The notice of ``context``, exactly what the wrapped renderer would return."""
        url = context.objection_url
        if url is None or any(stand_in in url for stand_in in _STAND_INS):
            return self._renderer.render(context)
        key = _group_key(context)
        template = self._groups.get(key)
        if template is None:
            template = self._learn(context)
            self._groups[key] = template
            if len(self._groups) > self._max_groups:
                self._groups.popitem(last=False)
        else:
            self._groups.move_to_end(key)
        if template.notice is None:
            return self._renderer.render(context)
        return _with_link(template.notice, template.stand_in, url)

    def _learn(self, context: NoticeContext) -> _Template:
        """Render the group with both stand-ins; cache it only if the link is opaque to it."""
        first, second = (
            self._renderer.render(dataclasses.replace(context, objection_url=stand_in))
            for stand_in in _STAND_INS
        )
        if _with_link(first, _STAND_INS[0], _STAND_INS[1]) != second or _STAND_INS[0] not in (
            first.text + first.html
        ):
            return _Template(None)
        return _Template(first)


def _group_key(context: NoticeContext) -> Hashable:
    """Every field of ``context`` but the link; the change by its digest (it is re-read per job)."""
    others = tuple(
        getattr(context, field.name)
        for field in dataclasses.fields(context)
        if field.name not in ("change", "objection_url")
    )
    return (change_digest(context.change), others)


def _with_link(notice: RenderedNotice, stand_in: str, url: str) -> RenderedNotice:
    """``notice`` with ``url`` where the stand-in was (escaped in HTML, as Jinja escapes it)."""
    return dataclasses.replace(
        notice,
        subject=notice.subject.replace(stand_in, url),
        text=notice.text.replace(stand_in, url),
        html=notice.html.replace(stand_in, str(escape(url))),
    )
