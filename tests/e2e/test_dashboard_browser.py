"""The compliance dashboard in a real headless Chromium, with a real campaign behind it.

The page loads with the admin token, shows the campaign and the numbers the
SMTP catcher can confirm, and a screenshot is saved with the test's output
(``dashboard.png`` in the test's ``tmp_path``, whose path the test prints).
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.async_api import async_playwright

from streams import topic_names as names
from tests import examples
from tests.e2e.test_objection_browser import CHROMIUM_ARGS, chromium  # noqa: F401
from tests.support.kafka import produce
from tests.support.mail import received
from tests.support.worker import WorkerProcess

CID = "purpose:ai-training:v1"


async def test_dashboard_shows_the_campaign_with_the_right_numbers(
    smtp_worker: WorkerProcess,
    mail_dir: Path,
    worker_env: dict[str, str],
    tmp_path: Path,
    chromium: str,  # noqa: F811
) -> None:
    users = [
        examples.user_upserted(
            user_id=f"dash-{i}",
            email=None if i == 0 else f"dash{i}@example.com",
            country="IT",
            locale="it",
            birth_year=1980,
        )
        for i in range(7)
    ]
    await produce(
        names.TOPIC_USERS, [(u["user_id"].encode(), json.dumps(u).encode()) for u in users]
    )
    now = datetime.now(UTC)
    purpose = examples.purpose_declared(
        published_at=now.isoformat(), starts_at=(now + timedelta(days=45)).isoformat()
    )
    await produce(names.TOPIC_PURPOSES, [(b"ai-training", json.dumps(purpose).encode())])
    assert len(received(mail_dir, 6)) == 6

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = await browser.new_context(
                extra_http_headers={"Authorization": f"Bearer {worker_env['PREAVIS_ADMIN_TOKEN']}"},
                viewport={"width": 1280, "height": 1600},
            )
            page = await context.new_page()
            deadline = time.monotonic() + 60
            while True:  # until the worker's board has folded the whole campaign
                response = await page.goto(f"{smtp_worker.url}/dashboard")
                assert response is not None and response.status == 200
                text = await page.inner_text("body")
                if "completed" in text.lower() or time.monotonic() > deadline:
                    break
                await asyncio.sleep(1)
            screenshot = tmp_path / "dashboard.png"
            await page.screenshot(path=str(screenshot), full_page=True)
            print(f"dashboard screenshot: {screenshot}")
            summary_row = await page.inner_text("table tr:has-text('" + CID + "')")
        finally:
            await browser.close()
    assert CID in text
    assert "completed" in summary_row.lower()
    numbers = summary_row.split()
    assert "7" in numbers and "6" in numbers  # audience 7, sent 6 (one without an address)
    assert screenshot.stat().st_size > 10_000
