"""Write N synthetic ``user.upserted`` lines (JSON lines) for benchmarks.

Deterministic for a given N and seed, so two runs import the same bytes.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

COUNTRIES = ["FR", "DE", "ES", "IT", "NL", "PL", "BE", "AT", "SE", "IE", "PT", "NO", "CH", "US"]
LOCALES = {"FR": "fr", "DE": "de", "ES": "es", "IT": "it", "NL": "nl", "PL": "pl", "BE": "fr-BE"}
CATEGORIES = ["user.content.public", "user.content.private", "user.behavior", "user.contact"]
STATUSES = ["active"] * 18 + ["suspended", "deactivated"]


def user_line(index: int, rng: random.Random) -> str:
    country = rng.choice(COUNTRIES)
    record: dict[str, object] = {
        "type": "user.upserted",
        "schema_version": 1,
        "user_id": f"u{index:08d}",
        "email": f"user{index}@example.test",
        "locale": LOCALES.get(country, "en"),
        "country": country,
        "account_type": "business" if index % 10 == 0 else "standard",
        "status": rng.choice(STATUSES),
        "updated_at": "2026-11-01T00:00:00Z",
    }
    if index % 3:
        record["birth_year"] = rng.randint(1940, 2014)
    if index % 4 == 0:
        record["data_categories"] = rng.sample(CATEGORIES, 2)
    return json.dumps(record, separators=(",", ":"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("count", type=int)
    parser.add_argument("output", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    with args.output.open("w") as out:
        for index in range(args.count):
            out.write(user_line(index, rng) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
