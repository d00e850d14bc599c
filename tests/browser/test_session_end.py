"""A session that ends on the hub ends on the screen: the console goes back to its login."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Hub, ms, open_page

pytestmark = pytest.mark.browser


def test_a_password_reset_sends_the_open_console_back_to_its_login(browser: Any, hub: Hub) -> None:
    ctx, page = open_page(browser, hub, "/delegate/", user="db04", size=(1024, 1366))
    try:
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        reset = hub.http(
            "POST", "/api/members/db04/login", {"username": "db04"}, hub.token("vanhanh")
        )
        assert reset.get("password"), reset
        # The hub closes the socket (4401) within a second; the console asks to log in
        # again instead of reconnecting with a token that no longer works.
        expect(page.locator("input[name=username]")).to_be_visible(timeout=ms(5))
        page.wait_for_timeout(ms(1))
        expect(page.locator("input[name=username]")).to_be_visible()
        stored = page.evaluate("JSON.stringify(window.localStorage)")
        assert reset["password"] not in stored
        assert errors == []
    finally:
        ctx.close()
