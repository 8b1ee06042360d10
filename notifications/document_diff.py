"""Sentence-level comparison of two versions of a terms or privacy document.

Documents come as Markdown, the way Open Terms Archive records them. Two
versions are compared as *sets of sentences*, so that what counts as a change
is what a reader would call one:

- Markup is not content: headings, emphasis, links (``[text](url)`` keeps
  its text, loses its URL), list bullets, table pipes, HTML tags and
  entities, Markdown escapes. A link whose URL changed is no change.
- Whitespace and typography are not content: runs of spaces and line breaks,
  non-breaking and zero-width spaces, typographic apostrophes and quotes
  (curly apostrophes -> ``'``; curly double quotes and guillemets -> ``"``).
- Order is not content: a sentence that moved is neither added nor removed.
- Two sentences are the same when their *key* is: casefolded, letters and
  digits only, one space between words (:func:`sentence_key`). So
  punctuation and case edits are no change either.

A sentence of the new version whose key exists anywhere in the old version is
not "added", even if it now stands in another section (that is the price of
ignoring reordering).

Sentences are split within blocks (a paragraph, a heading, one list item, one
table cell or one ``<br>``-separated line of a cell), never across them. The
splitter ends a sentence at ``.``, ``!``, ``?`` or ``…`` followed by a space
and a capital letter (or an opening quote or bracket, or a digit), except
after common abbreviations (e.g., i.e., etc., Inc., cf., M., Mme, art.,
n°...), dotted initials ("U.S.", "U.K."), and list enumerators ("2. Uses",
"a. Scope"); a single capital ("X.", "Exhibit A.") does end a sentence.
Decimals ("3.5") have no space after the dot and are never split.
Semicolons do not end a sentence.

Besides the sentences, :func:`diff` records the structure each added or
removed sentence sits in (:class:`SentenceContext`): the lead-in a list item
completes ("We use your data for the following purposes:"), the other cells
of its table row, and the sentence before it in its block. Legal documents
spread one statement over that structure (purpose in one cell, data in the
next), and a reader of the change needs it; :mod:`notifications.ai_clauses`
uses it.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

__all__ = [
    "DocumentDiff",
    "SentenceContext",
    "diff",
    "sentence_key",
    "sentences",
    "strip_markup",
]


@dataclass(frozen=True, slots=True)
class SentenceContext:
    """Where a sentence stands, for the sentences that only make sense there.

    Every field is a tuple because the same sentence (same key) may stand in
    several places of a document; the contexts of all of them are kept.
    """

    # Sentences that a list item completes: the last sentence of the
    # paragraph or item just before the list, when it ends with ":".
    lead_ins: tuple[str, ...] = ()
    # Text of the other cells of the table row the sentence is in.
    row: tuple[str, ...] = ()
    # The sentence just before it in the same block (paragraph, item, cell).
    previous: tuple[str, ...] = ()

    def merged(self, other: SentenceContext) -> SentenceContext:
        return SentenceContext(
            lead_ins=_unique((*self.lead_ins, *other.lead_ins)),
            row=_unique((*self.row, *other.row)),
            previous=_unique((*self.previous, *other.previous)),
        )


@dataclass(frozen=True, slots=True)
class DocumentDiff:
    """Sentences of the new version not in the old one, and the reverse.

    ``added`` and ``removed`` are in document order, one sentence per key,
    spelled as :func:`sentences` returns them. ``added_contexts`` and
    ``removed_contexts`` are either empty (a diff built by hand) or aligned
    with ``added`` and ``removed``.
    """

    added: tuple[str, ...]
    removed: tuple[str, ...]
    added_contexts: tuple[SentenceContext, ...] = field(default=(), compare=False)
    removed_contexts: tuple[SentenceContext, ...] = field(default=(), compare=False)

    def context_of_added(self, index: int) -> SentenceContext:
        return self.added_contexts[index] if index < len(self.added_contexts) else _NO_CONTEXT

    def context_of_removed(self, index: int) -> SentenceContext:
        return self.removed_contexts[index] if index < len(self.removed_contexts) else _NO_CONTEXT


_NO_CONTEXT = SentenceContext()


def sentences(markdown: str) -> list[str]:
    """The sentences of a Markdown document, markup stripped, in order."""
    return [segment.text for segment in _segments(markdown)]


def sentence_key(sentence: str) -> str:
    """What two sentences must share to be "the same": words, casefolded."""
    text = unicodedata.normalize("NFKC", _normalize_typography(sentence)).casefold()
    return " ".join(_WORD.findall(text))


def diff(old_text: str, new_text: str) -> DocumentDiff:
    """Sentences added and removed between two Markdown versions."""
    old = _by_key(_segments(old_text))
    new = _by_key(_segments(new_text))
    added = [(text, context) for key, (text, context) in new.items() if key not in old]
    removed = [(text, context) for key, (text, context) in old.items() if key not in new]
    return DocumentDiff(
        added=tuple(text for text, _ in added),
        removed=tuple(text for text, _ in removed),
        added_contexts=tuple(context for _, context in added),
        removed_contexts=tuple(context for _, context in removed),
    )


def strip_markup(markdown: str) -> str:
    """Inline Markdown and HTML markup removed, typography normalized.

    For one block of text (a line, a cell): links keep their text, emphasis
    and code marks go, tags go, entities and escapes are decoded, whitespace
    is collapsed. Block markers (bullets, heading hashes) are not removed
    here; :func:`sentences` handles them.
    """
    text = _normalize_typography(markdown)
    text = _IMAGE.sub(lambda m: m.group(1), text)
    # Twice: a link's text may itself hold a link-like bracket pair.
    for _ in range(2):
        text = _LINK.sub(lambda m: m.group(1), text)
        text = _REF_LINK.sub(lambda m: m.group(1), text)
    text = _AUTOLINK.sub(lambda m: m.group(1), text)
    text = _HTML_TAG.sub(" ", text)
    text = _CODE.sub(lambda m: m.group(1), text)
    text = _STRONG.sub(lambda m: m.group(2), text)
    text = _EMPHASIS.sub(lambda m: m.group(2), text)
    text = _STRAY_STRONG.sub("", text)  # "** Label.**": unpaired after the above
    text = _ESCAPE.sub(lambda m: m.group(1), text)
    text = html.unescape(text)
    text = _normalize_typography(text)  # entities may have produced some
    return _SPACES.sub(" ", text).strip()


# --- normalization ---------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")
_SPACES = re.compile(r"\s+")
_TYPOGRAPHY = str.maketrans(
    {
        # single quotes, low-9, reversed-9, prime, modifier apostrophe
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u02bc": "'",
        # double quotes, low-9, reversed-9, double prime
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00a0": " ",  # no-break space
        "\u202f": " ",  # narrow no-break space (French ; : ! ?)
        "\u2007": " ",
        "\u2009": " ",
        "\u200a": " ",
        "\u2002": " ",
        "\u2003": " ",
        "\u200b": "",  # zero-width space
        "\u200c": "",
        "\u200d": "",
        "\u2060": "",
        "\ufeff": "",
        "\u00ad": "",  # soft hyphen
    }
)
_GUILLEMET_OPEN = re.compile("[\u00ab\u2039]\\s*")  # double and single, with their space
_GUILLEMET_CLOSE = re.compile("\\s*[\u00bb\u203a]")


def _normalize_typography(text: str) -> str:
    text = text.translate(_TYPOGRAPHY)
    text = _GUILLEMET_OPEN.sub('"', text)
    return _GUILLEMET_CLOSE.sub('"', text)


# --- inline markup -----------------------------------------------------------

_LINK_TEXT = r"((?:\\.|[^\]\\])*)"
_IMAGE = re.compile(r"!\[" + _LINK_TEXT + r"\]\([^)]*\)")
_LINK = re.compile(r"\[" + _LINK_TEXT + r"\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"]*\")?\)")
_REF_LINK = re.compile(r"\[" + _LINK_TEXT + r"\]\[[^\]]*\]")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>|<!--.*?-->")
_CODE = re.compile(r"`+([^`]*)`+")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EMPHASIS = re.compile(r"(?<![\w*])([*_])(?=[^\s*_])(.+?)(?<=[^\s*_])\1(?![\w*])")
_STRAY_STRONG = re.compile(r"(?<!\\)(?:\*\*+|(?<!\w)__+|__+(?!\w))")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~\"'])")

# --- blocks ------------------------------------------------------------------

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_SETEXT_UNDERLINE = re.compile(r"^\s{0,3}(?:=+|-+)\s*$")
_RULE = re.compile(r"^\s{0,3}(?:(?:\*\s*){3,}|(?:-\s*){3,}|(?:_\s*){3,})$")
_LIST_ITEM = re.compile(r"^(\s*)(?:[*+\-•]|\d{1,3}[.)]|\(?[a-zA-Z]\)|\(?[ivxIVX]{1,5}\))\s+(.*)$")
_TABLE_LINE = re.compile(r"^\s*\|")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?(?:\s*:?-{2,}:?\s*\|)+\s*:?-*:?\s*\|?\s*$")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_FENCE = re.compile(r"^\s*(?:```|~~~)")
_QUOTE_MARK = re.compile(r"^\s{0,3}>\s?")


@dataclass(frozen=True, slots=True)
class _Block:
    text: str  # inline markup still in
    lead_in: str = ""
    row: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Segment:
    text: str
    context: SentenceContext


def _segments(markdown: str) -> list[_Segment]:
    out: list[_Segment] = []
    for block in _blocks(markdown.splitlines()):
        previous = ""
        for sentence in _split_sentences(strip_markup(block.text)):
            context = SentenceContext(
                lead_ins=(block.lead_in,) if block.lead_in else (),
                row=block.row,
                previous=(previous,) if previous else (),
            )
            out.append(_Segment(sentence, context))
            previous = sentence
    return out


def _blocks(lines: list[str], row: tuple[str, ...] = ()) -> Iterator[_Block]:
    """Paragraphs, headings, list items and table cells, in order.

    A list item carries the lead-in it completes: the last sentence of the
    block before the list when that block ends with ":" (kept for the whole
    list, and for deeper items under an item that ends with ":").
    """
    paragraph: list[str] = []
    item: list[str] = []
    item_indent = 0
    # (indent of the items it introduces, lead-in sentence), outermost first
    lead_ins: list[tuple[int, str]] = []
    last_kind = ""  # "paragraph", "item" or "" (heading, table, start)
    last_text = ""  # plain text of the last paragraph or item emitted
    in_fence = False

    def lead_in_for(indent: int) -> str:
        while lead_ins and lead_ins[-1][0] > indent:
            lead_ins.pop()
        return lead_ins[-1][1] if lead_ins else ""

    def flush() -> Iterator[_Block]:
        nonlocal last_kind, last_text
        if paragraph:
            text = " ".join(paragraph)
            paragraph.clear()
            yield _Block(text, row=row)
            last_kind, last_text = "paragraph", strip_markup(text)
        if item:
            text = " ".join(item)
            item.clear()
            yield _Block(text, lead_in=lead_in_for(item_indent), row=row)
            last_kind, last_text = "item", strip_markup(text)

    def reset() -> None:
        nonlocal last_kind, last_text
        lead_ins.clear()
        last_kind, last_text = "", ""

    for raw in lines:
        line = _QUOTE_MARK.sub("", raw, count=1)
        if _FENCE.match(line):
            yield from flush()
            in_fence = not in_fence
            continue
        if in_fence:
            paragraph.append(line.strip())
            continue
        if not line.strip():
            yield from flush()
            continue
        if _TABLE_LINE.match(line):
            yield from flush()
            reset()
            if not _TABLE_SEPARATOR.match(line):
                yield from _table_row(line)
            continue
        if _RULE.match(line) and not paragraph:
            yield from flush()
            reset()
            continue
        if _SETEXT_UNDERLINE.match(line) and paragraph:
            # The paragraph so far was a heading: its own block, no lead-in.
            yield from flush()
            reset()
            continue
        heading = _HEADING.match(line)
        if heading:
            yield from flush()
            reset()
            yield _Block(heading.group(1), row=row)
            continue
        bullet = _LIST_ITEM.match(line)
        if bullet:
            previous_indent = item_indent
            yield from flush()
            indent = len(bullet.group(1).expandtabs(4))
            introduces = last_text.endswith(":")
            if last_kind == "item":
                # An item ending with ":" introduces the deeper items below it.
                if indent > previous_indent and introduces:
                    lead_ins.append((indent, _last_sentence(last_text)))
            elif last_kind == "paragraph" and introduces:
                lead_ins[:] = [(indent, _last_sentence(last_text))]
            else:
                lead_ins.clear()
            item.append(bullet.group(2).strip())
            item_indent = indent
            continue
        # A text line: continues the open item or paragraph.
        if item:
            item.append(line.strip())
        else:
            if not paragraph:
                lead_ins.clear()
            paragraph.append(line.strip())
    yield from flush()


def _table_row(line: str) -> Iterator[_Block]:
    stripped = line.strip()
    if stripped.startswith("|"):
        stripped = stripped[1:]
    if stripped.endswith("|") and not stripped.endswith("\\|"):
        stripped = stripped[:-1]
    cells = [cell.strip() for cell in _CELL_SPLIT.split(stripped)]
    plain = [strip_markup(_BR.sub(" ", cell)).lstrip("#").strip() for cell in cells]
    for index, cell in enumerate(cells):
        if not plain[index]:
            continue
        others = tuple(text for i, text in enumerate(plain) if i != index and text)
        # A cell is a small document whose <br> separate blocks.
        cell_lines = _BR.sub("\n\n", cell).splitlines()
        yield from _blocks(cell_lines, row=others)


def _last_sentence(text: str) -> str:
    parts = _split_sentences(text)
    return parts[-1] if parts else ""


# --- sentences ---------------------------------------------------------------

# Candidate ends: terminal punctuation, optional closing quotes or brackets,
# whitespace, then something that can start a sentence.
_BOUNDARY = re.compile(r"([.!?…]+)([\"')\]]*)\s+(?=[\"'(\[]?[A-ZÀ-ÖØ-Þ0-9¿¡])")

# Words whose final dot is not a sentence end (compared casefolded, with the
# dot). Initials ("J.", "U.S.") are handled by shape, not listed.
_ABBREVIATIONS = frozenset(
    {
        "e.g.",
        "i.e.",
        "etc.",
        "cf.",
        "vs.",
        "viz.",
        "approx.",
        "inc.",
        "ltd.",
        "llc.",
        "corp.",
        "co.",
        "plc.",
        "s.a.",
        "s.a.s.",
        "mr.",
        "mrs.",
        "ms.",
        "dr.",
        "prof.",
        "st.",
        "no.",
        "nos.",
        "art.",
        "arts.",
        "sec.",
        "para.",
        "p.",
        "pp.",
        "vol.",
        "fig.",
        "ch.",
        "ex.",
        "jan.",
        "feb.",
        "mar.",
        "apr.",
        "jun.",
        "jul.",
        "aug.",
        "sep.",
        "sept.",
        "oct.",
        "nov.",
        "dec.",
        # French
        "m.",
        "mm.",
        "mme.",
        "mmes.",
        "mlle.",
        "me.",
        "n°.",
        "av.",
        "bd.",
        "env.",
        "éd.",
        "chap.",
        "al.",
        "ibid.",
    }
)
# "U.S.", "e.g." shapes; a single capital ("X.", "Exhibit A.") may end a sentence.
_INITIALS = re.compile(r"^(?:[^\W\d_]\.){2,}$")
_ENUMERATOR = re.compile(r"^(?:\(?\d{1,3}|\(?[ivxlc]{1,5}|\(?[a-z])$", re.IGNORECASE)


def _split_sentences(text: str) -> list[str]:
    if not text:
        return []
    parts: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end(2)
        candidate = text[start:end].strip()
        if not _is_sentence_end(candidate, match.group(1)):
            continue
        parts.append(candidate)
        start = match.end()
    parts.append(text[start:].strip())
    return [part for part in parts if _WORD.search(part)]


def _is_sentence_end(candidate: str, punctuation: str) -> bool:
    if punctuation != ".":
        return True  # "!", "?", "…" and "..." end sentences
    words = candidate.rstrip("\"')]").split()
    if not words:
        return False
    # "l'art." -> "art.": French elision glued to the abbreviation.
    last = words[-1].lstrip("(\"'[").casefold().rsplit("'", 1)[-1]
    if last in _ABBREVIATIONS or _INITIALS.match(last):
        return False
    # "2. Uses", "iv. Scope", "(a). Foo": an enumerator opening the sentence.
    return not (len(words) == 1 and _ENUMERATOR.match(last[:-1]))


# --- diff --------------------------------------------------------------------


def _by_key(segments: Iterable[_Segment]) -> dict[str, tuple[str, SentenceContext]]:
    out: dict[str, tuple[str, SentenceContext]] = {}
    for segment in segments:
        key = sentence_key(segment.text)
        if not key:
            continue
        if key in out:
            text, context = out[key]
            out[key] = (text, context.merged(segment.context))
        else:
            out[key] = (segment.text, segment.context)
    return out


def _unique(items: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
