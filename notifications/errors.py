"""The errors preavis raises on purpose: one root, in this one module, subclasses
that are builtins too.

Following aiosmtplib and httpx, every error is a :class:`PreavisError`, so a
caller can catch all of ours at once, and also the builtin it resembles
(``except ValueError`` keeps working). The cause stays on ``__cause__``.

Every error class of ``streams/`` and ``notifications/`` is defined here (a
unit test checks it); the modules that raise them import them from here, and
the ones that had them before still export them under the same name.

**Transient errors** are the failures whose cause lies outside the event (the
broker or a downstream service briefly away): the agents' guarded loop
(:mod:`streams.guarded_agents`) retries them with backoff instead of
dead-lettering the event. They are preavis's own, :class:`TransientError`
and its subclasses; third-party errors are translated into them in one place,
:mod:`streams.failures`, never matched elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError

ROOT = "<root>"
"""The ``field`` of an error about the whole value (not JSON, not an object...)."""


class PreavisError(Exception):
    """Root of every error preavis raises on purpose."""


class InvalidEvent(PreavisError, ValueError):
    """An event that does not follow the contract; it goes to the dead letter topic.

    ``field`` is a dotted path (``audience.countries[0]``), ``"type"``, or
    ``"<root>"`` for the value as a whole; ``reason`` says what is wrong.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(field, reason)
        self.field = field
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"

    @classmethod
    def from_validation_error(cls, exc: ValidationError, *, tagged: bool = False) -> InvalidEvent:
        """Name the first failing field of ``exc`` (and count the others).

        With ``tagged``, the errors come from a union discriminated on
        ``type``, whose locations start with the tag: it is dropped, so that
        the path reads from the event's own fields.
        """
        errors = exc.errors(include_url=False)
        first = errors[0]
        loc = first["loc"][1:] if tagged and first["loc"] else first["loc"]
        # A discriminated union reports a missing or unknown tag at the root.
        if first["type"] == "union_tag_not_found":
            field, reason = "type", "is missing: every event names its type"
        elif first["type"] == "union_tag_invalid":
            ctx = first.get("ctx") or {}
            field = "type"
            reason = f"unknown event type {ctx.get('tag')!r} (expected {ctx.get('expected_tags')})"
        else:
            field, reason = dotted_path(loc), first["msg"]
        if len(errors) > 1:
            others = len(errors) - 1
            reason += f" (and {others} other error{'s' if others > 1 else ''})"
        error = cls(field, reason)
        error.__cause__ = exc
        return error


def dotted_path(loc: Sequence[int | str]) -> str:
    """``("audience", "countries", 0)`` -> ``"audience.countries[0]"``; ``()`` -> ``"<root>"``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part == "[key]":
            path += part
        else:
            path += f".{part}" if path else part
    return path or ROOT


# -- transient: retried by the agents (streams.guarded_agents) ----------------


class TransientError(PreavisError):
    """A failure whose cause is outside the event: the same work may succeed later."""


class TransientKafkaError(TransientError, ConnectionError):
    """Kafka did not answer, or not yet: aiokafka's error is the ``__cause__``.

    Every aiokafka error counts as transient (a leader being elected, a
    request timing out, the broker restarting), as it always has in preavis;
    :func:`streams.failures.transient` makes one, with the same message.
    """


class ServiceUnavailable(TransientError, ConnectionError):
    """A connection to the broker or a downstream service was refused or dropped."""


class ServiceTimeout(TransientError, TimeoutError):
    """The broker or a downstream service did not answer in time."""


# -- Kafka --------------------------------------------------------------------


class KafkaSettingError(PreavisError, ValueError):
    """The Kafka security settings are incomplete or contradict each other.

    ``variable`` names the environment variable to fix.
    """

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(f"{variable} {message}")
        self.variable = variable


class KafkaRequestError(PreavisError, RuntimeError):
    """The broker answered a request with an error code (an ACL refusal, say)."""


class ReadStalled(PreavisError):
    """A read to the end made no progress: the partitions named could not be read."""


class TopicLayoutError(PreavisError, RuntimeError):
    """An existing topic does not have the partition count preavis needs."""


# -- settings -----------------------------------------------------------------


class MissingSetting(PreavisError, RuntimeError):
    """A setting that this entry point cannot do without is unset."""

    def __init__(self, variable: str, why: str) -> None:
        super().__init__(f"{variable} is not set: it {why}")
        self.variable = variable


# -- links, mail, audit -------------------------------------------------------


class InvalidToken(PreavisError, ValueError):
    """A token that is forged, tampered with, malformed, of another key or version."""


class WeakSecret(PreavisError, ValueError):
    """A signing secret shorter than 16 bytes."""


class HeaderInjection(PreavisError, ValueError):
    """A header input holding CR, LF or NUL, or not of the form its header needs."""


class InvalidAddress(HeaderInjection):
    """An address that is not one bare addr-spec (``user@example.org``)."""


class SignatureError(PreavisError, ValueError):
    """A key or a signature file that cannot be used (not the verdict on a file)."""


class UnknownCampaign(PreavisError, LookupError):
    """Nothing on the topics belongs to this campaign id."""


# -- development tools (streams/local/, never imported by the worker) ---------


class LocalBrokerError(PreavisError, RuntimeError):
    """The local broker cannot be fetched, started, stopped or reached; the message says why."""


class SaslSetupError(PreavisError, RuntimeError):
    """The certificates or the SCRAM users of the SASL_SSL listener could not be made."""
