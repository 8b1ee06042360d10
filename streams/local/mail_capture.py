"""A mail catcher for the demo: an aiosmtpd server that writes each email to a file.

Every message received becomes ``NNNNNN.eml`` in a folder, exactly the bytes
that arrived (after the DATA dot-unstuffing), so that a person can open them
in a mail client and a test can parse them with the standard library.
"""

from __future__ import annotations

import itertools
import logging
import threading
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

# aiosmtpd logs every recipient address at INFO: addresses never go to logs.
logging.getLogger("mail.log").setLevel(logging.WARNING)


class EmlWriter:
    """aiosmtpd handler: store the DATA of each transaction as an .eml file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        start = len(list(folder.glob("*.eml")))
        self._numbers = itertools.count(start + 1)
        self._lock = threading.Lock()
        self.received = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content
        with self._lock:
            number = next(self._numbers)
            self.received += 1
        (self.folder / f"{number:06d}.eml").write_bytes(content)
        return "250 2.0.0 Ok: stored"


def start_capture(
    folder: Path, host: str = "127.0.0.1", port: int = 2525
) -> tuple[Controller, EmlWriter]:
    """Start the catcher in its own thread; stop it with ``controller.stop()``."""
    handler = EmlWriter(folder)
    controller = Controller(handler, hostname=host, port=port)
    controller.start()
    return controller, handler
