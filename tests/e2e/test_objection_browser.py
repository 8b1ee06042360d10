"""A French user objects from the link in their notice, in a real headless Chromium.

Real worker, real broker, a real SMTP catcher, Debian's Chromium driven by
Playwright (no browser download). The browser itself is set to English: the
pages must speak the notice's language, which the signed link carries, not
the browser's. Screenshots of both pages are kept in the test's ``tmp_path``.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import async_playwright, expect

from notifications import topic_names as names
from tests import examples
from tests.support.kafka import produce, read_topic
from tests.support.mail import objection_link, received
from tests.support.worker import WorkerProcess

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FR = json.loads(
    (Path(__file__).resolve().parents[2] / "templates/web/i18n/fr.json").read_text("utf-8")
)
PURPOSE_NAME_FR = "Entraînement de nos modèles d'IA"


@pytest.fixture
def chromium() -> str:
    """Debian's Chromium; its absence fails the test (a skipped browser test proves nothing)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"no Chromium at {CHROMIUM}: install Debian's `chromium` package "
            "(apt-get install chromium); the test drives it through Playwright "
            "and never downloads a browser"
        )
    return CHROMIUM


async def publish(user: dict[str, Any]) -> None:
    await produce(names.TOPIC_USERS, [(user["user_id"].encode(), json.dumps(user).encode())])
    now = datetime.now(UTC)
    purpose = examples.purpose_declared(
        published_at=now.isoformat(), starts_at=(now + timedelta(days=45)).isoformat()
    )
    await produce(names.TOPIC_PURPOSES, [(b"ai-training", json.dumps(purpose).encode())])


async def test_french_user_objects_in_a_browser(
    chromium: str, smtp_worker: WorkerProcess, mail_dir: Path, tmp_path: Path
) -> None:
    camille = examples.user_upserted(
        user_id="camille", email="camille@example.fr", locale="fr", country="FR", birth_year=1990
    )
    await publish(camille)
    [notice] = await asyncio.to_thread(received, mail_dir, 1)
    link = objection_link(notice)

    async with async_playwright() as p:
        try:
            browser = await p.chromium.launch(
                executable_path=chromium, headless=True, args=CHROMIUM_ARGS
            )
        except PlaywrightError as exc:
            pytest.fail(f"Chromium at {chromium} did not start under Playwright: {exc}")
        try:
            context = await browser.new_context(
                locale="en-US", viewport={"width": 1000, "height": 800}
            )
            page = await context.new_page()
            console: list[str] = []
            page.on("console", lambda message: console.append(message.text))

            response = await page.goto(link)
            assert response is not None and response.status == 200
            await expect(page.locator("html")).to_have_attribute("lang", "fr")
            await expect(page.get_by_role("heading", level=1)).to_have_text(FR["objection_title"])
            await expect(page.get_by_text(PURPOSE_NAME_FR)).to_be_visible()
            await page.screenshot(path=str(tmp_path / "objection.png"), full_page=True)

            confirm = page.get_by_role("button", name=FR["confirm_button"])
            async with page.expect_response(
                lambda r: r.request.method == "POST" and "/o/" in r.url
            ) as posted:
                await confirm.click()
            assert (await posted.value).status == 200
            await page.wait_for_load_state()
            await expect(page.locator("html")).to_have_attribute("lang", "fr")
            await expect(page.get_by_role("heading", level=1)).to_have_text(FR["recorded_title"])
            await expect(page.get_by_text(FR["recorded_intro"])).to_be_visible()
            await expect(page.get_by_text(FR["recorded_nothing_else"])).to_be_visible()
            await page.screenshot(path=str(tmp_path / "recorded.png"), full_page=True)
            # the pages' own <style> must not be refused by their Content-Security-Policy
            assert not [m for m in console if "Content Security Policy" in m], console
        finally:
            await browser.close()

    exclusions = await read_topic(
        names.TOPIC_EXCLUSIONS, until=lambda rs: len(rs) >= 1, timeout=15, settle=0.1
    )
    assert [r.key for r in exclusions] == [b"camille"]
    assert exclusions[0].json["user_id"] == "camille"
    assert exclusions[0].json["purposes"] == ["ai-training"]
    assert exclusions[0].json["reasons"] == {"ai-training": "objection"}
