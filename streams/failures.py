"""Third-party errors named as preavis's own: the one place that matches aiokafka's.

aiokafka raises its own hierarchy (``aiokafka.errors.KafkaError``: a
connection refused, a request timed out, a leader not elected yet...), and
the socket layer the builtins ``ConnectionError`` and ``TimeoutError``. The
agents retry all of these (:mod:`streams.guarded_agents`), and the admin
calls that may fail without harm (purges, the retention check, the wait for
leaders) log them and carry on. Rather than each of them matching
third-party types, they ask here:

- :func:`transient` says whether a failure is worth retrying, as the
  :class:`~notifications.errors.TransientError` preavis names it (the
  original is its ``__cause__``, its message unchanged);
- :func:`kafka_errors` wraps a block of aiokafka calls so that what escapes
  it is a :class:`~notifications.errors.TransientKafkaError`;
- :func:`unless_topic_exists` ignores the one aiokafka answer that is not a
  failure: a topic to create exists already.

``streams/runtime/``, which works around aiokafka's internals, is the only
other code that names an aiokafka error (a unit test checks it).

aiosmtplib's errors have their one place too: :class:`notifications.smtp.SmtpPool`
turns every one of them into a classified ``SendResult`` and raises none.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress

from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from notifications.errors import (
    ServiceTimeout,
    ServiceUnavailable,
    TransientError,
    TransientKafkaError,
)

__all__ = ["kafka_errors", "transient", "unless_topic_exists"]


def transient(exc: BaseException) -> TransientError | None:
    """``exc`` as the transient error preavis retries, or None when retrying cannot help.

    A :class:`TransientError` is returned as it is; an aiokafka error, a
    ``TimeoutError`` or a ``ConnectionError`` becomes one with the same
    message and ``exc`` as its cause; anything else (a bug, an invalid
    event) is not transient.
    """
    if isinstance(exc, TransientError):
        return exc
    translated: TransientError
    if isinstance(exc, KafkaError):
        translated = TransientKafkaError(str(exc))
    elif isinstance(exc, TimeoutError):
        translated = ServiceTimeout(str(exc))
    elif isinstance(exc, ConnectionError):
        translated = ServiceUnavailable(str(exc))
    else:
        return None
    translated.__cause__ = exc
    return translated


@contextmanager
def kafka_errors() -> Iterator[None]:
    """Raise any aiokafka error of the block as :class:`TransientKafkaError`, the cause kept."""
    try:
        yield
    except KafkaError as exc:
        raise TransientKafkaError(str(exc)) from exc


def unless_topic_exists() -> AbstractContextManager[None]:
    """Ignore the broker's answer that a topic to create exists (another process made it)."""
    return suppress(TopicAlreadyExistsError)
