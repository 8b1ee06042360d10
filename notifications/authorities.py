"""The reader's own supervisory authority: the 30 EEA data protection authorities.

Pure data and lookups, no I/O beyond reading the package's table once. GDPR
Art. 77 gives everyone the right to complain to the authority of the country
where they live, so a notice links that one, in its own name (the name in
the local language the reader reads, else the country's first), beside the
controller's lead authority when the purpose names one and it is another.

The table is ``notifications/data/authorities.json``: per ISO country code,
``names`` (per language tag, with ``en``), ``complaint_url`` and optionally
``complaint_urls`` per language (an authority with pages in several of its
country's languages).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Final, NamedTuple
from urllib.parse import urlsplit

from notifications.languages import COUNTRY_LANGUAGES, FALLBACK_LANGUAGE

__all__ = ["AUTHORITIES_FILE", "Authority", "authority_for", "authority_table", "same_authority"]

AUTHORITIES_FILE: Final = Path(__file__).parent / "data" / "authorities.json"


class Authority(NamedTuple):
    """One supervisory authority as a reader sees it: its name and where to complain."""

    country: str
    name: str
    url: str


class _Entry(NamedTuple):
    names: Mapping[str, str]
    complaint_url: str
    complaint_urls: Mapping[str, str]


@cache
def authority_table() -> Mapping[str, _Entry]:
    """The table, read once; a malformed entry fails at start-up, naming its country."""
    with AUTHORITIES_FILE.open(encoding="utf-8") as file:
        raw = json.load(file)
    table: dict[str, _Entry] = {}
    for country, entry in raw.items():
        try:
            names = {str(tag): str(name) for tag, name in entry["names"].items()}
            url = str(entry["complaint_url"])
            urls = {str(tag): str(u) for tag, u in entry.get("complaint_urls", {}).items()}
        except (KeyError, AttributeError, TypeError) as exc:
            raise ValueError(f"authorities.json: {country}: {exc}") from exc
        for link in (url, *urls.values()):
            if urlsplit(link).scheme != "https":
                raise ValueError(f"authorities.json: {country}: {link!r} is not https")
        table[country] = _Entry(names, url, urls)
    return table


def authority_for(country: str | None, language: str) -> Authority | None:
    """The authority of ``country`` for a reader of ``language``; ``None`` outside the EEA."""
    if not country:
        return None
    code = country.strip().upper()
    entry = authority_table().get(code)
    if entry is None:
        return None
    local = COUNTRY_LANGUAGES.get(code, ())
    if language in entry.names and language in local:
        name_language = language
    else:
        name_language = next((tag for tag in local if tag in entry.names), FALLBACK_LANGUAGE)
    url = entry.complaint_urls.get(language) or entry.complaint_urls.get(name_language)
    return Authority(code, entry.names[name_language], url or entry.complaint_url)


def _host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def same_authority(url: str, authority: Authority) -> bool:
    """Whether ``url`` (a controller's lead authority) is ``authority``'s own site."""
    entry = authority_table().get(authority.country)
    links = () if entry is None else (entry.complaint_url, *entry.complaint_urls.values())
    return _host(url) in {_host(link) for link in (authority.url, *links)}
