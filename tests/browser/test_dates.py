"""Dates and times follow the console's language, not the browser's locale: in a browser
set up in American English (en-US, whose own format is 12/1/2026, 10:05:00 AM), the
operator's console shows 10:05 ngày 01/12/2026 in Vietnamese and 1 Dec 2026, 10:05 in
English, and the gallery's clock date dd/mm/yyyy or 1 Dec 2026 by its URL."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.browser.conftest import Hub, ms

ZONE = "Asia/Ho_Chi_Minh"


def words(when: datetime) -> dict[str, str]:
    hm = f"{when.hour:02d}:{when.minute:02d}"
    month = when.strftime("%b")
    return {
        "vi": f"{hm} ngày {when.day:02d}/{when.month:02d}/{when.year}",
        "en": f"{when.day} {'Sept' if month == 'Sep' else month} {when.year}, {hm}",
    }


def test_dates_in_the_chosen_language_in_an_en_us_browser(browser: Any, hub: Hub) -> None:
    ctx = browser.new_context(
        locale="en-US", timezone_id=ZONE, viewport={"width": 1440, "height": 900}
    )
    try:
        page = ctx.new_page()
        page.set_default_timeout(ms(8))
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        assert page.evaluate("navigator.language") == "en-US"

        sitting = next(x for x in hub.http("GET", "/api/sittings") if x["id"] == hub.sitting)
        at = sitting["scheduled_at"]
        expected = words(datetime.fromtimestamp(at / 1000, ZoneInfo(ZONE)))
        browser_own = page.evaluate(f"new Date({at}).toLocaleString()")
        assert re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}, \d{1,2}:\d{2}:\d{2} [AP]M", browser_own)

        page.goto(hub.url("/operator/"))
        page.fill("input[name=username]", "vanhanh")
        page.fill("input[name=password]", hub.passwords["vanhanh"])
        page.click("button[type=submit]")
        page.get_by_role("tab", name="Kỳ họp và chương trình").click()
        cell = page.locator("tr", has_text=hub.sitting).locator("[data-testid=scheduled-at]")
        expect(cell).to_have_text(expected["vi"])
        page.get_by_role("button", name="English").first.click()
        expect(page.get_by_role("tab", name="Sittings and agendas")).to_be_visible()
        expect(cell).to_have_text(expected["en"])
        assert browser_own not in (expected["vi"], expected["en"])

        # The gallery's wall clock: the date in the language its URL chose.
        page.goto(hub.url(f"/gallery/?sitting={hub.sitting}"))
        expect(page.locator("html")).to_have_attribute("lang", "vi")
        expect(page.locator("[data-testid=g-date]")).to_have_text(
            re.compile(r"^\d{2}/\d{2}/\d{4}$")
        )
        expect(page.locator("[data-testid=g-clock]")).to_have_text(re.compile(r"^\d{2}:\d{2}$"))
        page.goto(hub.url(f"/gallery/?sitting={hub.sitting}&lang=en"))
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("[data-testid=g-date]")).to_have_text(
            re.compile(r"^\d{1,2} [A-Z][a-z]{2,3} \d{4}$")
        )
        expect(page.locator("[data-testid=g-clock]")).to_have_text(re.compile(r"^\d{2}:\d{2}$"))
        assert not errors, errors
    finally:
        ctx.close()
