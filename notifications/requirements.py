"""Whether a change may be notified at all: GDPR Art. 13/14 content and the notice period.

A pure function over the event as plain data (``event.model_dump()``), so that
``notifications/`` stays free of ``streams/`` and the rule is testable alone.
The event models leave the Art. 13 content optional on purpose: an incomplete
campaign parses, and :func:`check_change` lists *every* missing field in one
``compliance.alert`` instead of the first one only. It does not trust the
parser either (a caller may build the dict by hand): each check is made here.

The rules chosen, and why:

- **Content** (Art. 13(1)-(2)). A purpose needs what the notice email states:
  ``name``, ``description``, ``legal_basis``, ``data_use``,
  ``data_categories`` (a non-empty list), ``retention``, ``recipients``
  (which may say there are none, but must say it), ``policy_url``, the
  ``controller`` with its ``name``, ``address``, ``contact_email`` and
  ``dpo_email``, and ``legitimate_interest`` when that is the basis
  (Art. 13(1)(d)). ``supervisory_authority_url`` is optional: the email always
  states the right to complain; the URL only helps. Terms need ``title``,
  ``summary``, ``url`` and the same controller. Both need their two dates
  (``published_at`` and ``starts_at`` / ``effective_at``): without them the
  start of processing cannot be told nor the notice period checked.
- **Blank is missing.** An empty string, list or Localized says nothing to the
  reader. A Localized (a dict) must hold a non-blank ``en``, the last fallback
  of every locale; any language it holds must be non-blank too, or readers of
  that language would get an empty paragraph. The path reported names the
  text: ``description.en``, ``summary.fr``.
- **Notice period** (Art. 21, EDPB Opinion 28/2024). Where the right to object
  applies, people need time to use it before processing starts: a purpose on
  ``legitimate_interest`` or ``public_interest`` must start at least
  ``min_notice_days`` after publication (exactly that many days is enough).
  Terms are held to the same period when they add purposes
  (``purposes_added``): the notice then carries those purposes' objection
  block, and nothing here says they lack a right to object.
- **Never after the fact** (Art. 13(3)/14(4)). A start *before* publication is
  rejected whatever the basis: the notice must precede the processing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

#: Art. 21(1): the bases that carry the right to object (the one definition: the event
#: models of ``notifications.events`` import it).
OBJECTABLE_BASES: frozenset[str] = frozenset({"public_interest", "legitimate_interest"})

_CONTROLLER_FIELDS = ("name", "address", "contact_email", "dpo_email")
_PURPOSE_TEXTS = ("name", "description", "legal_basis", "data_use")
_PURPOSE_TEXTS_AFTER = ("retention", "recipients", "policy_url")
_TERMS_TEXTS = ("title", "summary", "url")

Kind = Literal["purpose", "terms"]


@dataclass(frozen=True, slots=True)
class NoticePeriodProblem:
    """Processing starts too soon after (or before) the notice is published."""

    published_at: datetime
    starts_at: datetime
    days_given: float
    days_required: int

    def describe(self) -> str:
        if self.days_given < 0:
            return (
                f"Processing starts ({self.starts_at.isoformat()}) before the notice is "
                f"published ({self.published_at.isoformat()}); GDPR Art. 13(3) requires "
                "notice before processing begins."
            )
        # Floor, not round: 29.999 days must not read as the 30 that would have passed.
        given = f"{math.floor(self.days_given * 100) / 100:.2f}".rstrip("0").rstrip(".")
        return (
            f"Processing starts {given} days after the notice is published; the right "
            f"to object (GDPR Art. 21) requires at least {self.days_required} days."
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    """What :func:`check_change` found; a change goes out only when nothing was."""

    missing: tuple[str, ...] = ()
    notice_period: NoticePeriodProblem | None = None

    @property
    def accepted(self) -> bool:
        """Derived, never stored, so that it cannot disagree with what was found."""
        return not self.missing and self.notice_period is None

    def alerts(self) -> list[dict[str, Any]]:
        """One ``compliance.alert`` body (without campaign_id and at) per problem found."""
        alerts: list[dict[str, Any]] = []
        if self.missing:
            alerts.append(
                {
                    "severity": "critical",
                    "code": "incomplete_notice",
                    "message": "The notice lacks fields GDPR Art. 13/14 requires: "
                    + ", ".join(self.missing)
                    + ".",
                    "details": {"missing": list(self.missing)},
                }
            )
        if (problem := self.notice_period) is not None:
            alerts.append(
                {
                    "severity": "critical",
                    "code": "notice_period_too_short",
                    "message": problem.describe(),
                    "details": {
                        "published_at": problem.published_at.isoformat(),
                        "starts_at": problem.starts_at.isoformat(),
                        "days_given": problem.days_given,
                        "days_required": problem.days_required,
                    },
                }
            )
        return alerts


def check_change(event: Mapping[str, Any], *, kind: Kind, min_notice_days: int) -> Verdict:
    """Check a ``purpose.declared`` or ``terms.published`` before its campaign starts.

    ``event`` is the event's ``model_dump()`` (datetimes as datetimes; ISO
    strings are accepted too). ``missing`` lists dotted paths in a stable
    order, so that a replayed event raises the same alert.
    """
    if min_notice_days < 0:
        raise ValueError(f"min_notice_days must be >= 0, not {min_notice_days}")
    missing: list[str] = []
    if kind == "purpose":
        missing += _missing_texts(event, _PURPOSE_TEXTS)
        basis = event.get("legal_basis")
        if basis == "legitimate_interest":
            missing += _missing_texts(event, ("legitimate_interest",))
        categories = event.get("data_categories")
        if not (
            isinstance(categories, list | tuple) and categories and all(map(_filled, categories))
        ):
            missing.append("data_categories")
        missing += _missing_texts(event, _PURPOSE_TEXTS_AFTER)
        start_field = "starts_at"
        objectable = isinstance(basis, str) and basis in OBJECTABLE_BASES
    elif kind == "terms":
        missing += _missing_texts(event, _TERMS_TEXTS)
        start_field = "effective_at"
        objectable = bool(event.get("purposes_added"))
    else:
        raise ValueError(f"kind must be 'purpose' or 'terms', not {kind!r}")
    missing += _missing_controller(event.get("controller"))
    published_at, starts_at = _instant(event.get("published_at")), _instant(event.get(start_field))
    for name, instant in (("published_at", published_at), (start_field, starts_at)):
        if instant is None:
            missing.append(name)
    problem = None
    if published_at is not None and starts_at is not None:
        required = min_notice_days if objectable else 0
        gap = starts_at - published_at
        if gap < timedelta(days=required):
            problem = NoticePeriodProblem(
                published_at, starts_at, gap / timedelta(days=1), required
            )
    return Verdict(tuple(missing), problem)


def _missing_controller(controller: Any) -> list[str]:
    if not isinstance(controller, Mapping) or not controller:
        return ["controller"]
    return [f"controller.{path}" for path in _missing_texts(controller, _CONTROLLER_FIELDS)]


def _missing_texts(data: Mapping[str, Any], fields: tuple[str, ...]) -> list[str]:
    """Paths of ``fields`` that are absent or blank; for a Localized, of its blank texts."""
    missing: list[str] = []
    for name in fields:
        value = data.get(name)
        if isinstance(value, Mapping) and value:
            texts = {"en": value.get("en"), **value}
            missing += [f"{name}.{lang}" for lang, text in texts.items() if not _filled(text)]
        elif not _filled(value):
            missing.append(name)
    return missing


def _filled(value: Any) -> bool:
    return isinstance(value, str) and not value.isspace() and value != ""


def _instant(value: Any) -> datetime | None:
    """An aware datetime (or its ISO string, for a ``mode="json"`` dump); else ``None``."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime) or value.utcoffset() is None:
        return None
    return value
