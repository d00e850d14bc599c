"""A short sitting played on four screens at once: chair, two delegates, the gallery."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Hub, Screens, ms

pytestmark = pytest.mark.browser

CHAIR, D1, D2 = "db01", "db04", "db05"
D1_NAME, D2_NAME = "Phạm Thị Dung", "Hoàng Văn Em"
# Members checked in by the operator over HTTP (with the two delegates: 21 of 30 present).
OTHERS = ["db01", "db02", "db03", *[f"db{i:02d}" for i in range(6, 22)]]


def countdown_seconds(page: Page) -> int:
    text = page.locator("[data-testid=countdown]").first.inner_text()
    m = re.match(r"−?(\d+):(\d\d)", text)
    assert m, text
    return int(m.group(1)) * 60 + int(m.group(2))


def ticks(page: Page) -> None:
    """The countdown visibly runs: it shows less time a little later."""
    first = countdown_seconds(page)
    time.sleep(1.6)
    assert countdown_seconds(page) < first


def confirm(page: Page) -> None:
    page.locator("dialog[open] button.danger").click()
    expect(page.locator("dialog[open]")).to_have_count(0)


WORDS = {
    "vi": {
        "scheduled": "Chưa khai mạc",
        "opened": "Đã khai mạc",
        "in_session": "Đang họp",
        "closed": "Đã bế mạc",
        "check_in": "Điểm danh",
        "in_hall": "Có mặt tại hội trường",
        "open": "Khai mạc",
        "start": "Bắt đầu làm việc",
        "close_sitting": "Bế mạc",
        "quorum0": "0/30 (cần 20)",
        "quorum21": "21/30 (cần 20)",
        "quorate": "Đủ số lượng",
        "request": "Đăng ký: Thảo luận",
        "place1": "Thảo luận: thứ 1 trong 2 lượt đăng ký",
        "place2": "Thảo luận: thứ 2 trong 2 lượt đăng ký",
        "speaking": "Bạn đang phát biểu (Thảo luận)",
        "item_debate": "Thảo luận và chất vấn",
        "item_resolution": "Xem xét, thông qua các nghị quyết",
        "approve": "Tán thành",
        "reject": "Không tán thành",
        "voted": "Bạn đã biểu quyết",
        "ballots0": "0/21 đại biểu có mặt đã biểu quyết",
        "ballots18": "18/21 đại biểu có mặt đã biểu quyết",
        "named_verdict": "17/30 đại biểu tán thành; cần quá nửa tổng số đại biểu (16): THÔNG QUA",
        "secret_verdict": (
            "12/30 đại biểu tán thành; cần ít nhất hai phần ba tổng số đại biểu (20): "
            "KHÔNG THÔNG QUA"
        ),
        "your_ballot": "Phiếu của bạn: Tán thành",
        "page2": "trang 2/3",
        "link_down": "Mất kết nối — đang kết nối lại…",
    },
    "en": {
        "scheduled": "Not yet opened",
        "opened": "Opened",
        "in_session": "In session",
        "closed": "Closed",
        "check_in": "Check in",
        "in_hall": "Present in the hall",
        "open": "Open the sitting",
        "start": "Begin business",
        "close_sitting": "Close the sitting",
        "quorum0": "0/30 (20 needed)",
        "quorum21": "21/30 (20 needed)",
        "quorate": "Quorate",
        "request": "Ask: Contribution",
        "place1": "Contribution: number 1 of 2 requests",
        "place2": "Contribution: number 2 of 2 requests",
        "speaking": "You have the floor (Contribution)",
        "item_debate": "Thảo luận và chất vấn",
        "item_resolution": "Xem xét, thông qua các nghị quyết",
        "approve": "In favour (tán thành)",
        "reject": "Against (không tán thành)",
        "voted": "You have voted",
        "ballots0": "0 of 21 members present have voted",
        "ballots18": "18 of 21 members present have voted",
        "named_verdict": (
            "17 of 30 seats voted in favour (tán thành); "
            "more than half of the total seats (16) needed: PASSED"
        ),
        "your_ballot": "Your ballot: In favour (tán thành)",
    },
}


def vote_on(page: Page, option: str, w: dict[str, str]) -> None:
    page.locator(f"[data-testid=vote-{option}]").first.click()
    page.locator("[data-testid=confirm-ballot]").first.click()
    expect(page.locator("[data-testid=my-ballot]").first).to_contain_text(w["voted"])


def play(browser: Any, hub: Hub, shots: Any, lang: str, full: bool) -> None:
    w = WORDS[lang]
    sc = Screens(browser, hub, lang)
    try:
        gallery = sc.open("/gallery/", size=(1920, 1080))
        chair = sc.open("/chair/", user=CHAIR)
        d1 = sc.open("/delegate/", size=(1024, 1366), user=D1)
        d2 = sc.open("/delegate/", size=(1024, 1366), user=D2)
        g_phase = gallery.locator("[data-testid=phase]")
        expect(g_phase).to_have_text(w["scheduled"])
        expect(gallery.locator("[data-testid=quorum-count]")).to_have_text(w["quorum0"])
        expect(gallery.locator("html")).to_have_attribute("lang", lang)

        # Attendance: the two delegates check in on their tablets, the operator the rest.
        for d in (d1, d2):
            d.locator("[data-testid=check-in]").click()
            expect(d.locator("[data-testid=my-presence]")).to_have_text(w["in_hall"])
        hub.check_in(*OTHERS)
        expect(gallery.locator("[data-testid=quorum-count]")).to_have_text(w["quorum21"])
        expect(gallery.locator("[data-testid=quorum]")).to_contain_text(w["quorate"])
        expect(chair.locator("[data-testid=quorum-count]")).to_have_text(w["quorum21"])

        # Khai mạc, then business.
        chair.get_by_role("button", name=w["open"], exact=True).click()
        expect(g_phase).to_have_text(w["opened"])
        expect(d1.locator("[data-testid=phase]")).to_have_text(w["opened"])
        chair.get_by_role("button", name=w["start"]).click()
        expect(g_phase).to_have_text(w["in_session"])
        chair.locator("[data-testid=move-thao-luan]").click()
        expect(gallery.locator("[data-testid=g-item]")).to_contain_text(w["item_debate"])
        expect(d2.locator("[data-testid=current-item]")).to_have_text(w["item_debate"])
        if full:
            shots(chair, f"chair-{lang}-in-session", full=True)

        # A speaker turn with its countdown.
        d1.get_by_role("button", name=w["request"]).click()
        expect(d1.locator("[data-testid=my-request]")).to_contain_text("1")
        d2.get_by_role("button", name=w["request"]).click()
        expect(d1.locator("[data-testid=my-request]")).to_have_text(
            re.compile(re.escape(w["place1"]))
        )
        expect(d2.locator("[data-testid=my-request]")).to_have_text(
            re.compile(re.escape(w["place2"]))
        )
        expect(chair.locator("[data-testid=queue]")).to_contain_text(D1_NAME)
        expect(gallery.locator("[data-testid=g-next]")).to_contain_text(D1_NAME)
        chair.keyboard.press("n")  # N = next speaker
        expect(d1.locator("[data-testid=my-turn]")).to_contain_text(w["speaking"])
        expect(gallery.locator("[data-testid=g-speaker]")).to_contain_text(D1_NAME)
        expect(gallery.locator("[data-testid=g-next]")).to_contain_text(D2_NAME)
        expect(d2.locator("[data-testid=now-speaking]")).to_contain_text(D1_NAME)
        ticks(gallery)
        ticks(d1)
        ticks(chair)
        assert 6 * 60 < countdown_seconds(gallery) <= 7 * 60
        if full:
            chair.get_by_role("button", name="+1").first.click()
            expect(gallery.locator("[data-testid=countdown]")).to_have_text(
                re.compile(r"^7:[4-5]\d|^8:00")
            )
            shots(gallery, f"gallery-{lang}-speaker")
            shots(d1, f"delegate-{lang}-speaking")
        chair.keyboard.press("e")  # E = end turn, after a confirmation
        confirm(chair)
        expect(d1.locator("[data-testid=my-turn]")).to_have_count(0)
        expect(gallery.locator("[data-testid=g-speaker]")).to_have_count(0)

        # A named vote on the resolution.
        chair.locator("[data-testid=move-nghi-quyet]").click()
        expect(gallery.locator("[data-testid=g-item]")).to_contain_text(w["item_resolution"])
        chair.locator("[data-testid=open-vote]").click()
        expect(gallery.locator("[data-testid=g-ballots]")).to_have_text(w["ballots0"])
        vote_on(d1, "approve", w)
        expect(d1.locator("[data-testid=my-ballot]")).to_contain_text(w["approve"])
        vote_on(d2, "reject", w)
        vote_on(chair, "approve", w)  # the chair votes as a delegate
        for i in range(6, 21):
            answer = hub.command(
                f"db{i:02d}", {"type": "vote.cast", "vote": vote_id(hub), "choice": "approve"}
            )
            assert answer.get("ok"), answer
        expect(gallery.locator("[data-testid=g-ballots]")).to_have_text(w["ballots18"])
        expect(chair.locator("[data-testid=c-ballots]")).to_have_text(w["ballots18"])
        expect(chair.locator("[data-testid=not-voted]")).to_contain_text("Lê Hoàng Cường")
        expect(chair.locator("[data-testid=running-counts]")).to_contain_text("17")
        g_vote = gallery.locator("[data-testid=g-vote]")
        expect(g_vote).not_to_contain_text(w["reject"])  # no choices while open
        if full:
            shots(gallery, f"gallery-{lang}-vote-open")
            shots(chair, f"chair-{lang}-vote-open", full=True)
        chair.keyboard.press("v")  # V = close the vote, after a confirmation
        confirm(chair)
        expect(gallery.locator("[data-testid=verdict]")).to_have_text(w["named_verdict"])
        expect(chair.locator("[data-testid=verdict]")).to_have_text(w["named_verdict"])
        expect(d1.locator("[data-testid=verdict]")).to_have_text(w["named_verdict"])
        expect(d1.locator("[data-testid=my-ballot-after]")).to_have_text(w["your_ballot"])
        shots(gallery, f"gallery-{lang}-result")
        if not full:
            shots(chair, f"chair-{lang}-result", full=True)
            shots(d1, f"delegate-{lang}-result", full=True)
            return

        # A secret vote (dismissal preset: at least two thirds of the seats).
        chair.locator("[data-testid=vote-preset]").select_option("dismissal")
        chair.locator("[data-testid=open-vote]").click()
        confirm(chair)  # the motion has just passed: a second vote on it asks first
        expect(gallery.locator("[data-testid=g-ballots]")).to_have_text(w["ballots0"])
        vote_on(d1, "approve", w)
        expect(d1.locator("[data-testid=my-ballot]")).to_contain_text(w["approve"])
        vote_on(d2, "reject", w)
        vid = vote_id(hub)
        for i in range(6, 17):
            hub.command(f"db{i:02d}", {"type": "vote.cast", "vote": vid, "choice": "approve"})
        expect(chair.locator("[data-testid=c-ballots]")).to_contain_text("13")
        expect(chair.locator("[data-testid=running-counts]")).to_have_count(0)
        expect(chair.locator("[data-testid=not-voted]")).to_have_count(0)
        shots(d1, f"delegate-{lang}-secret-voted", full=True)
        chair.locator("[data-testid=close-vote]").click()
        confirm(chair)
        expect(gallery.locator("[data-testid=verdict]")).to_have_text(w["secret_verdict"])
        expect(chair.locator("[data-testid=verdict]")).to_have_text(w["secret_verdict"])
        expect(d1.locator("[data-testid=my-ballot-after]")).to_have_text(w["your_ballot"])
        shots(gallery, f"gallery-{lang}-secret-result")

        # A document presented at a page; the delegate's tablet follows.
        chair.locator("[data-testid=present-doc]").first.click()
        viewer = d1.locator("[data-testid=doc-viewer]")
        expect(viewer).to_have_attribute("data-page", "1")
        expect(viewer).to_have_attribute("data-state", "ok", timeout=ms(15))
        chair.locator("[data-testid=doc-next]").click()
        expect(viewer).to_have_attribute("data-page", "2")
        expect(viewer).to_contain_text(w["page2"])
        expect(gallery.locator("[data-testid=g-doc] [data-testid=doc-viewer]")).to_have_attribute(
            "data-page", "2"
        )
        expect(gallery.locator("[data-testid=doc-viewer]")).to_have_attribute(
            "data-state", "ok", timeout=ms(15)
        )
        shots(d1, f"delegate-{lang}-document", full=True)
        shots(gallery, f"gallery-{lang}-document")
        shots(chair, f"chair-{lang}-document", full=True)

        # Bế mạc.
        chair.get_by_role("button", name=w["close_sitting"]).click()
        confirm(chair)
        expect(g_phase).to_have_text(w["closed"])
        expect(d1.locator("[data-testid=phase]")).to_have_text(w["closed"])
        expect(chair.locator("[data-testid=phase]")).to_have_text(w["closed"])
        shots(gallery, f"gallery-{lang}-closed")
        assert not sc.errors, sc.errors
    finally:
        sc.close()


def vote_id(hub: Hub) -> str:
    state = hub.http("GET", f"/api/sittings/{hub.sitting}")
    open_votes = [v for v in state["votes"].values() if v["status"] == "open"]
    assert len(open_votes) == 1
    return str(open_votes[0]["id"])


def test_sitting_in_vietnamese(browser: Any, hub: Hub, shots: Any) -> None:
    play(browser, hub, shots, "vi", full=True)


def test_sitting_in_english(browser: Any, hub: Hub, shots: Any) -> None:
    play(browser, hub, shots, "en", full=False)
