"""Create the contract's topics before anything writes to them.

A producer writing to a missing topic would let the broker auto-create it with
the broker's default partition count, and a topic whose partition count differs
from ``PREAVIS_TOPIC_PARTITIONS`` silently breaks co-partitioning (a user's
objection would be processed on another worker than the user's record). So the
worker and every publishing tool call :func:`ensure_topics` first, and a
mismatch is an error that says which topic and what to do.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from notifications.errors import PreavisError
from streams import kafka
from streams.settings import Settings
from streams.topics import TOPIC_SPECS, TopicSpec


class TopicLayoutError(PreavisError, RuntimeError):
    """An existing topic does not have the partition count preavis needs."""


async def ensure_topics(settings: Settings, specs: Iterable[TopicSpec] = TOPIC_SPECS) -> list[str]:
    """Create the missing topics; return the names created.

    Raises :class:`TopicLayoutError` when an existing topic has another
    partition count than configured.
    """
    wanted = list(specs)
    admin = kafka.admin(settings)
    await admin.start()
    try:
        # list first: a metadata request naming a missing topic can make a
        # broker with auto.create.topics.enable create it with its own default
        # partition count, which is exactly what this step exists to prevent
        present = set(await admin.list_topics())
        missing = [s for s in wanted if s.name not in present]
        if missing:
            # another process may create one between list and create
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [
                        NewTopic(
                            name=s.name,
                            num_partitions=settings.topic_partitions,
                            replication_factor=settings.topic_replication,
                            topic_configs=s.config(settings),
                        )
                        for s in missing
                    ]
                )
        counts = await _wait_until_visible(admin, [s.name for s in wanted])
        _check_layout(counts, settings.topic_partitions)
        return [s.name for s in missing]
    finally:
        await admin.close()


def _partition_counts(described: list[dict[str, object]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for topic in described:
        if topic.get("error_code", 0) != 0:
            continue  # UNKNOWN_TOPIC_OR_PARTITION: not created yet
        partitions = topic.get("partitions")
        if isinstance(partitions, list):
            counts[str(topic["topic"])] = len(partitions)
    return counts


def _check_layout(existing: dict[str, int], partitions: int) -> None:
    wrong = {name: n for name, n in existing.items() if n != partitions}
    if wrong:
        listed = ", ".join(f"{name} has {n}" for name, n in sorted(wrong.items()))
        raise TopicLayoutError(
            f"PREAVIS_TOPIC_PARTITIONS is {partitions} but {listed}: keyed topics must be "
            "co-partitioned; set PREAVIS_TOPIC_PARTITIONS to match or recreate the topics"
        )


async def _wait_until_visible(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    """Topic creation is asynchronous on the broker; wait until metadata shows every topic."""
    counts: dict[str, int] = {}
    for _ in range(100):
        counts = _partition_counts(await admin.describe_topics(names))
        if set(names) <= set(counts):
            break
        await asyncio.sleep(0.1)
    return counts
