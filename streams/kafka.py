"""The one place where preavis's Kafka clients are made, secured as the settings say.

Why one factory: a production cluster asks every connection for TLS and a
SASL login. A client built by hand with only ``bootstrap_servers`` would
connect in clear (or not at all) while the rest of preavis is secured, so
every producer, consumer and admin client of preavis comes from here, and
Faust's own clients get the same credentials through ``broker_credentials``
(:func:`faust_credentials`). A unit test fails when an aiokafka client is
constructed anywhere else in ``streams/`` or ``bench/``.

The settings are checked when a client is made (the worker makes its Faust
credentials at start-up), and a mistake is reported with the variable that
holds it, e.g. ``PREAVIS_KAFKA_SASL_PASSWORD is not set: ...``. The password
leaves its ``SecretStr`` only in this module, and only towards aiokafka.

It also holds the one way preavis reads a topic to its end
(:func:`read_from_start`, :func:`read_to_end`): the end offsets are taken
when the read starts, every partition is read from its first offset up to its
own end (records appended meanwhile are left for the next read), a read that
makes no progress for ``stall_seconds`` fails with :class:`ReadStalled`
instead of hanging, and tombstones (``value is None``) are handed to the
caller like any record. With ``follow=True`` the read goes on past the end
and never stops: how the purpose catalog, the campaign follower and the exclusion list
keep up with their topics.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.helpers import create_ssl_context

from notifications.errors import KafkaSettingError, ReadStalled
from streams.settings import Settings

if TYPE_CHECKING:
    import faust

__all__ = [
    "Fetch",
    "KafkaSettingError",
    "ReadStalled",
    "admin",
    "client_kwargs",
    "consumer",
    "faust_credentials",
    "producer",
    "read_from_start",
    "read_to_end",
    "security_kwargs",
    "ssl_context",
]

log = logging.getLogger(__name__)

_TLS = frozenset({"SSL", "SASL_SSL"})
_SASL = frozenset({"SASL_PLAINTEXT", "SASL_SSL"})
_PROTOCOL = "PREAVIS_KAFKA_SECURITY_PROTOCOL"
#: the keyword arguments this module sets; a caller may not override them
_OWNED = frozenset(
    {
        "bootstrap_servers",
        "security_protocol",
        "sasl_mechanism",
        "sasl_plain_username",
        "sasl_plain_password",
        "ssl_context",
    }
)


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """The TLS context of ``SSL`` and ``SASL_SSL`` (None otherwise).

    The broker's certificate is verified (against ``PREAVIS_KAFKA_SSL_CAFILE``,
    or the system's trust store without one) and so is its host name; a client
    certificate is presented when ``_CERTFILE`` is set.
    """
    _check(settings)
    if settings.kafka_security_protocol not in _TLS:
        return None
    try:
        context: ssl.SSLContext = create_ssl_context(cafile=settings.kafka_ssl_cafile)
    except ssl.SSLError as exc:
        raise KafkaSettingError("PREAVIS_KAFKA_SSL_CAFILE", f"could not be loaded: {exc}") from exc
    if settings.kafka_ssl_certfile:
        try:
            context.load_cert_chain(settings.kafka_ssl_certfile, settings.kafka_ssl_keyfile)
        except ssl.SSLError as exc:
            raise KafkaSettingError(
                "PREAVIS_KAFKA_SSL_CERTFILE",
                f"(with PREAVIS_KAFKA_SSL_KEYFILE) could not be loaded: {exc}",
            ) from exc
    return context


def security_kwargs(settings: Settings) -> dict[str, Any]:
    """The aiokafka keyword arguments that secure a connection (no bootstrap)."""
    _check(settings)
    protocol = settings.kafka_security_protocol
    kwargs: dict[str, Any] = {"security_protocol": protocol}
    if protocol in _TLS:
        kwargs["ssl_context"] = ssl_context(settings)
    if protocol in _SASL:
        assert settings.kafka_sasl_password is not None  # _check
        kwargs["sasl_mechanism"] = settings.kafka_sasl_mechanism
        kwargs["sasl_plain_username"] = settings.kafka_sasl_username
        kwargs["sasl_plain_password"] = settings.kafka_sasl_password.get_secret_value()
    return kwargs


def client_kwargs(settings: Settings) -> dict[str, Any]:
    """Bootstrap servers and security: what every aiokafka client of preavis is given."""
    return {"bootstrap_servers": settings.bootstrap_servers, **security_kwargs(settings)}


def consumer(settings: Settings, *topics: str, **kwargs: Any) -> AIOKafkaConsumer:
    """An ``AIOKafkaConsumer`` for the configured cluster; ``kwargs`` tune it."""
    return AIOKafkaConsumer(*topics, **_merge(settings, kwargs))


def producer(settings: Settings, **kwargs: Any) -> AIOKafkaProducer:
    """An ``AIOKafkaProducer`` for the configured cluster; ``kwargs`` tune it."""
    return AIOKafkaProducer(**_merge(settings, kwargs))


def admin(settings: Settings, **kwargs: Any) -> AIOKafkaAdminClient:
    """An ``AIOKafkaAdminClient`` for the configured cluster; ``kwargs`` tune it."""
    return AIOKafkaAdminClient(**_merge(settings, kwargs))


#: seconds a read to the end may go without progress before it fails
READ_STALL_SECONDS = 30.0


@dataclass(frozen=True)
class Fetch:
    """One poll of a read: the records by partition, in offset order.

    ``caught_up`` is True from the poll on which every partition has reached
    the end offset taken when the read started (on that poll ``records`` may
    be empty); ``positions`` are the next offsets to read, after ``records``.
    """

    records: dict[TopicPartition, list[Any]]
    positions: dict[TopicPartition, int]
    caught_up: bool


async def read_from_start(
    consumer: AIOKafkaConsumer,
    partitions: Sequence[TopicPartition],
    *,
    follow: bool = False,
    stall_seconds: float = READ_STALL_SECONDS,
    poll_ms: int = 1000,
) -> AsyncIterator[Fetch]:
    """Read ``partitions`` with the started ``consumer``, from their first offset.

    Without ``follow``, stops once every partition has reached the end offset
    taken at the start; records at or past it are not yielded. With
    ``follow``, reads on forever, every record, and each poll is yielded
    (empty ones too); a partition that makes no progress towards its end is
    logged every ``stall_seconds`` instead of failing the read.
    """
    tps = list(partitions)
    if not tps:
        if follow:
            raise ValueError("nothing to follow: no partitions")
        return
    consumer.assign(tps)
    await consumer.seek_to_beginning(*tps)
    ends: dict[TopicPartition, int] = await consumer.end_offsets(tps)
    pending = {tp for tp in tps if ends[tp] > 0}
    positions = {tp: 0 for tp in tps}
    if not pending:
        yield Fetch({}, positions, caught_up=True)
        if not follow:
            return
    last_progress = time.monotonic()
    while True:
        # following, every record counts; reading to the end, only those below it
        reading = set(tps) if follow else pending
        batch = await consumer.getmany(*reading, timeout_ms=poll_ms)
        records: dict[TopicPartition, list[Any]] = {}
        for tp, fetched in batch.items():
            kept = fetched if follow else [r for r in fetched if r.offset < ends[tp]]
            if kept:
                records[tp] = kept
            if fetched:
                last_progress = time.monotonic()
        for tp in tps:
            positions[tp] = await consumer.position(tp)
        was_pending = bool(pending)
        for tp in list(pending):
            if positions[tp] >= ends[tp]:
                pending.discard(tp)
                last_progress = time.monotonic()
        if was_pending or follow:
            yield Fetch(records, dict(positions), caught_up=not pending)
        if not pending and not follow:
            return
        if pending and time.monotonic() - last_progress > stall_seconds:
            stuck = ", ".join(sorted(f"{tp.topic}/{tp.partition}" for tp in pending))
            if not follow:
                raise ReadStalled(f"could not read {stuck} up to its end offset")
            # a follower has no one to fail to: it says so and keeps trying
            log.warning("still reading %s up to its end offset", stuck)
            last_progress = time.monotonic()


async def read_to_end(
    settings: Settings,
    partitions: Sequence[TopicPartition],
    *,
    follow: bool = False,
    stall_seconds: float = READ_STALL_SECONDS,
) -> AsyncIterator[Fetch]:
    """:func:`read_from_start` with a consumer of its own: no group, nothing
    committed, only committed records (``read_committed``: an aborted
    transaction is not a fact)."""
    reader = consumer(
        settings, group_id=None, enable_auto_commit=False, isolation_level="read_committed"
    )
    await reader.start()
    try:
        async for fetch in read_from_start(
            reader, partitions, follow=follow, stall_seconds=stall_seconds
        ):
            yield fetch
    finally:
        with contextlib.suppress(Exception):  # the read's own error, if any, is the news
            await reader.stop()


def faust_credentials(settings: Settings) -> faust.SASLCredentials | faust.SSLCredentials | None:
    """Faust's ``broker_credentials``: how its producer, consumer and topic creation log in.

    Faust 0.15 turns these into the same aiokafka arguments as
    :func:`security_kwargs` (``credentials_to_aiokafka_auth``) for its worker
    consumer, its producer and the producer's client that creates topics.
    ``SASLCredentials`` means SASL_SSL when it carries a TLS context and
    SASL_PLAINTEXT when not; None keeps Faust's PLAINTEXT.
    """
    import faust  # here: the command-line tools that only publish need no Faust

    protocol = settings.kafka_security_protocol
    context = ssl_context(settings)
    if protocol in _SASL:
        assert settings.kafka_sasl_password is not None  # _check
        return faust.SASLCredentials(
            username=settings.kafka_sasl_username,
            password=settings.kafka_sasl_password.get_secret_value(),
            mechanism=settings.kafka_sasl_mechanism,
            ssl_context=context,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


def _merge(settings: Settings, kwargs: dict[str, Any]) -> dict[str, Any]:
    clash = sorted(_OWNED & kwargs.keys())
    if clash:
        raise TypeError(f"streams.kafka sets {', '.join(clash)} from the settings")
    return {**client_kwargs(settings), **kwargs}


def _check(settings: Settings) -> None:
    """Refuse settings that would connect differently from what the operator meant."""
    protocol = settings.kafka_security_protocol
    sasl = {
        "PREAVIS_KAFKA_SASL_MECHANISM": settings.kafka_sasl_mechanism,
        "PREAVIS_KAFKA_SASL_USERNAME": settings.kafka_sasl_username,
        "PREAVIS_KAFKA_SASL_PASSWORD": (
            settings.kafka_sasl_password.get_secret_value()
            if settings.kafka_sasl_password
            else None
        ),
    }
    files = {
        "PREAVIS_KAFKA_SSL_CAFILE": settings.kafka_ssl_cafile,
        "PREAVIS_KAFKA_SSL_CERTFILE": settings.kafka_ssl_certfile,
        "PREAVIS_KAFKA_SSL_KEYFILE": settings.kafka_ssl_keyfile,
    }
    for variable, value in sasl.items():
        if protocol in _SASL and not value:
            raise KafkaSettingError(variable, f"is not set: {_PROTOCOL}={protocol} needs it")
        if protocol not in _SASL and value:
            raise KafkaSettingError(
                variable,
                f"is set but {_PROTOCOL}={protocol} sends no SASL login "
                "(use SASL_SSL or SASL_PLAINTEXT, or unset it)",
            )
    for variable, path in files.items():
        if path is None:
            continue
        if protocol not in _TLS:
            raise KafkaSettingError(
                variable,
                f"is set but {_PROTOCOL}={protocol} does not use TLS "
                "(use SSL or SASL_SSL, or unset it)",
            )
        if not Path(path).is_file():
            raise KafkaSettingError(variable, f"names {path!r}, which is not a readable file")
    if settings.kafka_ssl_keyfile and not settings.kafka_ssl_certfile:
        raise KafkaSettingError(
            "PREAVIS_KAFKA_SSL_CERTFILE",
            "is not set: PREAVIS_KAFKA_SSL_KEYFILE is the key of a client certificate",
        )
