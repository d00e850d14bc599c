"""The public result pages in Chromium, without a login: while a named vote is open the
page shows the vote as in progress and nobody's choice (not even the ballots cast); once
it closes, the result, the verdict and the roll call. Readable on a phone; no CSP
violation (the autouse fixture); screenshots in artifacts/screenshots/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SHOTS, Hub, ms

pytestmark = pytest.mark.browser

CHAIR = "db01"
PRESENT = [f"db{i:02d}" for i in range(1, 22)]  # 21 of the 30 seats


def test_public_pages_never_show_an_open_votes_choice(hub: Hub, browser: object) -> None:
    hub.check_in(*PRESENT)
    for cmd in (
        {"type": "sitting.open"},
        {"type": "sitting.start"},
        {"type": "agenda.move", "item": "nghi-quyet"},
    ):
        assert hub.command(CHAIR, cmd).get("ok")
    state = hub.http("GET", f"/api/sittings/{hub.sitting}")
    motion = next(iter(state["motions"]))
    assert hub.command(CHAIR, {"type": "vote.open", "motion": motion}).get("ok")
    state = hub.http("GET", f"/api/sittings/{hub.sitting}")
    vote = next(v for v in state["votes"].values() if v["status"] == "open")["id"]
    for n, member in enumerate(PRESENT[:18]):
        choice = "approve" if n < 15 else "reject"
        answer = hub.command(member, {"type": "vote.cast", "vote": vote, "choice": choice})
        assert answer.get("ok"), answer

    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN")  # type: ignore[attr-defined]
    try:
        page = ctx.new_page()
        page.set_default_timeout(ms(8))
        page.goto(hub.url("/results/"))
        page.get_by_role("link", name="Hội đồng nhân dân phường Bến Thành").click()
        page.get_by_role("link", name="Kỳ họp thường lệ cuối năm 2025").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Kỳ họp thường lệ cuối năm 2025")
        expect(page.get_by_text("Đang biểu quyết: kết quả chưa được công bố.")).to_be_visible()
        body = page.locator("main").inner_text()
        for hidden in ("Tán thành", "Không tán thành", "THÔNG QUA", "theo từng đại biểu"):
            assert hidden not in body, hidden
        assert page.locator("table.result").count() == 0
        # A phone's width: nothing wider than the screen but the scrolling tables.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "public-sitting-vote-open.png"), full_page=True)

        assert hub.command(CHAIR, {"type": "vote.close", "vote": vote}).get("ok")
        page.reload()
        verdict = "15/30 đại biểu tán thành; cần quá nửa tổng số đại biểu (16): KHÔNG THÔNG QUA"
        expect(page.get_by_text(verdict)).to_be_visible()
        expect(page.locator("table.result")).to_have_count(1)
        page.get_by_text("Kết quả biểu quyết theo từng đại biểu").click()
        roll = page.locator("details table").last
        expect(roll.locator("tbody tr")).to_have_count(18)
        expect(roll.locator("tbody tr").first).to_contain_text("Nguyễn Văn An")
        expect(roll.locator("tbody tr").first).to_contain_text("Tán thành")
        page.get_by_role("link", name="English").click()
        expect(page.get_by_role("heading", name="Votes")).to_be_visible()
        page.screenshot(path=str(SHOTS / "public-sitting-vote-closed.en.png"), full_page=True)
        # Printable: the downloads bar is not printed.
        page.emulate_media(media="print")
        expect(page.locator("nav.downloads")).to_be_hidden()
    finally:
        ctx.close()


def test_the_chair_downloads_the_minutes_from_the_console(hub: Hub, browser: object) -> None:
    from tests.browser.conftest import open_page

    ctx, page = open_page(browser, hub, "/chair/", user=CHAIR)
    try:
        links = page.get_by_role("navigation", name="Hồ sơ kỳ họp")
        expect(links.get_by_role("link", name="Kết quả")).to_have_attribute(
            "href", f"/results/sittings/{hub.sitting}?lang=vi"
        )
        expect(links.get_by_role("link", name="Dữ liệu mở")).to_have_attribute(
            "href", f"/api/sittings/{hub.sitting}/votes.json"
        )
        with page.expect_download() as download:
            links.get_by_role("link", name="Biên bản").click()
        path = download.value.path()
        assert download.value.suggested_filename == f"{hub.sitting}.bien-ban.vi.pdf"
        with open(path, "rb") as pdf:
            assert pdf.read(5) == b"%PDF-"
    finally:
        ctx.close()
