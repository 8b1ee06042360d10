"""AI-training detection on real document changes archived by Open Terms Archive.

The corpus lives outside the project, in ``../shared/corpus`` next to the
repository (or in the folder named by ``PREAVIS_CORPUS``), and is read in
place: its documents are not copied here. Each pair folder holds
``before.md``, ``after.md`` and ``meta.json`` (see the corpus README):

- a pair whose meta says ``introduces_ai_training: true`` must be flagged,
  and each sentence of its ``evidence_list`` must be among the quoted evidence;
- no ``control-*`` or ``hardneg-*`` pair may be flagged.

Evidence comparison: an ``evidence_list`` item is a Markdown excerpt, cut by
hand (sometimes at a ";" or mid-sentence, sometimes two sentences at once).
It is split with :func:`~notifications.document_diff.sentences` (same markup
stripping as the documents), and each of its sentences, reduced to its
:func:`~notifications.document_diff.sentence_key` (casefolded, letters and
digits only: whitespace, markup, typographic quotes and punctuation do not
matter), must appear, whole words, inside the key of one quoted sentence.

Run with ``pytest -s`` to see the precision and recall figures.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from notifications.ai_clauses import Detection, detect
from notifications.document_diff import diff, sentence_key, sentences

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "corpus"
NEGATIVE_PREFIXES = ("control-", "hardneg-")

# Evidence sentences that general rules cannot quote, with the reason. They are
# reported, not required; test_known_gaps_are_still_gaps fails as soon as the
# detector catches one, so that it is taken off this list.
KNOWN_GAPS: dict[str, dict[str, str]] = {
    "linkedin-privacy-policy-2024-09-18": {
        "In regions outside the Designated Countries, we may also share your publicly-shared "
        "content (such as your public LinkedIn posts) with our Affiliates, including Microsoft, "
        "to provide or develop their services.": (
            "no AI, model or training word: sharing content with affiliates 'to provide or "
            "develop their services' is AI training only for a reader who knows what Microsoft "
            "does with it; flagging it would flag every data-sharing clause"
        ),
    },
}


def corpus_dir() -> Path:
    return Path(os.environ.get("PREAVIS_CORPUS") or DEFAULT_CORPUS)


def pair_names() -> list[str]:
    root = corpus_dir()
    if not root.is_dir():
        return []
    return sorted(path.name for path in root.iterdir() if (path / "meta.json").is_file())


@dataclass(frozen=True)
class PairResult:
    name: str
    introduces: bool
    evidence_list: tuple[str, ...]
    detection: Detection


@cache
def result(name: str) -> PairResult:
    folder = corpus_dir() / name
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    before = (folder / "before.md").read_text(encoding="utf-8")
    after = (folder / "after.md").read_text(encoding="utf-8")
    return PairResult(
        name=name,
        introduces=bool(meta["introduces_ai_training"]),
        evidence_list=tuple(meta.get("evidence_list", ())),
        detection=detect(diff(before, after)),
    )


def require_corpus() -> list[str]:
    names = pair_names()
    if not names:
        pytest.fail(
            f"AI-training corpus not found (or empty) at {corpus_dir()}: check out the shared "
            f"corpus next to the repository ({DEFAULT_CORPUS}) or set PREAVIS_CORPUS to its folder",
            pytrace=False,
        )
    return names


def is_quoted(evidence_item: str, quoted: tuple[str, ...]) -> bool:
    """Is every sentence of an evidence_list item inside a quoted sentence?"""
    keys = [f" {sentence_key(sentence)} " for sentence in quoted]
    return all(
        any(f" {sentence_key(part)} " in key for key in keys) for part in sentences(evidence_item)
    )


def missing_evidence(pair: PairResult) -> list[str]:
    return [item for item in pair.evidence_list if not is_quoted(item, pair.detection.evidence)]


def known_gap(pair: str, item: str) -> bool:
    gaps = KNOWN_GAPS.get(pair, {})
    return any(sentence_key(item) == sentence_key(gap) for gap in gaps)


# Pairs are listed when the module is collected; without a corpus, one test
# stands for them and fails with the message above.
PAIRS = pair_names() or ["<corpus missing>"]


def test_corpus_is_present() -> None:
    names = require_corpus()
    assert any(not name.startswith(NEGATIVE_PREFIXES) for name in names)
    assert any(name.startswith(NEGATIVE_PREFIXES) for name in names)


@pytest.mark.parametrize("name", PAIRS)
def test_pair(name: str) -> None:
    require_corpus()
    pair = result(name)
    detection = pair.detection
    if name.startswith(NEGATIVE_PREFIXES):
        assert not pair.introduces, f"{name}: a control or hard negative must not introduce"
        assert not detection.flagged, f"{name} flagged on: " + "; ".join(
            f"[{r}] {e}" for r, e in zip(detection.rules, detection.evidence, strict=True)
        )
        return
    if not pair.introduces:
        assert not detection.flagged
        return
    assert detection.flagged, f"{name}: introduces AI training, not flagged"
    missing = [item for item in missing_evidence(pair) if not known_gap(name, item)]
    assert not missing, f"{name}: evidence not quoted: {missing}"


def test_precision_and_recall() -> None:
    names = require_corpus()
    results = [result(name) for name in names]
    true_pos = sum(r.introduces and r.detection.flagged for r in results)
    false_pos = sum(not r.introduces and r.detection.flagged for r in results)
    false_neg = sum(r.introduces and not r.detection.flagged for r in results)
    precision = true_pos / (true_pos + false_pos) if true_pos + false_pos else 1.0
    recall = true_pos / (true_pos + false_neg) if true_pos + false_neg else 1.0

    items = [(r.name, item) for r in results if r.introduces for item in r.evidence_list]
    quoted = [
        (name, item) for name, item in items if is_quoted(item, result(name).detection.evidence)
    ]
    evidence_recall = len(quoted) / len(items) if items else 1.0

    print()
    print(f"AI-training corpus: {len(results)} pairs at {corpus_dir()}")
    for r in results:
        expected = "introduces" if r.introduces else "no training"
        verdict = "flagged" if r.detection.flagged else "not flagged"
        print(f"  {r.name:48} {expected:12} {verdict:12} {len(r.detection.evidence)} quoted")
    print(
        f"pairs: precision {precision:.2f} ({true_pos}/{true_pos + false_pos}), "
        f"recall {recall:.2f} ({true_pos}/{true_pos + false_neg})"
    )
    print(f"evidence sentences quoted: {len(quoted)}/{len(items)} ({evidence_recall:.2f})")
    for name, gaps in KNOWN_GAPS.items():
        for item, reason in gaps.items():
            print(f"  known gap, {name}: {item!r}\n    why: {reason}")

    assert precision == 1.0
    assert recall == 1.0


def test_known_gaps_are_still_gaps() -> None:
    """A gap that the detector now quotes must leave KNOWN_GAPS."""
    require_corpus()
    caught = [
        (name, item)
        for name, gaps in KNOWN_GAPS.items()
        if name in pair_names()
        for item in gaps
        if is_quoted(item, result(name).detection.evidence)
    ]
    assert not caught, f"now quoted, remove from KNOWN_GAPS: {caught}"
