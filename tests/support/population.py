"""A deterministic population of users for campaign tests, and an oracle.

The oracle states the contract's audience rules again, independently and as
plainly as possible, for the one audience these tests use, so that the
integration tests do not check ``notifications.audience`` against itself.
"""

from __future__ import annotations

import random
from typing import Any

EEA = {
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
    "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
}  # fmt: skip
COUNTRIES = ["FR", "DE", "ES", "IT", "NL", "PL", "BE", "NO", "IS", "LI", "CH", "GB", "US", "BR"]
LOCALES = ["en", "fr", "fr-BE", "de", "es", "it", "nl", "pl"]
CATEGORY_SETS: list[list[str] | None] = [
    None,
    ["user.content"],
    ["user.content.public"],
    ["user.contact"],
    ["user.contact", "user.content.private"],
    ["user.behavior"],
]

#: The audience of the test purpose: EEA adults with content, standard or business accounts.
AUDIENCE: dict[str, Any] = {
    "countries": ["EEA"],
    "min_age": 18,
    "account_types": ["standard", "business"],
    "data_categories": ["user.content"],
}
START_YEAR_OFFSET_DAYS = 45


def make_users(count: int, *, seed: int = 3, prefix: str = "pop") -> list[dict[str, Any]]:
    """``count`` users of mixed countries, ages, statuses, accounts and categories."""
    rng = random.Random(seed)
    users = []
    for index in range(count):
        user: dict[str, Any] = {
            "type": "user.upserted",
            "schema_version": 1,
            "user_id": f"{prefix}-{index:05d}",
            "locale": rng.choice(LOCALES),
            "country": rng.choice(COUNTRIES),
            "account_type": rng.choice(["standard"] * 6 + ["business", "test"]),
            "status": rng.choice(["active"] * 8 + ["suspended", "deactivated"]),
            "updated_at": "2026-11-01T00:00:00Z",
        }
        roll = rng.random()
        if roll < 0.04:
            pass  # no email
        elif roll < 0.06:
            user["email"] = rng.choice(["not-an-address", "a@b", "x y@example.com"])
        else:
            user["email"] = f"{user['user_id']}@example.test"
        if rng.random() < 0.8:
            user["birth_year"] = rng.randint(1950, 2016)
        categories = rng.choice(CATEGORY_SETS)
        if categories is not None:
            user["data_categories"] = categories
        users.append(user)
    return users


def expected_outcome(user: dict[str, Any], start_year: int) -> tuple[str, str | None]:
    """What the contract says happens to ``user``: (outcome, reason)."""
    if user["country"] not in EEA or user["account_type"] not in ("standard", "business"):
        return "outside", None
    categories = user.get("data_categories")
    if categories is not None and not any(
        c == "user.content" or c.startswith("user.content.") for c in categories
    ):
        return "outside", None
    birth_year = user.get("birth_year")
    if birth_year is not None and start_year - birth_year < 18:
        return "exclude", "below_min_age"
    if user["status"] != "active":
        return "outside", None
    email = user.get("email")
    if not email:
        return "suppress", "no_email"
    if email in ("not-an-address", "a@b", "x y@example.com"):
        return "suppress", "invalid_email"
    return "notify", None
