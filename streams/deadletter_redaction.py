"""What a dead letter may copy of the record it stands for.

``preavis.deadletter`` keeps what could not be processed so that it can be
looked at and replayed. It is a delete-policy topic, read by operators: a copy
of a personal record there would outlive the person's erasure (a record on
such a topic cannot be removed on its own). So:

- a record of a topic that holds personal data (``users``,
  ``consent.objections``, ``preavis.objection-requests``, the receipts and
  bounces the platform sends...) is not copied at all: the dead letter keeps
  only where it is (topic, partition, offset) and ``value_redacted: true``.
  The original stays on its source topic, where erasure and retention apply
  to it as to every other record of that topic;
- any other record is copied with everything that looks like an email
  address replaced by ``<address>`` (``value_redacted: true`` when something
  was masked), since garbage may carry one anywhere;
- the key is the user id on the personal topics (pseudonymous, kept); an
  address-looking key is masked like a value.
"""

from __future__ import annotations

import re
from typing import Final

from notifications import topic_names as names
from notifications.internal_events import TOPIC_LEDGER, TOPIC_OBJECTION_REQUESTS

#: Topics whose values are about one person (an address, a locale, a country,
#: a free-text reason, a raw bounce with its headers): never copied.
PERSONAL_TOPICS: Final = frozenset(
    {
        names.TOPIC_USERS,
        names.TOPIC_OBJECTIONS,
        names.TOPIC_EXCLUSIONS,
        names.TOPIC_DELIVERY,
        TOPIC_OBJECTION_REQUESTS,
        # country and language of each person, next to their user_id
        TOPIC_LEDGER,
        "preavis.objection-reasons",
        "notices.inapp",
        "notices.receipts",
        "notices.bounces",
    }
)

MASK: Final = b"<address>"
# local@domain, as a run of bytes without separators around one "@" (raw bytes:
# the value may not even be UTF-8); "\u0040" is how JSON may spell "@".
_ADDRESS: Final = re.compile(rb"[^\s<>@,;:\"'()\[\]{}\\]+(?:@|\\u0040)[^\s<>@,;:\"'()\[\]{}\\]+")


def holds_personal_data(topic: str) -> bool:
    """Whether a dead letter from ``topic`` keeps only the pointer to the source."""
    return topic in PERSONAL_TOPICS


def mask_addresses(value: bytes) -> tuple[bytes, bool]:
    """``value`` with every address-looking token masked; whether any was."""
    masked, count = _ADDRESS.subn(MASK, value)
    return masked, count > 0


def mask_text(text: str) -> str:
    """:func:`mask_addresses` for text (a key, an error message)."""
    return mask_addresses(text.encode("utf-8", "surrogateescape"))[0].decode("utf-8", "replace")
