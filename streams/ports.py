"""What a handler needs of a table or a topic, as typed protocols.

Handlers (``streams/<domain>/handlers.py``) take their tables and topics as
these ports, never the Faust app: the worker passes Faust's objects wrapped by
:mod:`streams.runtime.faust_ports`, a unit test passes the in-memory fakes of
``tests/support/fakes.py``. A flow can then be tested without a broker, and
what a handler touches is visible in its signature.

Values are the tables' JSON values (typed per table with the ``TypedDict`` of
``notifications``); keys are strings, as every preavis table keys by an id.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

V = TypeVar("V")


class Table(Protocol[V]):
    """A key-value table of the worker's partitions (a Faust table, or a fake)."""

    def get(self, key: str) -> V | None: ...

    def __contains__(self, key: object) -> bool: ...

    def __setitem__(self, key: str, value: V) -> None: ...

    def __delitem__(self, key: str) -> None: ...

    def items(self) -> Iterable[tuple[str, V]]: ...

    async def put_acked(self, partition: int, key: str, value: V) -> None:
        """``table[key] = value``, returning once its changelog record is stored."""
        ...


class Topic(Protocol):
    """A topic a handler writes to."""

    @property
    def name(self) -> str: ...

    async def send(
        self, *, key: bytes | None, value: bytes | None, partition: int | None = None
    ) -> None:
        """Queue a record (the producer sends it; not yet stored by the broker)."""
        ...

    async def send_acked(
        self, *, key: bytes | None, value: bytes | None, partition: int | None = None
    ) -> None:
        """Send a record and return once the broker has stored it."""
        ...


__all__ = ["Iterable", "Table", "Topic"]
