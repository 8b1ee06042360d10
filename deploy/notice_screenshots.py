"""Screenshots of the example notice's HTML part in Chromium, for the README.

A development tool, never imported by the worker: it renders the example
AI-training purpose (``examples/purpose-ai-training.json``) for a few readers
with the real renderer, as a mail client would show the HTML part, and has
Debian's headless Chromium photograph each one:

    .venv/bin/python -m deploy.notice_screenshots            # docs/notice-*.png
    .venv/bin/python -m deploy.notice_screenshots sv:SE cs:CZ pt:PT --out /tmp/shots

Each argument is ``locale:country``; the file is ``notice-<locale>.png``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from notifications.render import NoticeContext, NoticeRenderer

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "purpose-ai-training.json"
READERS = ("de:AT", "pl:PL", "sv:SE")
WIDTH, HEIGHT = 760, 2050


def render_html(locale: str, country: str) -> str:
    """The HTML part of the example notice for a reader of ``locale`` in ``country``."""
    change = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    context = NoticeContext(
        campaign_id=f"purpose:{change['purpose_id']}:v{change['version']}",
        kind="purpose",
        change=change,
        locale=locale,
        objection_url="https://platform.example/o/example-token",
        country=country,
    )
    return NoticeRenderer().render(context).html


def screenshot(html: str, out: Path, browser: str) -> None:
    """Chromium's picture of ``html`` (headless, no network, no profile left behind)."""
    with tempfile.TemporaryDirectory() as scratch:
        page = Path(scratch) / "notice.html"
        page.write_text(html, encoding="utf-8")
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--user-data-dir={scratch}/profile",
                f"--window-size={WIDTH},{HEIGHT}",
                f"--screenshot={out}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("readers", nargs="*", default=list(READERS), help="locale:country")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args(argv)
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("notice_screenshots: chromium is not installed (apt-get install chromium)")
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for reader in args.readers:
        locale, _, country = reader.partition(":")
        out = args.out / f"notice-{locale}.png"
        screenshot(render_html(locale, country or locale.upper()), out, browser)
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
