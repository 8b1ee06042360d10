"""Read one partition of a Faust table, in key order, without touching the others.

A campaign reaches each partition of the directory through its own fan-out
record, and the worker that owns the partition must decide for exactly the
users of that partition: not the whole local store (which, with the memory
store, may still hold other partitions' keys) and not standby copies.

Faust has no public API for this. With ``rocksdb://`` every partition is its
own RocksDB database (``Store._db_for_partition``), already sorted by key;
with ``memory://`` the entries are filtered on the ``partition`` field the
directory stores in each entry. Both yield ``(key, value)`` sorted by key, so
that a fan-out interrupted half-way can resume after the last key it finished.

Upstream (faust-streaming 0.15): ``faust/stores/rocksdb.py``,
``Store._db_for_partition`` (one RocksDB database per partition) and
``Store.offset_key`` (the key where Faust keeps the changelog offset, skipped);
``faust/stores/memory.py``, ``Store.data`` (one dict for every partition).
There is no public API for reading one partition of a table.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


def scan_partition(
    table: Any, partition: int, after: str | None = None
) -> Iterator[tuple[str, Any]]:
    """Yield ``(key, value)`` of ``table``'s ``partition`` with key > ``after``, sorted."""
    store = table.data
    if hasattr(store, "_db_for_partition"):
        yield from _scan_rocksdb(store, partition, after)
    else:
        yield from _scan_memory(store.data, partition, after)


def _scan_rocksdb(store: Any, partition: int, after: str | None) -> Iterator[tuple[str, Any]]:
    db = store._db_for_partition(partition)
    iterator = db.iter()
    if after is None:
        iterator.seek_to_first()
    else:
        iterator.seek(json.dumps(after).encode())
    offset_key = store.offset_key
    start = None if after is None else _order(after)
    while iterator.valid():
        raw_key = iterator.key()
        if raw_key != offset_key and (start is None or raw_key > start):
            yield json.loads(raw_key), json.loads(iterator.value())
        iterator.next()


def _scan_memory(
    data: dict[Any, Any], partition: int, after: str | None
) -> Iterator[tuple[str, Any]]:
    start = None if after is None else _order(after)
    keys = sorted(
        (
            key
            for key, value in data.items()
            if isinstance(value, dict)
            and value.get("partition") == partition
            and (start is None or _order(key) > start)
        ),
        key=_order,
    )
    for key in keys:
        value = data.get(key)
        if value is not None:
            yield key, value


def _order(key: str) -> bytes:
    """The order RocksDB keeps keys in: the bytes of their JSON form."""
    return json.dumps(key).encode()
