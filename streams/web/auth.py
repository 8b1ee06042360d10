"""Bearer-token checks for the compliance API and the dashboard.

The comparison is constant-time (``hmac.compare_digest``) so that response
times do not reveal how much of a guessed token was right. With no
``PREAVIS_ADMIN_TOKEN`` configured, nothing is an admin.
"""

from __future__ import annotations

import hmac
from typing import Any

from pydantic import SecretStr


def bearer_token(request: Any) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = str(header).partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def is_admin(request: Any, admin_token: SecretStr | None) -> bool:
    """Whether ``request`` carries the configured admin token."""
    given = bearer_token(request)
    if admin_token is None or given is None:
        return False
    expected = admin_token.get_secret_value()
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())
