"""Whether a change may be notified at all: GDPR Art. 13/14 content and the notice period.

A pure function over the event's model, so that ``notifications/`` stays free
of ``streams/`` and the rule is testable alone. The event models leave the
Art. 13 content optional on purpose: an incomplete campaign parses, and
:func:`check_change` lists *every* missing field in one ``compliance.alert``
instead of the first one only. The two dates are the parser's to check (an
event without them, or without an offset, is a dead letter naming the field):
they arrive here as aware datetimes. The texts are checked here again, blank
or without ``en``, though the parser refuses both: a model built without
validation (``model_construct``, ``model_copy``) could hold them, and an
empty paragraph must never reach a reader.

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
  (``published_at`` and ``starts_at`` / ``effective_at``), which the models
  require: without them the start of processing cannot be told nor the
  notice period checked.
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
- **What an objection changes** (Art. 21, EDPB Opinion 28/2024). Training an AI
  system (``data_use`` ``train_ai_system`` or one of its children) needs
  ``objection_effect``: what happens to the data, and to models already
  trained, when someone objects before the start and after it. Without it a
  reader cannot weigh whether objecting late is still worth it.
- **Words, not codes** (Art. 12(1)). The notice names each data category in
  the reader's words ("your public posts and comments"), from the phrases
  every shipped language has for fideslang's taxonomy (``user.*``): a
  category outside it (``unknown_data_category``) could only be shown as a
  code, so the campaign is not started.
- **Every language of the audience** (Art. 12(1): intelligible to the reader).
  Each operator text the change holds must be written in every language its
  audience's countries need (:func:`notifications.languages.required_languages`);
  a lacking one is ``incomplete_translation``, listing each (field, language).
  Never English in the middle of a Polish notice: the renderer writes a
  notice in one language only, so a campaign it could not write whole in its
  readers' languages is not started.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from notifications.campaign_alerts import AlertBody
from notifications.i18n import known_data_categories
from notifications.languages import OPERATOR_TEXT_FIELDS, language_of, required_languages

if TYPE_CHECKING:  # notifications.events imports OBJECTABLE_BASES from here
    from notifications.events import Controller, PurposeDeclared, TermsPublished

#: Art. 21(1): the bases that carry the right to object (the one definition: the event
#: models of ``notifications.events`` import it).
OBJECTABLE_BASES: frozenset[str] = frozenset({"public_interest", "legitimate_interest"})

#: A text the notice states, as the model holds it: plain, Localized, or absent.
_Text = str | Mapping[str, str] | None

#: The fideslang data use that trains AI systems (its children too: ``train_ai_system.x``).
TRAINING_DATA_USE = "train_ai_system"


@dataclass(frozen=True, slots=True)
class MissingTranslation:
    """An operator text the change holds, but not in a language its audience needs."""

    field: str
    language: str

    def as_json(self) -> dict[str, str]:
        return {"field": self.field, "language": self.language}


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
    missing_translations: tuple[MissingTranslation, ...] = ()
    #: the purpose's data categories that are not fideslang's (no reader could be told them)
    unknown_categories: tuple[str, ...] = ()
    #: the languages the audience needs (what ``missing_translations`` was checked against);
    #: context, not a finding: two verdicts that found the same are equal
    languages: tuple[str, ...] = dataclasses.field(default=(), compare=False)

    @property
    def accepted(self) -> bool:
        """Derived, never stored, so that it cannot disagree with what was found."""
        return (
            not self.missing
            and self.notice_period is None
            and not self.missing_translations
            and not self.unknown_categories
        )

    def alerts(self) -> list[AlertBody]:
        """One ``compliance.alert`` body (without campaign_id and at) per problem found."""
        alerts: list[AlertBody] = []
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
        if self.missing_translations:
            listed = ", ".join(f"{m.field} in {m.language}" for m in self.missing_translations)
            alerts.append(
                {
                    "severity": "critical",
                    "code": "incomplete_translation",
                    "message": "The audience needs the notice in "
                    + ", ".join(self.languages)
                    + "; the operator did not write "
                    + listed
                    + ".",
                    "details": {
                        "missing": [m.as_json() for m in self.missing_translations],
                        "languages": list(self.languages),
                    },
                }
            )
        if self.unknown_categories:
            alerts.append(
                {
                    "severity": "critical",
                    "code": "unknown_data_category",
                    "message": "data_categories: not categories of fideslang's taxonomy, which "
                    "the notice can name in every language: "
                    + ", ".join(self.unknown_categories)
                    + ".",
                    "details": {"unknown": list(self.unknown_categories)},
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


def trains_ai(data_use: str | None) -> bool:
    """Whether a fideslang data use is AI training (``train_ai_system`` or a child of it)."""
    use = data_use or ""
    return use == TRAINING_DATA_USE or use.startswith(TRAINING_DATA_USE + ".")


def check_change(event: PurposeDeclared | TermsPublished, *, min_notice_days: int) -> Verdict:
    """Check a ``purpose.declared`` or ``terms.published`` before its campaign starts.

    ``missing`` lists dotted paths in a stable order, so that a replayed event
    raises the same alert; ``missing_translations`` too (by field, then language).
    """
    if min_notice_days < 0:
        raise ValueError(f"min_notice_days must be >= 0, not {min_notice_days}")
    if event.type == "purpose.declared":
        missing = _missing_texts(
            ("name", event.name),
            ("description", event.description),
            ("legal_basis", event.legal_basis),
            ("data_use", event.data_use),
        )
        if event.legal_basis == "legitimate_interest":
            missing += _missing_texts(("legitimate_interest", event.legitimate_interest))
        categories = event.data_categories
        if not (categories and all(map(_filled, categories))):
            missing.append("data_categories")
        unknown = tuple(
            category
            for category in dict.fromkeys(categories or ())
            if _filled(category) and category not in known_data_categories()
        )
        missing += _missing_texts(
            ("retention", event.retention),
            ("recipients", event.recipients),
            ("policy_url", event.policy_url),
        )
        if trains_ai(event.data_use) or event.objection_effect is not None:
            missing += _missing_texts(("objection_effect", event.objection_effect))
        starts_at = event.starts_at
        objectable = event.legal_basis in OBJECTABLE_BASES
    elif event.type == "terms.published":
        missing = _missing_texts(
            ("title", event.title), ("summary", event.summary), ("url", event.url)
        )
        starts_at = event.effective_at
        objectable = bool(event.purposes_added)
        unknown = ()
    else:
        raise TypeError(f"not a purpose.declared or terms.published: {type(event).__name__}")
    missing += _missing_controller(event.controller)
    languages = required_languages(event.audience.resolved_countries)
    untranslated = missing_translations(event, languages)
    problem = None
    required = min_notice_days if objectable else 0
    gap = starts_at - event.published_at
    if gap < timedelta(days=required):
        problem = NoticePeriodProblem(
            event.published_at, starts_at, gap / timedelta(days=1), required
        )
    return Verdict(tuple(missing), problem, untranslated, unknown, languages)


def missing_translations(
    event: PurposeDeclared | TermsPublished, languages: tuple[str, ...]
) -> tuple[MissingTranslation, ...]:
    """Each operator text ``event`` holds, paired with each of ``languages`` it lacks.

    A text written only for a region (``fr-BE``) counts for its language; a
    blank one counts as not written (and is also reported as missing).
    """
    kind = "purpose" if event.type == "purpose.declared" else "terms"
    lacking: list[MissingTranslation] = []
    for field in OPERATOR_TEXT_FIELDS[kind]:
        value: _Text = getattr(event, field)
        if value is None:
            continue  # absent: incomplete_notice's to report when required
        texts = {"en": value} if isinstance(value, str) else value
        written = {language_of(tag) for tag, text in texts.items() if _filled(text)}
        lacking += [MissingTranslation(field, lang) for lang in languages if lang not in written]
    return tuple(lacking)


def _missing_controller(controller: Controller | None) -> list[str]:
    if controller is None:
        return ["controller"]
    missing = _missing_texts(
        ("name", controller.name),
        ("address", controller.address),
        ("contact_email", controller.contact_email),
        ("dpo_email", controller.dpo_email),
    )
    return [f"controller.{path}" for path in missing]


def _missing_texts(*texts: tuple[str, _Text]) -> list[str]:
    """Paths of ``texts`` that are absent or blank; for a Localized, of its blank texts."""
    missing: list[str] = []
    for name, value in texts:
        if isinstance(value, Mapping) and value:
            localized = {"en": value.get("en"), **value}
            missing += [f"{name}.{lang}" for lang, text in localized.items() if not _filled(text)]
        elif not _filled(value):
            missing.append(name)
    return missing


def _filled(value: object) -> bool:
    return isinstance(value, str) and not value.isspace() and value != ""
