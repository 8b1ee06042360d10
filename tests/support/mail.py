"""Reading what the test mail catcher received."""

from __future__ import annotations

import email
import email.policy
import re
import time
from email.message import EmailMessage
from pathlib import Path

LINK = re.compile(r"https?://\S+/o/[A-Za-z0-9_.\-]+")


def received(
    folder: Path, count: int, timeout: float = 90, settle: float = 1.5
) -> list[EmailMessage]:
    """The emails in ``folder`` once there are ``count``; waits ``settle`` more for extras."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(list(folder.glob("*.eml"))) < count:
        time.sleep(0.2)
    time.sleep(settle)
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(folder.glob("*.eml"))
    ]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def objection_link(message: EmailMessage) -> str:
    match = LINK.search(text_of(message))
    assert match, "no objection link in the email"
    return match.group(0)
