"""Results as councils read them (ui/results.tsx) on the chair's and a delegate's console:
while a named vote is open, a live tally bar with the number needed marked on it; once it
closes, the verdict as a headline, each count with its share of the total seats and of
those present, who was present and did not vote, who was absent, and when it closed.
Every figure is the hub's (chamber/figures.py). English labels are long: they wrap in
their own cell and never run over a bar, at 1366×768 and at 1920×1080. The operator's
schedule form sets whether the hall sees the running count."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Hub, Screens
from tests.browser.test_vote_setup import CHAIR, D1, PRESENT, in_session, open_vote

pytestmark = pytest.mark.browser

SIZES = [(1366, 768), (1920, 1080)]
CELLS = ["rs-label", "rs-count", "rs-bar", "rs-share"]


def boxes_apart(page: Page) -> int:
    """Every result row's cells (label, count, bar, shares) lie apart: no two boxes meet.
    Returns the number of rows checked."""
    rows = page.locator("[data-testid^=rs-row-]")
    count = rows.count()
    for i in range(count):
        row = rows.nth(i)
        boxes = {}
        for cell in CELLS:
            box = row.locator(f"[data-testid={cell}]").bounding_box()
            assert box is not None and box["width"] > 0 and box["height"] > 0, cell
            boxes[cell] = box
        for a_i, a in enumerate(CELLS):
            for b in CELLS[a_i + 1 :]:
                p, q = boxes[a], boxes[b]
                apart = (
                    p["x"] + p["width"] <= q["x"] + 0.5
                    or q["x"] + q["width"] <= p["x"] + 0.5
                    or p["y"] + p["height"] <= q["y"] + 0.5
                    or q["y"] + q["height"] <= p["y"] + 0.5
                )
                assert apart, (i, a, b, p, q)
        label, bar = boxes["rs-label"], boxes["rs-bar"]
        assert label["x"] + label["width"] <= bar["x"] + 0.5, (label, bar)
    return count


def mark_at(page: Page, needed: int, seats: int) -> None:
    """The needed marker stands at needed / seats of the approving bar."""
    row = page.locator("[data-testid=rs-row-approve]").first
    bar = row.locator("[data-testid=rs-bar]").bounding_box()
    mark = row.locator("[data-testid=rs-mark]").bounding_box()
    assert bar is not None and mark is not None
    centre = mark["x"] + mark["width"] / 2
    assert abs(centre - (bar["x"] + bar["width"] * needed / seats)) <= 3, (bar, mark)


def test_a_named_vote_to_its_result(browser: Any, hub: Hub, shots: Any) -> None:
    motion = in_session(hub)  # 21 of the 30 seats present
    sc = Screens(browser, hub, lang="en")
    try:
        chair = sc.open("/chair/", user=CHAIR, size=SIZES[0])
        d1 = sc.open("/delegate/", user=D1, size=SIZES[0])
        assert hub.command(CHAIR, {"type": "vote.open", "motion": motion}).get("ok")
        vote = open_vote(hub)["id"]
        choices = ["approve"] * 12 + ["reject"] * 4 + ["abstain"] * 2
        for member, choice in zip(PRESENT[3:], choices, strict=True):  # 18 of 21 vote
            answer = hub.command(member, {"type": "vote.cast", "vote": vote, "choice": choice})
            assert answer.get("ok"), answer

        # Open: the running count (shown to the hall by default), the needed marker at 16/30.
        for page in (chair, d1):
            results = page.locator("[data-testid=results]")
            expect(results.locator("[data-testid=rs-headline]")).to_have_attribute(
                "data-verdict", "open"
            )
            expect(results.locator("[data-testid=rs-voted]")).to_have_text(
                "Voted: 18 of 21 present"
            )
            expect(
                results.locator("[data-testid=rs-row-approve] [data-testid=rs-count]")
            ).to_have_text("12")
            expect(results.locator("[data-testid=rs-needed]")).to_contain_text("16 votes")
            expect(results.locator("[data-testid=rs-mark]")).to_have_count(1)
            mark_at(page, 16, 30)
            assert boxes_apart(page) == 3
        shots(d1, "results-en-open-delegate")

        assert hub.command(CHAIR, {"type": "vote.close", "vote": vote}).get("ok")
        for page in (chair, d1):
            results = page.locator("[data-testid=results]")
            headline = results.locator("[data-testid=rs-headline]")
            expect(headline).to_have_text("NOT PASSED")
            expect(headline).to_have_attribute("data-verdict", "failed")
            share = results.locator("[data-testid=rs-row-approve] [data-testid=rs-share]")
            expect(share).to_have_text("40.00% of all seats · 57.14% of those present")
            reject = results.locator("[data-testid=rs-row-reject] [data-testid=rs-share]")
            expect(reject).to_have_text("13.33% of all seats · 19.05% of those present")
            expect(results.locator("[data-testid=rs-not-voted]")).to_have_text(
                "Present, not voting: 3"
            )
            expect(results.locator("[data-testid=rs-absent]")).to_have_text("Absent: 9")
            expect(results.locator("[data-testid=rs-total]")).to_have_text(
                "Total seats: 30; present: 21"
            )
            expect(results.locator("[data-testid=rs-closed-at]")).to_have_text(
                re.compile(r"^Closed at \d\d/\d\d/\d{4}, \d\d:\d\d$")
            )
            expect(results.locator("[data-testid=verdict]")).to_contain_text("NOT PASSED")
            mark_at(page, 16, 30)
            for size in SIZES:
                page.set_viewport_size({"width": size[0], "height": size[1]})
                assert boxes_apart(page) == 3
                label = page.locator("[data-testid=rs-row-reject] [data-testid=rs-label]")
                expect(label).to_have_text("Against (không tán thành)")
        shots(chair, "results-en-closed-chair-1920")
        shots(d1, "results-en-closed-delegate-1920")

        # In Vietnamese: the date as dd/mm/yyyy, 24-hour, and the shares with a comma.
        d1.get_by_role("button", name="Tiếng Việt").first.click()
        results = d1.locator("[data-testid=results]")
        expect(results.locator("[data-testid=rs-headline]")).to_have_text("KHÔNG THÔNG QUA")
        expect(results.locator("[data-testid=rs-closed-at]")).to_have_text(
            re.compile(r"^Kết thúc lúc \d\d/\d\d/\d{4} \d\d:\d\d$")
        )
        expect(results.locator("[data-testid=rs-row-approve] [data-testid=rs-share]")).to_have_text(
            "40,00 % tổng số · 57,14 % có mặt"
        )
        assert sc.errors == []
    finally:
        sc.close()


def test_the_schedule_form_sets_the_hall_running_count(browser: Any, hub: Hub) -> None:
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        page = ctx.new_page()
        page.goto(hub.url("/operator/?lang=en"))
        page.fill("input[name=username]", "vanhanh")
        page.fill("input[name=password]", hub.passwords["vanhanh"])
        page.click("button[type=submit]")
        page.get_by_role("tab", name="Sittings and agendas").click()
        box = page.locator("[data-testid=op-hall-running-count]")
        expect(box).to_be_checked()
        box.uncheck()
        page.locator("#sitting-title").fill("Kỳ họp chuyên đề")
        before = {s["id"] for s in hub.http("GET", "/api/sittings")}
        page.get_by_role("button", name="Create").click()
        new: set[str] = set()
        for _ in range(50):
            new = {s["id"] for s in hub.http("GET", "/api/sittings")} - before
            if new:
                break
            page.wait_for_timeout(100)
        assert len(new) == 1
        state = hub.http("GET", f"/api/sittings/{new.pop()}")
        assert state["rules"]["hall_running_count"] is False
        assert "hall_running_count" not in hub.http("GET", f"/api/sittings/{hub.sitting}")["rules"]
    finally:
        ctx.close()
