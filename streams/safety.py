"""What a worker facing the internet must not run with: the production refusal.

:func:`production_problems` lists every setting that is fine on a laptop and
wrong in production, one sentence each, naming the variable and what to do:
short secrets (anyone who guesses the link secret can object on anyone's
behalf; the admin token opens the compliance API), links in emails that point
at ``http://`` or at the machine itself, and a sender at ``localhost`` (relays
and recipients reject or junk it). ``preavis worker`` refuses to start while
the list is not empty, unless ``PREAVIS_DEVELOPMENT=true`` (tests, local runs,
``preavis demo``), which logs the same list as a warning.

The messages name variables and lengths, never a secret's value.
"""

from __future__ import annotations

import ipaddress
import logging
import sys
from email.utils import parseaddr
from typing import TextIO
from urllib.parse import urlsplit

from pydantic import SecretStr

from streams.settings import Settings

__all__ = [
    "MIN_PRODUCTION_SECRET_BYTES",
    "is_local_host",
    "production_problems",
    "refuses_to_start",
]

log = logging.getLogger(__name__)

MIN_PRODUCTION_SECRET_BYTES = 32
_MAKE_ONE = "e.g. `openssl rand -hex 32`"


def is_local_host(host: str) -> bool:
    """``localhost``, ``*.localhost``, ``*.local``, a loopback or unspecified address.

    ``.local`` is multicast DNS (RFC 6762): a name only the local network
    resolves, as useless in an email as ``localhost`` (127.x, ::1, 0.0.0.0 too).
    """
    name = host.strip().strip("[]").rstrip(".").lower()
    if name in ("localhost", "local") or name.endswith((".localhost", ".local")):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified


def _short(variable: str, secret: SecretStr | None) -> list[str]:
    if secret is None:
        return []
    size = len(secret.get_secret_value().encode())
    if size >= MIN_PRODUCTION_SECRET_BYTES:
        return []
    return [
        f"{variable} is {size} bytes long: it must be at least "
        f"{MIN_PRODUCTION_SECRET_BYTES} random bytes ({_MAKE_ONE})"
    ]


def _public_url(url: str) -> list[str]:
    parts = urlsplit(url)
    problems = []
    if parts.scheme != "https":
        problems.append(
            f"PREAVIS_PUBLIC_URL is {url}: the objection links in emails must use https://"
        )
    if is_local_host(parts.hostname or ""):
        problems.append(
            f"PREAVIS_PUBLIC_URL is {url}: it points at this machine, so the links in "
            "emails work for nobody; set the address people reach the worker at"
        )
    return problems


def _mail_from(mail_from: str) -> list[str]:
    address = parseaddr(mail_from)[1]
    domain = address.rpartition("@")[2] if "@" in address else ""
    if not domain:
        return ["PREAVIS_MAIL_FROM has no domain: set the sender, e.g. privacy@your-domain"]
    if is_local_host(domain):
        return [
            f"PREAVIS_MAIL_FROM is at {domain}: relays and mailboxes refuse or junk "
            "such a sender; use an address of your own domain"
        ]
    return []


def _old_link_secrets(settings: Settings) -> list[str]:
    return [
        f"PREAVIS_LINK_SECRETS_OLD entry {position} is {len(secret)} bytes long: "
        f"every key must be at least {MIN_PRODUCTION_SECRET_BYTES} random bytes"
        for position, secret in enumerate(settings.old_link_secrets(), start=1)
        if len(secret) < MIN_PRODUCTION_SECRET_BYTES
    ]


def _smtp_password_in_clear(settings: Settings) -> list[str]:
    if settings.smtp_password is None or settings.smtp_tls != "none":
        return []
    if settings.smtp_starttls or is_local_host(settings.smtp_host):
        return []
    return [
        "PREAVIS_SMTP_PASSWORD is set with PREAVIS_SMTP_TLS=none: the password would "
        f"cross the network to {settings.smtp_host} in clear; use auto, starttls or implicit"
    ]


def production_problems(settings: Settings) -> list[str]:
    """Every reason ``settings`` are unfit for production, empty when there is none."""
    return [
        *_short("PREAVIS_LINK_SECRET", settings.link_secret),
        *_old_link_secrets(settings),
        *_short("PREAVIS_ADMIN_TOKEN", settings.admin_token),
        *_short("PREAVIS_COMPLIANCE_TOKEN", settings.compliance_token),
        *_public_url(settings.public_url),
        *_mail_from(settings.mail_from),
        *_smtp_password_in_clear(settings),
    ]


def refuses_to_start(settings: Settings, *, stream: TextIO | None = None) -> bool:
    """Whether a worker must not start: problems, and no ``PREAVIS_DEVELOPMENT``.

    The refusal prints every problem at once (to ``stream``, standard error by
    default), so that one restart fixes them all. In development the same list
    is a warning, and the worker starts.
    """
    problems = production_problems(settings)
    if settings.development:
        listed = "".join(f"\n  - {problem}" for problem in problems)
        log.warning(
            "PREAVIS_DEVELOPMENT=true: for tests and local runs only%s",
            f"; these settings would stop a production worker:{listed}" if problems else "",
        )
        return False
    if not problems:
        return False
    out = stream or sys.stderr
    print(
        f"preavis: the worker refuses to start: {len(problems)} setting(s) unfit for "
        "production (PREAVIS_DEVELOPMENT=true allows them, for tests and local runs only):",
        file=out,
    )
    for problem in problems:
        print(f"  - {problem}", file=out)
    return True
