"""The errors preavis raises on purpose: one root, subclasses that are builtins too.

Following aiosmtplib and httpx, every error is a :class:`PreavisError`, so a
caller can catch all of ours at once, and also the builtin it resembles
(``except ValueError`` keeps working). The cause stays on ``__cause__``.
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
