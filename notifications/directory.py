"""What the directory keeps of a user, and nothing more.

The directory table is the only copy of contact data preavis holds. Its entry
is a plain dict (the table's JSON value) built here, so that what is stored,
and what erasure must remove, is decided in one reviewed place.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict


class DirectoryEntry(TypedDict, total=False):
    """A directory table value: the contract's ``user.upserted`` fields preavis keeps.

    A plain dict, not a model: the fan-out reads millions of them, and a
    ``TypedDict`` costs nothing at run time while mypy checks every access.
    Dates are ISO strings, as the table's JSON stores them.
    """

    user_id: str
    email: str | None
    locale: str | None
    country: str | None
    birth_year: int | None
    account_type: str | None
    data_categories: list[str] | None
    status: str | None
    updated_at: str | None
    partition: int


#: Every field an entry may hold; erasure deletes the whole entry.
ENTRY_FIELDS: tuple[str, ...] = (
    "user_id",
    "email",
    "locale",
    "country",
    "birth_year",
    "account_type",
    "data_categories",
    "status",
    "updated_at",
)
#: Not personal data: the Kafka partition the entry lives in, so that a
#: fan-out can select its partition's entries from any store.
PARTITION_FIELD = "partition"


def entry_from_upsert(fields: dict[str, Any], partition: int) -> dict[str, Any]:
    """Keep only the fields the audience rules and delivery need."""
    entry = {name: fields.get(name) for name in ENTRY_FIELDS}
    entry[PARTITION_FIELD] = partition
    return entry


def is_stale(current: dict[str, Any] | None, updated_at: datetime | None) -> bool:
    """An upsert older than what the table holds is a replay, not news."""
    if updated_at is None or not current or not current.get("updated_at"):
        return False
    return datetime.fromisoformat(current["updated_at"]) > updated_at
