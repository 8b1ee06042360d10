"""What the directory keeps of a user, and nothing more.

The directory table is the only copy of contact data preavis holds. Its entry
is a plain dict (the table's JSON value) built here, so that what is stored,
and what erasure must remove, is decided in one reviewed place.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
