"""The events of CONTRACT.md ("Events") as pydantic v2 models, one TypeAdapter per topic.

This module is the only schema source: Faust moves raw bytes, :func:`decode`
turns them into a model or raises :class:`InvalidEvent` (which the agents
send to ``preavis.deadletter`` with its reason), and :func:`encode` is the
only way back to bytes. The JSON Schema committed in ``streams/schemas/`` is
generated from :data:`ADAPTERS` (``python -m streams.schemas``).

What is a parse error, and what is not. A value that cannot be understood is
an :class:`InvalidEvent`: not JSON, an unknown ``type``, a wrong type, a
``schema_version`` other than 1, a country outside ISO 3166, a time without
an offset, a :data:`Localized` without ``en``, a missing id (``user_id``,
``purpose_id``, ``version``, ``document_id``) or a missing date the
campaign rules need (``published_at``, ``starts_at``, ``effective_at``).
The *content* GDPR Art. 13/14 requires of a notice (``name``,
``description``, ``legal_basis``, ``legitimate_interest``,
``data_categories``, ``retention``, ``recipients``, ``policy_url``, the
``controller`` and each of its contacts; for terms ``title``, ``summary``,
``url``, ``controller``) is optional here, ``None`` when absent, so that an
incomplete campaign parses and is rejected by ``notifications.requirements``
with one compliance alert listing every missing field, instead of vanishing
into the dead letter topic with only the first. For the same reason
"``legitimate_interest`` is required when the basis is legitimate interest"
is checked there, not here.

Unknown fields are ignored ("Fields may be added"); unknown types are not.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError

from notifications import topic_names as topics
from notifications.countries import expand_countries
from notifications.errors import ROOT, InvalidEvent
from notifications.event_types import (
    AudienceCountry,
    Country,
    DottedKey,
    EmailAddress,
    ExclusionReason,
    Identifier,
    LanguageTag,
    Localized,
    LocalizedText,
    ObjectionChannel,
    Slug,
    Text,
    Timestamp,
    WebUrl,
)
from notifications.event_types import (
    DocumentVersion as VersionLabel,
)
from notifications.objections import REASON_MAX_CHARS
from notifications.requirements import OBJECTABLE_BASES

LegalBasis = Literal[
    "consent",
    "contract",
    "legal_obligation",
    "vital_interests",
    "public_interest",
    "legitimate_interest",
]

Severity = Literal["info", "warning", "critical"]


def _require_type(schema: dict[str, Any]) -> None:
    """``type`` has a default for producers in Python, but every value on the wire has one."""
    schema["required"] = ["type", *schema.get("required", [])]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class _Event(_Model):
    model_config = ConfigDict(json_schema_extra=_require_type)

    schema_version: Literal[1] = 1


class Controller(_Model):
    """Who is responsible, and how to reach them and their DPO (Art. 13(1)(a)-(b))."""

    name: Text | None = None
    address: Text | None = None
    contact_email: EmailAddress | None = None
    dpo_email: EmailAddress | None = None
    supervisory_authority_url: WebUrl | None = None


class Audience(_Model):
    """Who a change concerns; an empty or absent criterion matches everyone."""

    countries: list[AudienceCountry] | None = None
    min_age: int | None = Field(default=None, ge=0, le=150)
    account_types: list[Identifier] | None = None
    data_categories: list[DottedKey] | None = None

    @property
    def resolved_countries(self) -> frozenset[str] | None:
        """The ISO codes of the audience, ``EEA`` expanded; ``None`` means every country."""
        return expand_countries(self.countries) if self.countries else None


class PurposeDeclared(_Event):
    """A new or changed processing purpose, e.g. training an AI system."""

    type: Literal["purpose.declared"] = "purpose.declared"
    purpose_id: Slug
    version: int = Field(ge=1)
    name: LocalizedText | None = None
    description: Localized | None = None
    data_use: DottedKey | None = None
    legal_basis: LegalBasis | None = None
    legitimate_interest: Localized | None = None
    data_categories: list[DottedKey] | None = None
    retention: LocalizedText | None = None
    recipients: Localized | None = None
    transfers: Localized | None = None
    audience: Audience = Field(default_factory=Audience)
    starts_at: Timestamp
    published_at: Timestamp
    policy_url: WebUrl | None = None
    controller: Controller | None = None
    # What an objection does before and after starts_at (required for train_ai_system:
    # notifications.requirements says so, with the other Art. 13 content).
    objection_effect: Localized | None = None

    @property
    def campaign_id(self) -> str:
        return f"purpose:{self.purpose_id}:v{self.version}"

    @property
    def right_to_object(self) -> bool:
        """Whether Art. 21 applies, so the notice needs its separate objection block."""
        return self.legal_basis in OBJECTABLE_BASES


class TermsPublished(_Event):
    """A new version of terms of service or of a privacy policy."""

    type: Literal["terms.published"] = "terms.published"
    document_id: Slug
    version: VersionLabel = Field(coerce_numbers_to_str=True)
    title: LocalizedText | None = None
    summary: Localized | None = None
    url: WebUrl | None = None
    published_at: Timestamp
    effective_at: Timestamp
    audience: Audience = Field(default_factory=Audience)
    controller: Controller | None = None
    purposes_added: list[Slug] | None = None

    @property
    def campaign_id(self) -> str:
        return f"terms:{self.document_id}:{self.version}"


class UserUpserted(_Event):
    """A user as the platform knows them; ``users`` is compacted on user_id.

    ``email`` is kept raw: an unusable address is *suppressed* later with
    reason ``invalid_email`` (and shows in the campaign report), it does not
    make the user disappear into the dead letter topic.
    """

    type: Literal["user.upserted"] = "user.upserted"
    user_id: Identifier
    email: str | None = None
    locale: LanguageTag = "en"
    country: Country
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    account_type: Identifier = "standard"
    data_categories: list[DottedKey] | None = None  # None: holds every category
    status: Literal["active", "suspended", "deactivated"] = "active"
    updated_at: Timestamp | None = None


class UserErased(_Event):
    """The user is gone (Art. 17); a null value on ``users`` means the same."""

    type: Literal["user.erased"] = "user.erased"
    user_id: Identifier
    erased_at: Timestamp


def _truncate_reason(value: Any) -> Any:
    """Cut, never reject: an objection needs no reason, so a long one must not lose it."""
    return value[:REASON_MAX_CHARS] if isinstance(value, str) else value


class ObjectionRecorded(_Event):
    """A user objects to a purpose (Art. 21), by link, API or web form."""

    type: Literal["objection.recorded"] = "objection.recorded"
    objection_id: Identifier
    user_id: Identifier
    purpose_id: Slug
    campaign_id: str | None = None
    channel: ObjectionChannel
    received_at: Timestamp
    reason: Annotated[str | None, BeforeValidator(_truncate_reason)] = Field(
        default=None, max_length=REASON_MAX_CHARS
    )


class ObjectionWithdrawn(_Event):
    type: Literal["objection.withdrawn"] = "objection.withdrawn"
    user_id: Identifier
    purpose_id: Slug
    received_at: Timestamp


class NoticeDelivery(_Event):
    """What happened to one notice: the proof that a user was told, or why not."""

    type: Literal["notice.delivery"] = "notice.delivery"
    notice_id: Identifier
    campaign_id: str
    user_id: Identifier
    status: Literal["sent", "deferred", "failed", "bounced", "suppressed"]
    reason: str | None = None
    attempt: int = Field(default=0, ge=0)
    message_id: str | None = None
    content_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    at: Timestamp


class TrainingExclusion(_Event):
    """The purposes a user's data must not be used for, as ML pipelines read it."""

    type: Literal["training.exclusion"] = "training.exclusion"
    user_id: Identifier
    purposes: list[Slug]
    reasons: dict[Slug, ExclusionReason]
    since: Timestamp


