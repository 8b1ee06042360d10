"""In-memory stand-ins for the ports of :mod:`streams.ports`, for handler unit tests.

They record what a handler wrote, in order, and whether it waited for the
broker (``send_acked``/``put_acked``) or only queued (``send``/item
assignment): the durability order of a flow is part of what its tests assert.
What the handlers decide is tested here without a broker; what Kafka does
(partitioning, commits, rebalances) stays with the integration tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

V = TypeVar("V")


@dataclass(frozen=True)
class Sent:
    """One record a handler wrote to a topic."""

    key: bytes | None
    value: bytes | None
    partition: int | None
    acked: bool


@dataclass
class RecordingTopic:
    """A topic that keeps every record sent to it."""

    topic_name: str = "test-topic"
    sent: list[Sent] = field(default_factory=list)
    #: raised by the next send (then cleared): a broker that refuses a write
    fail_next: BaseException | None = None

    @property
    def name(self) -> str:
        return self.topic_name

    def _take(
        self, key: bytes | None, value: bytes | None, partition: int | None, acked: bool
    ) -> None:
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        self.sent.append(Sent(key, value, partition, acked))

    async def send(
        self, *, key: bytes | None, value: bytes | None, partition: int | None = None
    ) -> None:
        self._take(key, value, partition, acked=False)

    async def send_acked(
        self, *, key: bytes | None, value: bytes | None, partition: int | None = None
    ) -> None:
        self._take(key, value, partition, acked=True)

    @property
    def values(self) -> list[bytes | None]:
        return [record.value for record in self.sent]


class MemoryTable(Generic[V]):
    """A table in a dict; ``durable`` lists the keys written with ``put_acked``, in order."""

    def __init__(self, initial: dict[str, V] | None = None) -> None:
        self.data: dict[str, V] = dict(initial or {})
        self.durable: list[tuple[int, str]] = []

    def get(self, key: str) -> V | None:
        return self.data.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self.data

    def __setitem__(self, key: str, value: V) -> None:
        self.data[key] = value

    def __delitem__(self, key: str) -> None:
        del self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def items(self) -> Iterable[tuple[str, V]]:
        return list(self.data.items())

    async def put_acked(self, partition: int, key: str, value: V) -> None:
        self.data[key] = value
        self.durable.append((partition, key))
