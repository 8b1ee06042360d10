"""Country codes and the one place where "EEA" is expanded."""

from __future__ import annotations

import pytest

from notifications.countries import (
    EEA_COUNTRIES,
    EU_COUNTRIES,
    ISO_3166_ALPHA2,
    expand_countries,
    normalize_country,
)


def test_iso_set_holds_every_assigned_code_and_nothing_else() -> None:
    assert len(ISO_3166_ALPHA2) == 249
    assert all(len(code) == 2 and code.isupper() for code in ISO_3166_ALPHA2)
    assert {"FR", "GR", "GB", "CH", "US", "SS", "BQ"} <= ISO_3166_ALPHA2
    assert not {"EU", "UK", "EL", "XK", "XX", "AN"} & ISO_3166_ALPHA2


def test_eea_is_the_eu_plus_iceland_liechtenstein_norway() -> None:
    assert len(EU_COUNTRIES) == 27
    assert len(EEA_COUNTRIES) == 30
    assert {"NO", "IS", "LI"} <= EEA_COUNTRIES
    assert {"NO", "IS", "LI"} == EEA_COUNTRIES - EU_COUNTRIES
    assert not {"CH", "GB"} & EEA_COUNTRIES
    assert EEA_COUNTRIES <= ISO_3166_ALPHA2


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        (["EEA"], EEA_COUNTRIES),
        (["EEA", "CH"], EEA_COUNTRIES | {"CH"}),
        (["FR", "DE"], {"FR", "DE"}),
        (["fr", " de ", "eea"], EEA_COUNTRIES),
        (["ch", "gb"], {"CH", "GB"}),
        ([], set()),
    ],
    ids=["eea", "eea plus CH", "others kept", "lowercase normalized", "non-EEA", "empty"],
)
def test_expand_countries(codes: list[str], expected: set[str]) -> None:
    result = expand_countries(codes)
    assert isinstance(result, frozenset)
    assert result == expected


@pytest.mark.parametrize("code", ["XX", "UK", "E", "FRA", ""])
def test_unknown_codes_are_refused(code: str) -> None:
    with pytest.raises(ValueError, match="not an ISO 3166 alpha-2 country code"):
        expand_countries([code])
    with pytest.raises(ValueError):
        normalize_country(code)


def test_normalize_country() -> None:
    assert normalize_country(" be") == "BE"
