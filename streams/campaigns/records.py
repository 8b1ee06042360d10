"""The fan-out's two records per person, encoded without building a model.

A fan-out writes one ``notice.job`` (or one suppressed ``notice.delivery``)
per person: building and serializing a pydantic model for each costs more
than deciding for them. What varies per person is the user_id, the notice id
and the time; the rest is fixed per campaign. So the bytes are put together
here from a prefix made once, and are exactly those of
``encode_internal(NoticeJob(...))`` and ``encode(NoticeDelivery(...))``
(tests/unit/test_campaign_records.py holds them equal), so that every
consumer reads the same records as before.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache

from notifications.events import NoticeDelivery
from notifications.internal_events import NoticeJob

_JOB_TYPE: str = NoticeJob.model_fields["type"].default
_DELIVERY_TYPE: str = NoticeDelivery.model_fields["type"].default


def json_time(at: datetime) -> str:
    """``at`` as pydantic writes an aware datetime in JSON (ISO 8601, ``Z`` for UTC)."""
    text = at.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


@lru_cache(maxsize=64)
def _job_prefix(campaign_id: str) -> str:
    return f'{{"type":"{_JOB_TYPE}","campaign_id":{_string(campaign_id)},"user_id":'


def job_bytes(campaign_id: str, user_id: str, issued_at: datetime, *, late: bool) -> bytes:
    """``encode_internal(NoticeJob(campaign_id, user_id, issued_at, late))``, attempt 0."""
    return (
        f'{_job_prefix(campaign_id)}{_string(user_id)},"issued_at":"{json_time(issued_at)}",'
        f'"late":{"true" if late else "false"},"attempt":0}}'
    ).encode()


def suppressed_bytes(
    notice_id: str, campaign_id: str, user_id: str, reason: str, at: datetime
) -> bytes:
    """``encode(NoticeDelivery(...))`` of a notice suppressed at fan-out (attempt 0)."""
    return (
        f'{{"schema_version":1,"type":"{_DELIVERY_TYPE}","notice_id":{_string(notice_id)},'
        f'"campaign_id":{_string(campaign_id)},"user_id":{_string(user_id)},'
        f'"status":"suppressed","reason":{_string(reason)},"attempt":0,"at":"{json_time(at)}"}}'
    ).encode()
