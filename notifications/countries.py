"""ISO 3166-1 alpha-2 country codes and the European Economic Area.

Pure data and one function, no pydantic: the event models (``notifications.events``)
validate country codes against :data:`ISO_3166_ALPHA2`, and
:func:`expand_countries` is the one place where the audience shorthand
``"EEA"`` becomes its member states, so that the campaign fan-out, the
dashboard and the tests cannot disagree about who is in it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

# fmt: off
#: Every officially assigned ISO 3166-1 alpha-2 code (249 codes). Reserved and
#: user-assigned codes (``EU``, ``UK``, ``XK``, ``EL``...) are not countries here.
ISO_3166_ALPHA2: Final[frozenset[str]] = frozenset({
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ",
    "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW",
    "CX", "CY", "CZ",
    "DE", "DJ", "DK", "DM", "DO", "DZ",
    "EC", "EE", "EG", "EH", "ER", "ES", "ET",
    "FI", "FJ", "FK", "FM", "FO", "FR",
    "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT",
    "GU", "GW", "GY",
    "HK", "HM", "HN", "HR", "HT", "HU",
    "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT",
    "JE", "JM", "JO", "JP",
    "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ",
    "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY",
    "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS",
    "MT", "MU", "MV", "MW", "MX", "MY", "MZ",
    "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ",
    "OM",
    "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY",
    "QA",
    "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ",
    "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW", "TZ",
    "UA", "UG", "UM", "US", "UY", "UZ",
    "VA", "VC", "VE", "VG", "VI", "VN", "VU",
    "WF", "WS",
    "YE", "YT",
    "ZA", "ZM", "ZW",
})

#: The 27 member states of the European Union (Greece is ``GR`` in ISO 3166).
EU_COUNTRIES: Final[frozenset[str]] = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})
# fmt: on

#: The 30 states of the European Economic Area, where the GDPR applies:
#: the EU plus Iceland, Liechtenstein and Norway (not Switzerland, not the UK).
EEA_COUNTRIES: Final[frozenset[str]] = EU_COUNTRIES | {"IS", "LI", "NO"}

#: The audience shorthand that :func:`expand_countries` replaces by :data:`EEA_COUNTRIES`.
EEA: Final = "EEA"


def normalize_country(code: str) -> str:
    """Return ``code`` stripped and upper-cased; raise ``ValueError`` if it is not ISO alpha-2."""
    normalized = code.strip().upper()
    if normalized not in ISO_3166_ALPHA2:
        raise ValueError(f"{code!r} is not an ISO 3166 alpha-2 country code")
    return normalized


def expand_countries(codes: Iterable[str]) -> frozenset[str]:
    """Return the set of ISO alpha-2 codes that ``codes`` designates.

    Codes are case-insensitive; ``"EEA"`` stands for the 30 EEA states and the
    other codes are kept as they are (``["EEA", "CH"]`` is 31 countries). An
    unknown code raises ``ValueError`` rather than silently narrowing an
    audience.
    """
    expanded: set[str] = set()
    for code in codes:
        if code.strip().upper() == EEA:
            expanded |= EEA_COUNTRIES
        else:
            expanded.add(normalize_country(code))
    return frozenset(expanded)
