"""The field types the events share (CONTRACT.md, "Events"), as annotated types.

Each type carries its own check and its own error message, so that an error
names the field and says what is wrong in words an operator understands
(``audience.countries[0]: not an ISO 3166 alpha-2 country code``). Values are
kept as written except where noted: country codes are upper-cased, language
tags get a lower-case language and ``-`` for ``_``, and a plain string is
accepted where the contract does not say the text is localized.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
)
from pydantic_core import PydanticCustomError

from notifications.countries import EEA, ISO_3166_ALPHA2

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]
"""purpose_id, document_id: lower-case, safe in a campaign id, a URL and a topic key."""

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=256)]
"""An opaque id chosen by the platform (user_id, objection_id, notice_id)."""

DocumentVersion = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]
"""A terms version such as ``2026-01`` or ``3.2``: no ``:``, it ends a campaign id."""

DottedKey = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")]
"""A fideslang key: data category ``user.content.public``, data use ``train_ai_system``."""

WebUrl = Annotated[str, StringConstraints(max_length=2048, pattern=r"^https?://\S+$")]
"""An http(s) URL, kept as written (pydantic's ``HttpUrl`` would rewrite it)."""

EmailAddress = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
"""The controller's and DPO's published addresses: loosely checked, they are printed."""

ObjectionChannel = Literal["email_link", "api", "web"]
"""How an objection reached preavis: a notice's link, the API, a web form."""

ExclusionReason = Literal["objection", "below_min_age"]
"""Why a purpose is in a user's ``training.exclusion``: they objected, or are too young."""


def _not_blank(value: str) -> str:
    if value.isspace():
        raise PydanticCustomError("blank_text", "must not be blank")
    return value


Text = Annotated[str, StringConstraints(min_length=1), AfterValidator(_not_blank)]
"""Text that is not empty or only blanks (kept as written, not stripped)."""

_LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def _subtag_case(subtag: str) -> str:
    """BCP 47 conventional case: region upper (``BE``), script title (``Latn``), others lower."""
    if subtag.isalpha() and len(subtag) == 2:
        return subtag.upper()
    if subtag.isalpha() and len(subtag) == 4:
        return subtag.title()
    return subtag.lower()


def _language_tag(value: Any) -> Any:
    """Accept ``fr_BE`` and ``FR-be`` as ``fr-BE``: platforms often store POSIX locales.

    One spelling per locale lets the renderer find ``fr-BE`` templates and texts.
    """
    if not isinstance(value, str):
        return value
    language, *subtags = value.strip().replace("_", "-").split("-")
    tag = "-".join([language.lower(), *(_subtag_case(subtag) for subtag in subtags)])
    if not _LANGUAGE_TAG.match(tag):
        raise PydanticCustomError(
            "language_tag", "not a BCP 47 language tag such as 'fr' or 'fr-BE'"
        )
    return tag


_LANGUAGE_TAG_INPUT = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$"

LanguageTag = Annotated[
    str,
    BeforeValidator(_language_tag),
    WithJsonSchema({"type": "string", "pattern": _LANGUAGE_TAG_INPUT}),
]
"""A BCP 47 language tag (``en``, ``fr``, ``fr-BE``), checked loosely."""


def _require_en(texts: dict[str, str]) -> dict[str, str]:
    if "en" not in texts:
        raise PydanticCustomError("localized_missing_en", "must include an 'en' text")
    return texts


_LOCALIZED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["en"],
    "patternProperties": {_LANGUAGE_TAG_INPUT: {"type": "string", "minLength": 1}},
    "additionalProperties": False,
}

Localized = Annotated[
    dict[LanguageTag, Text], AfterValidator(_require_en), WithJsonSchema(_LOCALIZED_SCHEMA)
]
"""Language tag -> text; always holds ``en``, the last fallback of every locale."""


def _english_if_plain(value: Any) -> Any:
    return {"en": value} if isinstance(value, str) else value


LocalizedText = Annotated[
    Localized,
    BeforeValidator(_english_if_plain),
    WithJsonSchema({"anyOf": [{"type": "string", "minLength": 1}, _LOCALIZED_SCHEMA]}),
]
"""A :data:`Localized`, or a plain string taken as its English text.

For fields whose type the contract leaves open (a purpose's ``name``, a
terms' ``title``, ``retention``): the renderer always receives a Localized.
"""


def _country(value: Any, *, allow_eea: bool) -> Any:
    if not isinstance(value, str):
        return value  # the str validator that follows reports the type error
    code = value.strip().upper()
    if code in ISO_3166_ALPHA2 or (allow_eea and code == EEA):
        return code
    raise PydanticCustomError("country_code", "not an ISO 3166 alpha-2 country code")


def _iso_country(value: Any) -> Any:
    return _country(value, allow_eea=False)


def _audience_country(value: Any) -> Any:
    return _country(value, allow_eea=True)


Country = Annotated[
    str,
    BeforeValidator(_iso_country),
    WithJsonSchema({"type": "string", "pattern": "^[A-Za-z]{2}$"}),
]
"""An ISO 3166-1 alpha-2 code, case-insensitive on input, upper-case once parsed."""

AudienceCountry = Annotated[
    str,
    BeforeValidator(_audience_country),
    WithJsonSchema({"type": "string", "pattern": "^([A-Za-z]{2}|[Ee][Ee][Aa])$"}),
]
"""A :data:`Country`, or ``EEA`` for the 30 EEA states (expanded by the audience)."""


def _aware(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    try:
        return handler(value)
    except ValidationError as exc:
        if exc.errors()[0]["type"] == "timezone_aware":
            raise PydanticCustomError(
                "timezone_aware", "must carry a UTC offset (RFC 3339, e.g. 2026-05-01T09:00:00Z)"
            ) from None
        raise


Timestamp = Annotated[AwareDatetime, WrapValidator(_aware)]
"""An RFC 3339 time with an offset: a naive time is ambiguous by up to a day."""
