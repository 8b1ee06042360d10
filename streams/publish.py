"""The operator's and the platform's publishing tools.

``preavis publish purpose|terms FILE`` and ``preavis import-users FILE`` check
every record with the same models the workers use, so that what the tools
accept the workers accept too. An invalid record is never published; the
report names its line and field and says what happened to the valid ones.

Import is batched: records are grouped per partition (the Java client's murmur2
partitioner, so keys land where any other Kafka client would put them) into
aiokafka batches, which is what makes a million users take seconds rather than
minutes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import murmur2

from notifications import topic_names as names
from notifications.errors import InvalidEvent
from notifications.events import (
    PurposeDeclared,
    TermsPublished,
    UserErased,
    UserUpserted,
    decode,
    encode,
)
from notifications.preview import problems
from streams import kafka
from streams.admin import ensure_topics
from streams.settings import Settings

#: Errors listed in a report before the rest are only counted.
MAX_LISTED_ERRORS = 20


@dataclass
class PublishReport:
    """What a publishing tool did: counts, and the first errors by line."""

    topic: str
    published: int = 0
    invalid: int = 0
    errors: list[str] = field(default_factory=list)
    #: what was published anyway (``--force``)
    warnings: list[str] = field(default_factory=list)

    def refuse(self, where: str, error: InvalidEvent | str) -> None:
        self.invalid += 1
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append(f"{where}: {error}")

    def summary(self) -> str:
        lines = [*self.warnings, *self.errors]
        if self.invalid > len(self.errors):
            lines.append(f"... and {self.invalid - len(self.errors)} more invalid records")
        verdict = f"published {self.published} record(s) to {self.topic}"
        if self.invalid:
            verdict += f"; refused {self.invalid} invalid record(s), none of them published"
        lines.append(verdict)
        return "\n".join(lines)


DOCUMENT_KINDS: dict[str, tuple[str, type[Any]]] = {
    "purpose": (names.TOPIC_PURPOSES, PurposeDeclared),
    "terms": (names.TOPIC_TERMS, TermsPublished),
}


def _document_key(event: PurposeDeclared | TermsPublished) -> str:
    return event.purpose_id if isinstance(event, PurposeDeclared) else event.document_id


def parse_document(kind: str, path: Path) -> PurposeDeclared | TermsPublished | InvalidEvent:
    """One purpose or terms file as the workers' parser reads it, or the error."""
    topic, expected = DOCUMENT_KINDS[kind]
    try:
        event = decode(topic, None, path.read_bytes())
    except InvalidEvent as exc:
        return exc
    if not isinstance(event, expected):
        return InvalidEvent("type", f"a {kind} file must hold a {expected.__name__} event")
    assert isinstance(event, PurposeDeclared | TermsPublished)
    return event


def read_document(kind: str, path: Path) -> tuple[bytes, bytes] | InvalidEvent:
    """Validate one purpose or terms file; return (key, value) or the error."""
    event = parse_document(kind, path)
    if isinstance(event, InvalidEvent):
        return event
    return _document_key(event).encode(), encode(event)


async def publish_document(
    settings: Settings, kind: str, path: Path, *, force: bool = False
) -> PublishReport:
    """Publish one purpose or terms file, if it is valid and the campaign agent would accept it.

    What the agent would reject (``notifications.preview.problems``: missing
    Art. 13 content, a missing language, a short notice period) is refused,
    each problem named with its field; ``force`` publishes it anyway (a
    correction the operator intends), the problems still reported.
    """
    topic = DOCUMENT_KINDS[kind][0]
    report = PublishReport(topic)
    event = parse_document(kind, path)
    if isinstance(event, InvalidEvent):
        report.refuse(str(path), event)
        return report
    found = problems(event, min_notice_days=settings.min_notice_days)
    if found and not force:
        for problem in found:
            report.errors.append(f"{path}: {problem}")
        report.invalid = 1
        report.errors.append(
            f"{path}: the campaign agent would reject it; `preavis check {kind} {path}` "
            "shows previews, --force publishes anyway"
        )
        return report
    report.warnings = [f"{path}: published with --force: {problem}" for problem in found]
    checked = _document_key(event).encode(), encode(event)
    await ensure_topics(settings)
    producer = _producer(settings)
    await producer.start()
    try:
        key, value = checked
        await producer.send_and_wait(topic, value=value, key=key)
        report.published = 1
    finally:
        await producer.stop()
    return report


def read_user_lines(path: Path) -> Iterator[tuple[int, bytes, bytes] | tuple[int, InvalidEvent]]:
    """Yield (line number, key, value) for each valid line, (line number, error) otherwise."""
    with path.open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            stripped = line.strip()
            if not stripped:
                continue
            try:
                event = decode(names.TOPIC_USERS, None, stripped)
            except InvalidEvent as exc:
                yield number, exc
                continue
            assert isinstance(event, UserUpserted | UserErased)
            yield number, event.user_id.encode(), encode(event)


async def import_users(
    settings: Settings, path: Path, topic: str = names.TOPIC_USERS
) -> PublishReport:
    """Publish every valid line of a JSON-lines file to ``users`` (or ``topic``), in batches."""
    report = PublishReport(topic)
    await ensure_topics(settings)
    producer = _producer(settings)
    await producer.start()
    try:
        sender = _PartitionBatcher(producer, topic, settings.topic_partitions)
        for item in read_user_lines(path):
            if len(item) == 2:
                report.refuse(f"line {item[0]}", item[1])
                continue
            _, key, value = item
            await sender.add(key, value)
        report.published = await sender.flush()
    finally:
        await producer.stop()
    return report


def partition_for(key: bytes, partitions: int) -> int:
    """The partition the Java client's default partitioner gives ``key``."""
    return int(murmur2(key) & 0x7FFFFFFF) % partitions


class _PartitionBatcher:
    """Accumulate records per partition and send full batches without waiting on each."""

    def __init__(self, producer: AIOKafkaProducer, topic: str, partitions: int) -> None:
        self._producer = producer
        self._topic = topic
        self._partitions = partitions
        self._batches: dict[int, Any] = {}
        self._pending: list[Any] = []
        self._counts: list[int] = []
        self._sizes: dict[int, int] = {}

    async def add(self, key: bytes, value: bytes) -> None:
        partition = partition_for(key, self._partitions)
        batch = self._batches.get(partition)
        if batch is None:
            batch = self._batches[partition] = self._producer.create_batch()
            self._sizes[partition] = 0
        if batch.append(key=key, value=value, timestamp=None) is None:
            await self._send(partition)
            batch = self._batches[partition] = self._producer.create_batch()
            self._sizes[partition] = 0
            if batch.append(key=key, value=value, timestamp=None) is None:
                raise InvalidEvent("<root>", f"a record of {len(value)} bytes is too large")
        self._sizes[partition] += 1

    async def _send(self, partition: int) -> None:
        batch = self._batches.pop(partition)
        batch.close()
        future = await self._producer.send_batch(batch, self._topic, partition=partition)
        self._pending.append(future)
        self._counts.append(self._sizes.pop(partition))
        if len(self._pending) >= 64:
            await self._settle()

    async def _settle(self) -> None:
        for future in self._pending:
            await future  # raises if the broker refused the batch
        self._pending.clear()

    async def flush(self) -> int:
        for partition in list(self._batches):
            await self._send(partition)
        await self._settle()
        return sum(self._counts)


def _producer(settings: Settings) -> AIOKafkaProducer:
    return kafka.producer(
        settings,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=512 * 1024,
    )
