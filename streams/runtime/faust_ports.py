"""Faust's tables and topics behind the ports of :mod:`streams.ports`.

The wrappers add no behaviour of their own: they delegate to the Faust object
(kept as ``raw`` for the agents' decorators and the runtime's partition scan)
and route the acknowledged writes through :mod:`streams.runtime.acked`, the
one module that knows how Faust drops the futures of ``send`` and of a
table's changelog record.

Upstream (faust-streaming 0.15): ``faust/tables/table.py`` ``Table`` (a
``MutableMapping`` over the store), ``faust/topics.py`` ``Topic.send``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Generic, TypeVar

from streams.runtime.acked import set_acked

V = TypeVar("V")


class FaustTable(Generic[V]):
    """A Faust ``Table`` as a :class:`streams.ports.Table`."""

    __slots__ = ("raw",)

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def get(self, key: str) -> V | None:
        value: V | None = self.raw.get(key)
        return value

    def __contains__(self, key: object) -> bool:
        return bool(key in self.raw)

    def __setitem__(self, key: str, value: V) -> None:
        self.raw[key] = value

    def __delitem__(self, key: str) -> None:
        del self.raw[key]

    def items(self) -> Iterable[tuple[str, V]]:
        items: Iterable[tuple[str, V]] = self.raw.items()
        return items

    async def put_acked(self, partition: int, key: str, value: V) -> None:
        await set_acked(self.raw, partition, key, value)

    @property
    def changelog_topic_name(self) -> str:
        name: str = self.raw.changelog_topic.get_topic_name()
        return name


class FaustTopic:
    """A Faust ``Topic`` as a :class:`streams.ports.Topic`."""

    __slots__ = ("raw",)

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    @property
    def name(self) -> str:
        name: str = self.raw.get_topic_name()
        return name

    async def send(
        self, *, key: bytes | None, value: bytes | None, partition: int | None = None
    ) -> None:
        await self.raw.send(key=key, value=value, partition=partition)

    async def send_acked(
        self, *, key: bytes | None, value: bytes | None, partition: int | None = None
    ) -> None:
        pending = await self.raw.send(key=key, value=value, partition=partition)
        await pending
