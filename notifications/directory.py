"""What the directory keeps of a user, and nothing more.

The directory table is the only copy of contact data preavis holds. Its entry
is a plain dict (the table's JSON value) built here, so that what is stored,
and what erasure must remove, is decided in one reviewed place.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, TypedDict

from pydantic import TypeAdapter

from notifications.events import UserUpserted


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
PARTITION_FIELD: Final = "partition"

#: The time as the model's JSON writes it: the entry stores the same text a
#: ``model_dump(mode="json")`` would, so entries written before and after
#: this function took the model are alike, byte for byte.
_TIME = TypeAdapter(datetime)


def entry_from_upsert(event: UserUpserted, partition: int) -> DirectoryEntry:
    """Keep only the fields the audience rules and delivery need (:data:`ENTRY_FIELDS`)."""
    categories = event.data_categories
    return {
        "user_id": event.user_id,
        "email": event.email,
        "locale": event.locale,
        "country": event.country,
        "birth_year": event.birth_year,
        "account_type": event.account_type,
        "data_categories": None if categories is None else list(categories),
        "status": event.status,
        "updated_at": _json_time(event.updated_at),
        PARTITION_FIELD: partition,
    }


def _json_time(moment: datetime | None) -> str | None:
    return None if moment is None else str(_TIME.dump_python(moment, mode="json"))


def is_stale(current: DirectoryEntry | None, event: UserUpserted) -> bool:
    """An upsert older than what the table holds is a replay, not news.

    The entry's time is the table's JSON text (parsed here, where it is read);
    the event's is the model's, already parsed.
    """
    kept = current.get("updated_at") if current else None
    if event.updated_at is None or not kept:
        return False
    return datetime.fromisoformat(kept) > event.updated_at
