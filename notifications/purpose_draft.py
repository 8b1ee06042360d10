"""A draft ``purpose.declared`` for a detected AI-training clause: for a human to finish.

Detection is evidence, not a decision: preavis never publishes a purpose on
its own. The draft carries what the detector knows (the document, the
quoted sentences) and leaves every field a person must decide empty or
marked ``TODO``, so that ``preavis publish purpose`` refuses it until the
operator has filled it in.
"""

from __future__ import annotations

import re


def draft_purpose(
    *, document_id: str, service: str, url: str, fetched_at: str, evidence: list[str]
) -> dict[str, object]:
    """The draft's JSON, with the evidence and TODO markers."""
    slug = re.sub(r"[^a-z0-9]+", "-", f"ai-training-{document_id}".lower()).strip("-")[:64]
    return {
        "type": "purpose.declared",
        "schema_version": 1,
        "_draft": {
            "why": "a new version of this document appears to allow training AI models "
            "on users' data; complete every TODO, check the evidence, then publish with "
            "`preavis publish purpose FILE` (this key is ignored)",
            "document_id": document_id,
            "service": service,
            "url": url,
            "fetched_at": fetched_at,
            "evidence": evidence,
        },
        "purpose_id": slug,
        "version": 1,
        "name": {"en": "TODO: name the purpose (e.g. Training our AI models)"},
        "description": {"en": "TODO: say in plain words what data trains which models"},
        "data_use": "train_ai_system",
        "legal_basis": "TODO: consent or legitimate_interest",
        "legitimate_interest": {"en": "TODO: the interest pursued (if legitimate_interest)"},
        "data_categories": [],
        "retention": {"en": "TODO"},
        "recipients": {"en": "TODO"},
        "audience": {"countries": ["EEA"]},
        "starts_at": "TODO: at least PREAVIS_MIN_NOTICE_DAYS after publication",
        "published_at": "TODO",
        "policy_url": url,
        "controller": {
            "name": "TODO",
            "address": "TODO",
            "contact_email": "TODO",
            "dpo_email": "TODO",
        },
    }