class ComplianceAlert(_Event):
    type: Literal["compliance.alert"] = "compliance.alert"
    campaign_id: str
    severity: Severity
    code: str = Field(pattern=r"^[a-z0-9_]+$")
    message: Text
    details: dict[str, Any] = Field(default_factory=dict)
    at: Timestamp


class DeadLetter(_Event):
    """An input that could not be processed, with where it was and why."""

    type: Literal["deadletter"] = "deadletter"
    topic: str
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)
    key: str | None = None
    value_b64: str | None = None
    # true when value_b64 is not the original bytes: left out (a topic that
    # holds personal data: only the source offset is kept) or with every
    # email address masked (streams.deadletter_redaction)
    value_redacted: bool | None = None
    error: str
    at: Timestamp


MAX_DOCUMENT_CHARS = 2_000_000


class DocumentVersion(_Event):
    """One version of a public document (terms, privacy policy) as fetched from the platform."""

    type: Literal["document.version"] = "document.version"
    document_id: Identifier
    service: Text
    document_type: Text
    url: WebUrl
    fetched_at: Timestamp
    text: str = Field(max_length=MAX_DOCUMENT_CHARS)


class DocumentChange(_Event):
    """What changed between two versions, and whether it introduces AI training."""

    type: Literal["document.change"] = "document.change"
    document_id: Identifier
    service: Text
    document_type: Text
    url: WebUrl
    previous_fetched_at: Timestamp
    fetched_at: Timestamp
    added: list[str]
    removed: list[str]
    ai_training: bool
    evidence: list[str] = Field(default_factory=list)
    rules: list[str] = Field(default_factory=list)
    at: Timestamp


