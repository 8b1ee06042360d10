"""Valid example events as plain dicts, shared by unit and integration tests.

Each factory returns a fresh dict that follows CONTRACT.md; keyword arguments
replace top-level fields, and :func:`without` removes some, so that a test
states only what it changes. Times are fixed (no clock) so tests are
repeatable: the AI training purpose is published on 2 March 2026 and starts
45 days later, beyond the default 30-day notice period.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from notifications.languages import OPERATOR_TEXT_FIELDS

_EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# The operator's texts in every language an EEA audience needs: the demo's own
# (examples/), so that what the tests send is what `preavis check` passes.
_PURPOSE = json.loads((_EXAMPLES / "purpose-ai-training.json").read_text(encoding="utf-8"))
_TERMS = json.loads((_EXAMPLES / "terms-2026.json").read_text(encoding="utf-8"))
_PURPOSE_TEXTS: dict[str, dict[str, str]] = {
    field: _PURPOSE[field] for field in OPERATOR_TEXT_FIELDS["purpose"]
}
_TERMS_TEXTS: dict[str, dict[str, str]] = {field: _TERMS[field] for field in ("title", "summary")}

PUBLISHED_AT = "2026-03-02T09:00:00Z"
STARTS_AT = "2026-04-16T09:00:00Z"  # PUBLISHED_AT + 45 days
LATER = "2026-03-10T14:30:00+01:00"


def without(event: dict[str, Any], *fields: str) -> dict[str, Any]:
    """A copy of ``event`` without ``fields``."""
    return {name: value for name, value in event.items() if name not in fields}


def controller(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Example Platform SAS",
        "address": "12 rue de l'Exemple, 75002 Paris, France",
        "contact_email": "privacy@example.com",
        "dpo_email": "dpo@example.com",
        "supervisory_authority_url": "https://www.cnil.fr/en/complaints",
        **overrides,
    }


def purpose_declared(**overrides: Any) -> dict[str, Any]:
    """Training an AI system on public content, on legitimate interest, for the EEA.

    Its texts are in every language the EEA needs (those of examples/).
    """
    return copy.deepcopy(_purpose(**overrides))


def _purpose(**overrides: Any) -> dict[str, Any]:
    return {
        "type": "purpose.declared",
        "schema_version": 1,
        "purpose_id": "ai-training",
        "version": 1,
        "name": _PURPOSE_TEXTS["name"],
        "description": _PURPOSE_TEXTS["description"],
        "data_use": "train_ai_system",
        "legal_basis": "legitimate_interest",
        "legitimate_interest": _PURPOSE_TEXTS["legitimate_interest"],
        "data_categories": ["user.content.public"],
        "retention": _PURPOSE_TEXTS["retention"],
        "recipients": _PURPOSE_TEXTS["recipients"],
        "transfers": _PURPOSE_TEXTS["transfers"],
        "objection_effect": _PURPOSE_TEXTS["objection_effect"],
        "audience": {"countries": ["EEA"], "min_age": 18},
        "starts_at": STARTS_AT,
        "published_at": PUBLISHED_AT,
        "policy_url": "https://example.com/privacy/ai-training",
        "controller": controller(),
        **overrides,
    }


def terms_published(**overrides: Any) -> dict[str, Any]:
    return copy.deepcopy(_terms(**overrides))


def _terms(**overrides: Any) -> dict[str, Any]:
    return {
        "type": "terms.published",
        "schema_version": 1,
        "document_id": "terms-of-service",
        "version": "2026-04",
        "title": _TERMS_TEXTS["title"],
        "summary": _TERMS_TEXTS["summary"],
        "url": "https://example.com/terms/2026-04",
        "published_at": PUBLISHED_AT,
        "effective_at": STARTS_AT,
        "audience": {"countries": ["EEA"]},
        "controller": controller(),
        "purposes_added": ["ai-training"],
        **overrides,
    }


def user_upserted(**overrides: Any) -> dict[str, Any]:
    return {
        "type": "user.upserted",
        "schema_version": 1,
        "user_id": "u-0001",
        "email": "camille.martin@example.org",
        "locale": "fr-BE",
        "country": "BE",
        "birth_year": 1988,
        "account_type": "standard",
        "status": "active",
        "updated_at": PUBLISHED_AT,
        **overrides,
    }


def user_erased(**overrides: Any) -> dict[str, Any]:
    return {
        "type": "user.erased",
        "schema_version": 1,
        "user_id": "u-0001",
        "erased_at": LATER,
        **overrides,
    }


def objection_recorded(**overrides: Any) -> dict[str, Any]:
    return {
        "type": "objection.recorded",
        "schema_version": 1,
        "objection_id": "obj-7f3a",
        "user_id": "u-0001",
        "purpose_id": "ai-training",
        "campaign_id": "purpose:ai-training:v1",
        "channel": "email_link",
        "received_at": LATER,
        **overrides,
    }


def objection_withdrawn(**overrides: Any) -> dict[str, Any]:
    return {
        "type": "objection.withdrawn",
        "schema_version": 1,
        "user_id": "u-0001",
        "purpose_id": "ai-training",
        "received_at": LATER,
        **overrides,
    }


def notice_delivery(**overrides: Any) -> dict[str, Any]:
    return {
        "type": "notice.delivery",
        "schema_version": 1,
        "notice_id": "n-purpose-ai-training-v1-u-0001",
        "campaign_id": "purpose:ai-training:v1",
        "user_id": "u-0001",
        "status": "sent",
        "reason": "250 2.0.0 Ok: queued",
        "attempt": 1,
        "message_id": "<purpose.ai-training.v1.u-0001@example.com>",
        "content_sha256": "0" * 64,
        "at": PUBLISHED_AT,
        **overrides,
    }


def training_exclusion(**overrides: Any) -> dict[str, Any]:
    return {
        "type": "training.exclusion",
        "schema_version": 1,
        "user_id": "u-0001",
        "purposes": ["ai-training"],
        "reasons": {"ai-training": "objection"},
        "since": LATER,
        **overrides,
    }


def compliance_alert(**overrides: Any) -> dict[str, Any]:
    return {
        "type": "compliance.alert",
        "schema_version": 1,
        "campaign_id": "purpose:ai-training:v1",
        "severity": "critical",
        "code": "incomplete_notice",
        "message": "The notice lacks fields GDPR Art. 13 requires: retention.",
        "details": {"missing": ["retention"]},
        "at": PUBLISHED_AT,
        **overrides,
    }


def dead_letter(**overrides: Any) -> dict[str, Any]:
    return {
        "type": "deadletter",
        "schema_version": 1,
        "topic": "users",
        "partition": 3,
        "offset": 42,
        "key": "u-0002",
        "value_b64": "bm90IGpzb24=",
        "error": "<root>: Invalid JSON: expected value at line 1 column 1",
        "at": PUBLISHED_AT,
        **overrides,
    }


def document_version(**overrides: Any) -> dict[str, Any]:
    return {
        "type": "document.version",
        "schema_version": 1,
        "document_id": "example-privacy-policy",
        "service": "Example Platform",
        "document_type": "Privacy Policy",
        "url": "https://example.com/privacy",
        "fetched_at": PUBLISHED_AT,
        "text": "# Privacy Policy\n\nWe collect the posts you publish.\n",
        **overrides,
    }


def document_change(**overrides: Any) -> dict[str, Any]:
    return {
        "type": "document.change",
        "schema_version": 1,
        "document_id": "example-privacy-policy",
        "service": "Example Platform",
        "document_type": "Privacy Policy",
        "url": "https://example.com/privacy",
        "previous_fetched_at": PUBLISHED_AT,
        "fetched_at": LATER,
        "added": ["We may use your posts to train our AI models."],
        "removed": [],
        "ai_training": True,
        "evidence": ["We may use your posts to train our AI models."],
        "rules": ["train-model/possessive-data"],
        "at": LATER,
        **overrides,
    }
