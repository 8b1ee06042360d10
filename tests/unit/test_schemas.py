"""The committed JSON Schema files follow the models."""

from __future__ import annotations

import json

import pytest

from notifications.events import ADAPTERS
from streams.schemas import REGENERATE, SCHEMA_DIR, render_schemas

RENDERED = render_schemas()


def test_every_topic_has_a_schema_file() -> None:
    assert set(RENDERED) == {f"{topic}.json" for topic in ADAPTERS}
    committed = {path.name for path in SCHEMA_DIR.glob("*.json")}
    assert committed == set(RENDERED), f"schema files differ from the topics: run {REGENERATE}"


@pytest.mark.parametrize("name", sorted(RENDERED))
def test_committed_schema_matches_the_models(name: str) -> None:
    path = SCHEMA_DIR / name
    assert path.is_file(), f"{path} is missing: run {REGENERATE}"
    assert path.read_text(encoding="utf-8") == RENDERED[name], (
        f"{path} is stale: the models changed, run {REGENERATE}"
    )


def test_schemas_are_sorted_indented_and_end_with_a_newline() -> None:
    for text in RENDERED.values():
        assert text.endswith("}\n")
        assert (
            text
            == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        )