Event = (
    PurposeDeclared
    | TermsPublished
    | UserUpserted
    | UserErased
    | ObjectionRecorded
    | ObjectionWithdrawn
    | NoticeDelivery
    | TrainingExclusion
    | ComplianceAlert
    | DeadLetter
    | DocumentVersion
    | DocumentChange
)


# One union per topic, discriminated on ``type``: a single lookup, "unknown type"
# as the error, and the tag first in every error location (dropped by InvalidEvent).
PurposeEvent = Annotated[PurposeDeclared, Field(discriminator="type")]
TermsEvent = Annotated[TermsPublished, Field(discriminator="type")]
UserEvent = Annotated[UserUpserted | UserErased, Field(discriminator="type")]
ObjectionEvent = Annotated[ObjectionRecorded | ObjectionWithdrawn, Field(discriminator="type")]
DeliveryEvent = Annotated[NoticeDelivery, Field(discriminator="type")]
ExclusionEvent = Annotated[TrainingExclusion, Field(discriminator="type")]
AlertEvent = Annotated[ComplianceAlert, Field(discriminator="type")]
DeadLetterEvent = Annotated[DeadLetter, Field(discriminator="type")]
DocumentVersionEvent = Annotated[DocumentVersion, Field(discriminator="type")]
DocumentChangeEvent = Annotated[DocumentChange, Field(discriminator="type")]

#: Topic name -> the adapter that parses its values (and generates its JSON Schema).
ADAPTERS: dict[str, TypeAdapter[Any]] = {
    topics.TOPIC_PURPOSES: TypeAdapter(PurposeEvent),
    topics.TOPIC_TERMS: TypeAdapter(TermsEvent),
    topics.TOPIC_USERS: TypeAdapter(UserEvent),
    topics.TOPIC_OBJECTIONS: TypeAdapter(ObjectionEvent),
    topics.TOPIC_DELIVERY: TypeAdapter(DeliveryEvent),
    topics.TOPIC_EXCLUSIONS: TypeAdapter(ExclusionEvent),
    topics.TOPIC_ALERTS: TypeAdapter(AlertEvent),
    topics.TOPIC_DEADLETTER: TypeAdapter(DeadLetterEvent),
    topics.TOPIC_DOCUMENTS: TypeAdapter(DocumentVersionEvent),
    topics.TOPIC_DOCUMENT_CHANGES: TypeAdapter(DocumentChangeEvent),
}


def _utcnow() -> datetime:
    return datetime.now(UTC)


def decode(
    topic: str,
    key: bytes | None,
    value: bytes | None,
    *,
    now: Callable[[], datetime] = _utcnow,
) -> Event | None:
    """Parse one Kafka record of ``topic``; raise :class:`InvalidEvent` if it breaks the contract.

    A null value is a tombstone. On ``users`` it is an erasure: the result is
    a :class:`UserErased` for the key, erased ``now()``. On
    ``training.exclusions`` the result is ``None``: the user has no exclusion
    left. Elsewhere it is an error.
    """
    adapter = ADAPTERS.get(topic)
    if adapter is None:
        raise InvalidEvent("topic", f"unknown topic {topic!r}")
    if value is None:
        return _tombstone(topic, key, now)
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidEvent(ROOT, f"not valid UTF-8 (byte {exc.start})") from exc
    try:
        return cast(Event, adapter.validate_json(text))
    except ValidationError as exc:
        raise InvalidEvent.from_validation_error(exc, tagged=True) from exc


def _tombstone(topic: str, key: bytes | None, now: Callable[[], datetime]) -> Event | None:
    if topic == topics.TOPIC_EXCLUSIONS:
        return None
    if topic != topics.TOPIC_USERS:
        raise InvalidEvent(ROOT, f"null value, but {topic!r} has no tombstones")
    if not key:
        raise InvalidEvent("key", "a null value on 'users' erases the user named by the key")
    try:
        return UserErased(user_id=key.decode("utf-8"), erased_at=now())
    except UnicodeDecodeError as exc:
        raise InvalidEvent("key", f"not valid UTF-8 (byte {exc.start})") from exc
    except ValidationError as exc:
        raise InvalidEvent("key", InvalidEvent.from_validation_error(exc).reason) from exc


def encode(event: Event) -> bytes:
    """Compact UTF-8 JSON, absent fields left out, ``schema_version`` kept."""
    return event.model_dump_json(exclude_none=True).encode("utf-8")
