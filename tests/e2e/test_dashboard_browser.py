"""A person signs in to the compliance dashboard in a real headless Chromium.

No header is injected: the browser opens ``/dashboard``, is sent to the
sign-in page, the person types a wrong token (and is told so), then the
compliance team's read-only token, and lands on the dashboard, which shows
the campaign and the numbers the SMTP catcher can confirm. The session
cookie the browser keeps is HttpOnly and SameSite=Strict; signing out ends
it. Screenshots (``signin.png``, ``dashboard.png``) are saved in the test's
``tmp_path``, whose path the test prints.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect

from notifications import topic_names as names
from tests import examples
from tests.e2e.test_objection_browser import CHROMIUM_ARGS, chromium  # noqa: F401
from tests.support.kafka import produce
from tests.support.mail import received
from tests.support.worker import WorkerProcess

CID = "purpose:ai-training:v1"


@pytest.fixture
def worker_env(worker_env: dict[str, str]) -> dict[str, str]:
    """The integration environment with the compliance team's read-only token."""
    return {**worker_env, "PREAVIS_COMPLIANCE_TOKEN": "test-compliance-" + uuid.uuid4().hex}


async def test_a_person_signs_in_and_sees_the_campaign_with_the_right_numbers(
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
            context = await browser.new_context(viewport={"width": 1280, "height": 1600})
            page = await context.new_page()
            await page.goto(f"{smtp_worker.url}/dashboard")
            assert page.url == f"{smtp_worker.url}/signin"  # sent to sign in
            await expect(page.get_by_role("heading", level=1)).to_have_text(
                "Sign in to the compliance dashboard"
            )
            token_field = page.get_by_label("Access token")
            sign_in = page.get_by_role("button", name="Sign in")

            await token_field.press_sequentially("not-the-token", delay=5)
            await sign_in.click()
            await expect(page.get_by_role("alert")).to_have_text("That token is not right.")
            await expect(token_field).to_have_attribute("aria-invalid", "true")
            assert not await context.cookies()

            await token_field.press_sequentially(worker_env["PREAVIS_COMPLIANCE_TOKEN"], delay=5)
            signin_shot = tmp_path / "signin.png"
            await page.screenshot(path=str(signin_shot), full_page=True)
            async with page.expect_navigation(url=f"{smtp_worker.url}/dashboard"):
                await sign_in.click()
            [cookie] = await context.cookies()
            assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
            assert cookie["expires"] > time.time() + 25 * 60  # 30 minutes by default

            deadline = time.monotonic() + 60
            while True:  # until the worker's board has folded the whole campaign
                text = await page.inner_text("body")
                if "completed" in text.lower() or time.monotonic() > deadline:
                    break
                await asyncio.sleep(1)
                response = await page.reload()
                assert response is not None and response.status == 200
                assert page.url == f"{smtp_worker.url}/dashboard"  # still signed in
            screenshot = tmp_path / "dashboard.png"
            await page.screenshot(path=str(screenshot), full_page=True)
            print(f"screenshots: {signin_shot} {screenshot}")
            summary_row = await page.inner_text("table tr:has-text('" + CID + "')")

            # signing out ends the session: the dashboard sends the person back
            await page.goto(f"{smtp_worker.url}/signout")
            await page.get_by_role("button", name="Sign out").click()
            await expect(page.get_by_role("status")).to_have_text("You are signed out.")
            assert not await context.cookies()
            await page.goto(f"{smtp_worker.url}/dashboard")
            assert page.url == f"{smtp_worker.url}/signin"
        finally:
            await browser.close()
    assert CID in text
    assert "completed" in summary_row.lower()
    numbers = summary_row.split()
    assert "7" in numbers and "6" in numbers  # audience 7, sent 6 (one without an address)
    assert screenshot.stat().st_size > 10_000
