"""Benchmark: building notice emails as bytes, against the stdlib's two builders.

Each run builds N messages (a ~3 KB French text part and a ~6 KB HTML part,
non-ASCII Subject and From name, a different recipient, Message-ID and
objection link per message) three ways, one after the other in the same
process, and the runs alternate; medians over the runs are reported with the
ratio of :func:`notifications.mime.build_notice` to each baseline:

- ``EmailMessage``: ``set_content`` + ``add_alternative`` + ``as_bytes``
  (policy ``SMTP``: CRLF line endings, like ours);
- ``email.mime``: ``MIMEMultipart`` of two ``MIMEText`` + ``as_bytes``
  (compat32 with CRLF line endings).

    .venv/bin/python -m bench.bench_mime --messages 20000 --runs 3
"""

from __future__ import annotations

import argparse
import email
import email.policy
import statistics
import textwrap
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime

from notifications.mime import build_notice, message_id_for

FROM = "Équipe Vie privée <privacy@localhost>"
SUBJECT = "Vos données et l'entraînement de nos modèles d'IA : ce qui change le 1er mars"
CAMPAIGN = "purpose:ai-training:v1"
DATE = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
COMPAT32_CRLF = email.policy.compat32.clone(linesep="\r\n")
VARIANTS = 8192  # distinct bodies (objection links), cycled: more than mime's line cache

PARAGRAPH = (
    "À partir du 1er mars 2027, nous utiliserons vos publications publiques et vos "
    "commentaires pour entraîner et améliorer nos modèles d'intelligence artificielle. "
    "Base légale : intérêt légitime (améliorer la qualité des réponses, détecter les abus). "
    "Catégories de données : contenus publiés, métadonnées d'interaction ; durée de "
    "conservation : 24 mois après la fin de l'entraînement ; destinataires : aucun tiers."
)
WRAPPED = textwrap.fill(PARAGRAPH, width=76)  # as the renderer wraps the text part
STYLE = 'style="margin:0 0 16px 0;font-family:Arial,Helvetica,sans-serif;color:#222"'


def bodies(token: str) -> tuple[str, str]:
    """A notice of ~3 KB text and ~6 KB HTML, shaped like the renderer's, with its link."""
    link = f"http://127.0.0.1:6066/o/{token}"
    text = "\n\n".join(
        ["Bonjour,", *[WRAPPED] * 7, f"Vous pouvez vous y opposer, sans motif :\n{link}\n"]
    )
    sentences = [f"  {sentence.strip()}." for sentence in PARAGRAPH.split(".") if sentence]
    paragraph = "\n".join([f"<p {STYLE}>", *sentences, "</p>"])
    html = "\n".join(
        [
            '<!doctype html>\n<html lang="fr">\n<head><meta charset="utf-8"></head>\n<body>',
            *[paragraph] * 11,
            '<div style="border:2px solid #b00;padding:12px">',
            f'<a href="{link}">Je m\'oppose à ce traitement</a>',
            "</div>\n</body>\n</html>\n",
        ]
    )
    return text, html


Job = tuple[str, str, str, str]  # to, message id, text, html


def make_jobs(n: int) -> list[Job]:
    """N recipients; the bodies differ by their link, in more variants than any cache holds."""
    token = "1.dS0wMDAxMjMAcHVycG9zZTphaS10cmFpbmluZzp2MQBhaS10cmFp{:06d}.B4JYsd3qUiB3TLDigE3-IA"
    variants = [bodies(token.format(i)) for i in range(min(n, VARIANTS))]
    return [
        (f"user{i}@example.org", message_id_for(CAMPAIGN, f"u-{i:07d}", "localhost"))
        + variants[i % len(variants)]
        for i in range(n)
    ]


def preavis(job: Job) -> bytes:
    to, message_id, text, html = job
    return build_notice(
        from_header=FROM,
        to_address=to,
        subject=SUBJECT,
        text=text,
        html=html,
        language="fr",
        message_id=message_id,
        campaign_id=CAMPAIGN,
        date=DATE,
    )


def headers(message: EmailMessage | MIMEMultipart, to: str, message_id: str) -> None:
    message["From"] = FROM
    message["To"] = to
    message["Subject"] = SUBJECT
    message["Date"] = format_datetime(DATE)
    message["Message-ID"] = message_id
    message["Content-Language"] = "fr"
    message["X-Preavis-Campaign"] = CAMPAIGN
    message["Auto-Submitted"] = "auto-generated"


def email_message(job: Job) -> bytes:
    to, message_id, text, html = job
    message = EmailMessage(policy=email.policy.SMTP)
    headers(message, to, message_id)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message.as_bytes()


def email_mime(job: Job) -> bytes:
    to, message_id, text, html = job
    message = MIMEMultipart("alternative")
    headers(message, to, message_id)
    message.attach(MIMEText(text, "plain", "utf-8"))
    message.attach(MIMEText(html, "html", "utf-8"))
    return message.as_bytes(policy=COMPAT32_CRLF)


BUILDERS: dict[str, Callable[[Job], bytes]] = {
    "build_notice": preavis,
    "EmailMessage": email_message,
    "email.mime": email_mime,
}


def check(jobs: list[Job]) -> dict[str, int]:
    """Every builder's message reads back to the same parts; returns their sizes."""
    sizes = {}
    for name, build in BUILDERS.items():
        data = build(jobs[0])
        message = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        parts = [part.get_content().replace("\r\n", "\n") for part in message.iter_parts()]
        assert parts == list(jobs[0][2:]), name
        assert message["Subject"] == SUBJECT, name
        sizes[name] = len(data)
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    jobs = make_jobs(args.messages)
    text, html = jobs[0][2:]
    print(f"text {len(text.encode())} B, html {len(html.encode())} B (UTF-8), {len(jobs)} messages")
    for name, size in check(jobs).items():
        print(f"  {name:<13} {size} B per message")
    rates: dict[str, list[float]] = {name: [] for name in BUILDERS}
    for run in range(1, args.runs + 1):
        for name, build in BUILDERS.items():
            start = time.perf_counter()
            for job in jobs:
                build(job)
            rates[name].append(len(jobs) / (time.perf_counter() - start))
        print(f"run {run}: " + ", ".join(f"{n} {r[-1]:,.0f}/s" for n, r in rates.items()))
    medians = {name: statistics.median(values) for name, values in rates.items()}
    print("\nmedian of", args.runs, "runs:")
    for name, rate in medians.items():
        ratio = medians["build_notice"] / rate
        print(f"  {name:<13} {rate:>9,.0f} msgs/s   build_notice is {ratio:.1f}x")


if __name__ == "__main__":
    main()
