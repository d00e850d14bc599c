"""Elections and confidence polls from the consoles, and the confirmations that guard a
second vote: the chair sets up and opens them, delegates cast their ballots in their own
browsers (the rest over the HTTP API, to reach the seats the law counts), the chair closes,
and chair, gallery and delegate show the core's result: elected / not elected, a tie at the
last seat as a tie, the three ratings per official with their shares of the total seats."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Hub, Screens
from tests.browser.test_accessibility import Audit

pytestmark = pytest.mark.browser

CHAIR, D1, D2, D3 = "db01", "db04", "db05", "db06"
CUONG, MAI = "Lê Hoàng Cường", "Phan Thị Mai"


def member(i: int) -> str:
    return f"db{i:02d}"


def in_session(hub: Hub, present: int, item: str = "bau-cu") -> None:
    """``present`` members checked in, the sitting under way on ``item``."""
    hub.check_in(*(member(i) for i in range(1, present + 1)))
    for cmd in (
        {"type": "sitting.open"},
        {"type": "sitting.start"},
        {"type": "agenda.move", "item": item},
    ):
        answer = hub.command(CHAIR, cmd)
        assert answer.get("ok"), answer


def state(hub: Hub) -> dict[str, Any]:
    result: dict[str, Any] = hub.http("GET", f"/api/sittings/{hub.sitting}")
    return result


def only_open_vote(hub: Hub) -> dict[str, Any]:
    votes = [v for v in state(hub)["votes"].values() if v["status"] == "open"]
    assert len(votes) == 1, votes
    return dict(votes[0])


def cast(hub: Hub, who: str, vote: str, answers: dict[str, str]) -> None:
    answer = hub.command(who, {"type": "vote.cast", "vote": vote, "answers": answers})
    assert answer.get("ok"), (who, answer)


def record_commands(page: Page, sent: list[dict[str, Any]]) -> None:
    """Append every command the page sends over its socket to ``sent``."""

    def on_frame(payload: Any) -> None:
        if isinstance(payload, str):
            frame = json.loads(payload)
            if frame.get("t") == "cmd":
                sent.append(frame["cmd"])

    page.on("websocket", lambda ws: ws.on("framesent", on_frame))


def add_name(page: Page, testid: str, name: str) -> None:
    page.locator(f"[data-testid={testid}-name]").fill(name)
    page.locator(f"[data-testid={testid}-name]").press("Enter")


def close_from_chair(chair: Page) -> None:
    chair.locator("[data-testid=close-vote]").click()
    chair.locator("dialog[open] button.danger").click()
    expect(chair.locator("dialog[open]")).to_have_count(0)


def audited(audit: Audit) -> None:
    """The accessibility test's checks (contrast, hovered too; accessible names; the
    delegate's target sizes) found nothing on the screens visited."""
    problems = audit.contrast + audit.unknown + audit.names + audit.targets
    assert not problems, "\n".join(problems)
    assert audit.checked > 0 and audit.controls > 0


def row(page: Page, name: str) -> Any:
    return page.locator("[data-testid=e-row]").filter(has_text=name)


def test_election_of_a_vice_chair(browser: Any, hub: Hub, shots: Any) -> None:
    in_session(hub, 21)
    sc = Screens(browser, hub)
    try:
        gallery = sc.open("/gallery/", size=(1920, 1080))
        d1 = sc.open("/delegate/", size=(1024, 1366), user=D1)
        d2 = sc.open("/delegate/", size=(1024, 1366), user=D2)
        d3 = sc.open("/delegate/", size=(1024, 1366), user=D3)
        sent: list[dict[str, Any]] = []
        chair = sc.open(
            "/chair/", user=CHAIR, query="&json=1", setup=lambda page: record_commands(page, sent)
        )

        # The set-up: two candidates (a third added and removed), the order changed.
        chair.locator("[data-testid=setup-kind-election]").check()
        setup = chair.locator("[data-testid=election-setup]")
        expect(setup).to_contain_text("Bỏ phiếu kín")
        expect(chair.locator("[data-testid=e-rule]")).to_contain_text(
            "quá nửa tổng số đại biểu tán thành (16)"
        )
        open_button = chair.locator("[data-testid=open-election]")
        expect(open_button).to_be_disabled()  # nobody on the list yet
        for name in (CUONG, "Tạ Văn Sơn", MAI):
            add_name(chair, "e-candidate", name)
        add_name(chair, "e-candidate", MAI.lower())  # the same name twice is refused
        expect(setup.locator("[role=alert]")).to_contain_text("đã có trong danh sách")
        chair.locator("[data-testid=e-candidate-name]").fill("")
        chair.get_by_role("button", name="Bỏ khỏi danh sách: Tạ Văn Sơn").click()
        chair.get_by_role("button", name=f"Chuyển lên: {MAI}").click()
        expect(chair.locator("[data-testid=e-candidate-item] .e-name")).to_have_text(
            [f"1. {MAI}", f"2. {CUONG}"]
        )
        chair.locator("[data-testid=e-positions]").fill("3")
        expect(chair.locator("[data-testid=e-positions-error]")).to_be_visible()
        expect(open_button).to_be_disabled()
        chair.locator("[data-testid=e-positions]").fill("1")
        expect(open_button).to_be_enabled()
        audit = Audit()
        audit.page(chair, "chair, election setup", "[data-testid=c-vote]")
        shots(chair, "chair-vi-election-setup", full=True)
        open_button.click()

        expect(gallery.locator("[data-testid=g-ballots]")).to_have_text(
            "0/21 đại biểu có mặt đã biểu quyết"
        )
        opened = [c for c in sent if c["type"] == "election.open"]
        assert opened == [
            {
                "type": "election.open",
                "title": "Bầu Phó Chủ tịch Hội đồng nhân dân",
                "positions": 1,
                "candidates": [{"id": "uv1", "label": MAI}, {"id": "uv2", "label": CUONG}],
            }
        ], opened
        vote = only_open_vote(hub)
        assert vote["kind"] == "election" and vote["form"] == "secret"

        # A delegate may keep one name: choosing two is explained and cannot be sent.
        count = d1.locator("[data-testid=e-count]")
        expect(count).to_have_text("Chọn tối đa 1 người; đã chọn 0.")
        d1.locator("[data-testid=e-keep-uv1]").check()
        d1.locator("[data-testid=e-keep-uv2]").check()
        expect(d1.locator("[data-testid=e-too-many]")).to_have_text(
            "Đã chọn 2 người, quá số được bầu (1). Bỏ bớt để gửi phiếu."
        )
        expect(d1.locator("[data-testid=review-ballot]")).to_be_disabled()
        audit.page(d1, "delegate, election ballot", "[data-testid=d-vote]")
        audit.targets_of(d1, "delegate, election ballot")
        shots(d1, "delegate-vi-election-too-many")
        d1.locator("[data-testid=e-keep-uv1]").uncheck()
        d1.locator("[data-testid=review-ballot]").click()
        expect(d1.locator("[data-testid=e-summary]")).to_have_text(CUONG)
        d1.locator("[data-testid=confirm-ballot]").click()
        expect(d1.locator("[data-testid=my-ballot]")).to_contain_text("Bạn đã biểu quyết")
        expect(d1.locator("[data-testid=my-ballot]")).to_contain_text(CUONG)
        # The core refuses such a ballot too, with its reason.
        refused = hub.command(
            member(7),
            {
                "type": "vote.cast",
                "vote": vote["id"],
                "answers": {"uv1": "approve", "uv2": "approve"},
            },
        )
        assert refused.get("code") == "ballot.too_many_approvals", refused
        assert "(1)" in refused["message"], refused

        d2.locator("[data-testid=e-keep-uv1]").check()
        d2.locator("[data-testid=review-ballot]").click()
        d2.locator("[data-testid=confirm-ballot]").click()
        expect(d2.locator("[data-testid=my-ballot]")).to_contain_text(MAI)
        # Striking out every name is a valid ballot.
        d3.locator("[data-testid=review-ballot]").click()
        expect(d3.locator("[data-testid=e-summary]")).to_have_text(
            "Không bầu ai (gạch tên tất cả)."
        )
        d3.locator("[data-testid=confirm-ballot]").click()
        expect(d3.locator("[data-testid=my-ballot]")).to_be_visible()
        # The chair votes from the chair console.
        chair.locator("[data-testid=e-keep-uv2]").check()
        chair.locator("[data-testid=review-ballot]").click()
        chair.locator("[data-testid=confirm-ballot]").click()
        expect(chair.locator("[data-testid=my-ballot]")).to_be_visible()
        # Fourteen more for Cường, one for Mai: 16 of the 30 seats elect, 16 is reached.
        for i in range(7, 21):
            cast(hub, member(i), vote["id"], {"uv1": "strike", "uv2": "approve"})
        cast(hub, member(21), vote["id"], {"uv1": "approve", "uv2": "strike"})
        expect(chair.locator("[data-testid=c-ballots]")).to_have_text(
            "19/21 đại biểu có mặt đã biểu quyết"
        )
        close_from_chair(chair)

        for page in (chair, gallery, d1):
            expect(page.locator("[data-testid=e-headline-elected]")).to_have_text(
                f"Trúng cử: {CUONG}"
            )
            expect(row(page, CUONG).locator("[data-testid=e-status]")).to_have_text("Trúng cử")
            expect(row(page, MAI).locator("[data-testid=e-status]")).to_have_text("Không trúng cử")
            expect(row(page, CUONG)).to_contain_text("53,3 %")
            expect(row(page, MAI)).to_contain_text("6,7 %")
        expect(gallery.locator("[data-testid=e-needed]")).to_have_text(
            "Cần quá nửa tổng số đại biểu: 16/30 đại biểu. Số phiếu thu về: 19."
        )
        expect(gallery.locator("[data-testid=e-headline-tie]")).to_have_count(0)
        audit.page(gallery, "gallery, election result", "[data-testid=g-vote]")
        audit.page(chair, "chair, election result", "[data-testid=c-vote]")
        audit.page(d1, "delegate, election result", "[data-testid=d-vote]")
        audited(audit)
        shots(gallery, "gallery-vi-election-result")
        shots(chair, "chair-vi-election-result", full=True)
        gallery.goto(gallery.url + "&lang=en")  # the wall screen's language is in its URL
        expect(gallery.locator("[data-testid=e-headline-elected]")).to_have_text(
            f"Elected: {CUONG}"
        )
        expect(row(gallery, MAI).locator("[data-testid=e-status]")).to_have_text("Not elected")
        expect(row(gallery, CUONG)).to_contain_text("53.3%")
        shots(gallery, "gallery-en-election-result")
        assert not sc.errors, sc.errors
    finally:
        sc.close()


def test_tie_at_the_last_seat_is_reported_not_broken(browser: Any, hub: Hub, shots: Any) -> None:
    """Two to elect among three: A is approved by 28, B and C by 16 each, both above the 16
    needed; the second seat is a tie the core reports and no console breaks."""
    in_session(hub, 30)
    candidates = [
        {"id": "a", "label": "Nguyễn Văn An"},
        {"id": "b", "label": "Trần Thị Bình"},
        {"id": "c", "label": "Phạm Thị Dung"},
    ]
    answer = hub.command(
        CHAIR,
        {
            "type": "election.open",
            "title": "Bầu hai Ủy viên",
            "positions": 2,
            "candidates": candidates,
        },
    )
    assert answer.get("ok"), answer
    vote = only_open_vote(hub)
    for i in range(1, 31):
        if i <= 28:
            second = "b" if i % 2 else "c"
            answers = {"a": "approve", "b": "strike", "c": "strike", second: "approve"}
        else:
            answers = {"a": "strike", "b": "approve", "c": "approve"}
        cast(hub, member(i), vote["id"], answers)
    assert hub.command(CHAIR, {"type": "vote.close", "vote": vote["id"]}).get("ok")
    result = state(hub)["votes"][vote["id"]]["result"]
    assert result["elected"] == ["a"] and sorted(result["tied"]) == ["b", "c"], result

    sc = Screens(browser, hub)
    try:
        gallery = sc.open("/gallery/", size=(1920, 1080))
        chair = sc.open("/chair/", user=CHAIR)
        for page in (gallery, chair):
            expect(page.locator("[data-testid=e-headline-elected]")).to_have_text(
                "Trúng cử: Nguyễn Văn An"
            )
            expect(page.locator("[data-testid=e-headline-tie]")).to_have_text(
                "Bằng phiếu ở vị trí cuối giữa Trần Thị Bình, Phạm Thị Dung: "
                "không phân định, cần bầu lại"
            )
            for name in ("Trần Thị Bình", "Phạm Thị Dung"):
                expect(row(page, name).locator("[data-testid=e-status]")).to_have_text("Bằng phiếu")
                expect(row(page, name)).to_contain_text("16")
            expect(page.locator("[data-testid=e-row][data-status=elected]")).to_have_count(1)
        shots(gallery, "gallery-vi-election-tie")
        # The next item: the result leaves the wall, and a screen loaded (or reloaded) now
        # does not bring it back. Before: an election has no motion, so a screen that first
        # saw it finished took it for the current item's.
        item = next(i["id"] for i in state(hub)["agenda"] if i["id"] != state(hub)["current_item"])
        assert hub.command(CHAIR, {"type": "agenda.move", "item": item}).get("ok")
        expect(gallery.locator("[data-testid=g-item]")).to_contain_text(
            next(i["title"] for i in state(hub)["agenda"] if i["id"] == item)
        )
        expect(gallery.locator("[data-testid=e-headline-elected]")).to_have_count(0)
        gallery.reload()
        expect(gallery.locator("[data-testid=g-item]")).to_be_visible()
        expect(gallery.locator("[data-testid=phase]")).to_be_visible()
        expect(gallery.locator("[data-testid=e-headline-elected]")).to_have_count(0)
        expect(gallery.locator("[data-testid=e-row]")).to_have_count(0)
        assert not sc.errors, sc.errors
    finally:
        sc.close()


def test_confidence_poll_with_three_ratings(browser: Any, hub: Hub, shots: Any) -> None:
    in_session(hub, 21, item="thao-luan")
    officials = ("Nguyễn Văn Hòa, Chủ tịch UBND phường", "Lê Thị Hương, Phó Chủ tịch UBND phường")
    sc = Screens(browser, hub)
    try:
        gallery = sc.open("/gallery/", size=(1920, 1080))
        d1 = sc.open("/delegate/", size=(1024, 1366), user=D1)
        sent: list[dict[str, Any]] = []
        chair = sc.open(
            "/chair/", user=CHAIR, query="&json=1", setup=lambda page: record_commands(page, sent)
        )
        chair.locator("[data-testid=setup-kind-confidence]").check()
        setup = chair.locator("[data-testid=confidence-setup]")
        expect(setup).to_contain_text("Tín nhiệm cao / Tín nhiệm / Tín nhiệm thấp")
        expect(chair.locator("[data-testid=c-rule]")).to_contain_text("(16)")
        expect(chair.locator("[data-testid=c-rule]")).to_contain_text("(20)")
        for name in officials:
            add_name(chair, "c-official", name)
        shots(chair, "chair-vi-confidence-setup", full=True)
        chair.locator("[data-testid=open-confidence]").click()
        expect(gallery.locator("[data-testid=g-ballots]")).to_be_visible()
        opened = [c for c in sent if c["type"] == "confidence.open"]
        assert len(opened) == 1 and [o["label"] for o in opened[0]["officials"]] == list(
            officials
        ), opened
        vote = only_open_vote(hub)
        assert vote["kind"] == "confidence" and vote["options"] == ["high", "confident", "low"]

        # One rating per official; the ballot is complete only when both are rated.
        review = d1.locator("[data-testid=review-ballot]")
        expect(d1.locator("[data-testid=e-count]")).to_have_text(
            "Đánh giá mỗi người một mức; còn 2 người chưa đánh giá."
        )
        d1.locator("[data-testid=e-rate-cv1-high]").check()
        expect(review).to_be_disabled()
        d1.locator("[data-testid=e-rate-cv2-confident]").check()
        d1.locator("[data-testid=e-rate-cv2-low]").check()  # a change of mind before sending
        audit = Audit()
        audit.page(d1, "delegate, confidence ballot", "[data-testid=d-vote]")
        audit.targets_of(d1, "delegate, confidence ballot")
        shots(d1, "delegate-vi-confidence-ballot")
        review.click()
        expect(d1.locator("[data-testid=e-summary]")).to_contain_text("Tín nhiệm thấp")
        d1.locator("[data-testid=confirm-ballot]").click()
        expect(d1.locator("[data-testid=my-ballot]")).to_contain_text("Bạn đã biểu quyết")

        # Official 1: 11 high, 6 confident, 4 low; official 2: 4 high, 16 low (more than
        # half of the 30 seats, fewer than the 20 of two thirds).
        others = [member(i) for i in range(1, 22) if member(i) != D1]
        for n, who in enumerate(others):
            first = "high" if n < 10 else "confident" if n < 16 else "low"
            second = "high" if n < 4 else "low" if n < 19 else "confident"
            cast(hub, who, vote["id"], {"cv1": first, "cv2": second})
        close_from_chair(chair)

        for page in (gallery, chair, d1):
            first, second = row(page, officials[0]), row(page, officials[1])
            expect(first.locator("[data-testid=e-high]")).to_have_text("11 (36,7 %)")
            expect(first.locator("[data-testid=e-confident]")).to_have_text("6 (20,0 %)")
            expect(first.locator("[data-testid=e-low]")).to_have_text("4 (13,3 %)")
            expect(first.locator("[data-testid=e-status]")).to_have_text("—")
            expect(second.locator("[data-testid=e-high]")).to_have_text("4 (13,3 %)")
            expect(second.locator("[data-testid=e-low]")).to_have_text("16 (53,3 %)")
            expect(second.locator("[data-testid=e-status]")).to_have_text(
                "Quá nửa tổng số đại biểu đánh giá tín nhiệm thấp: có thể xin từ chức"
            )
        result = state(hub)["votes"][vote["id"]]["result"]
        assert [o["status"] for o in result["outcomes"]] == ["", "may_resign"], result
        audit.page(gallery, "gallery, confidence result", "[data-testid=g-vote]")
        audit.page(chair, "chair, confidence result", "[data-testid=c-vote]")
        audited(audit)
        shots(gallery, "gallery-vi-confidence-result")
        assert not sc.errors, sc.errors
    finally:
        sc.close()


def test_revote_and_second_vote_on_a_passed_motion_ask_first(browser: Any, hub: Hub) -> None:
    in_session(hub, 21, item="nghi-quyet")
    motion = str(next(iter(state(hub)["motions"])))
    assert hub.command(CHAIR, {"type": "vote.open", "motion": motion}).get("ok")
    vote = only_open_vote(hub)
    for i in range(1, 17):
        answer = hub.command(
            member(i), {"type": "vote.cast", "vote": vote["id"], "choice": "approve"}
        )
        assert answer.get("ok"), answer
    assert hub.command(CHAIR, {"type": "vote.close", "vote": vote["id"]}).get("ok")

    sc = Screens(browser, hub)
    try:
        sent: list[dict[str, Any]] = []
        chair = sc.open(
            "/chair/", user=CHAIR, query="&json=1", setup=lambda page: record_commands(page, sent)
        )
        dialog = chair.locator("dialog[open]")
        revote = chair.locator("[data-testid=revote]")

        # "Biểu quyết lại": cancelled with the button, then with Escape; nothing is sent.
        revote.click()
        expect(dialog).to_contain_text("Biểu quyết lại:")
        expect(dialog).to_contain_text("THÔNG QUA")
        dialog.get_by_role("button", name="Hủy").click()
        expect(dialog).to_have_count(0)
        revote.click()
        expect(dialog).to_be_visible()
        chair.keyboard.press("Escape")
        expect(dialog).to_have_count(0)
        assert [c for c in sent if c["type"] == "vote.revote"] == []
        assert only_open_vote_or_none(hub) is None

        # Confirmed from the keyboard: the confirm button has the focus.
        revote.click()
        expect(dialog.get_by_role("button", name="Biểu quyết lại")).to_be_focused()
        chair.keyboard.press("Enter")
        expect(dialog).to_have_count(0)
        expect(chair.locator("[data-testid=close-vote]")).to_be_visible()
        assert [c for c in sent if c["type"] == "vote.revote"] == [
            {"type": "vote.revote", "vote": vote["id"]}
        ]
        again = only_open_vote(hub)
        assert again["revote_of"] == vote["id"]
        assert hub.command(CHAIR, {"type": "vote.cancel", "vote": again["id"]}).get("ok")

        # A new vote on the motion already passed asks first too.
        open_button = chair.locator("[data-testid=open-vote]")
        open_button.click()
        expect(dialog).to_contain_text("Biểu quyết lần nữa về nội dung đã thông qua?")
        expect(dialog).to_contain_text("16/30")
        dialog.get_by_role("button", name="Hủy").click()
        expect(dialog).to_have_count(0)
        assert [c for c in sent if c["type"] == "vote.open"] == []
        assert only_open_vote_or_none(hub) is None
        open_button.click()
        dialog.get_by_role("button", name="Vẫn mở biểu quyết").click()
        expect(chair.locator("[data-testid=close-vote]")).to_be_visible()
        assert [c for c in sent if c["type"] == "vote.open"] == [
            {"type": "vote.open", "motion": motion, "preset": "resolution"}
        ]
        assert only_open_vote(hub)["motion"] == motion
        assert not sc.errors, sc.errors
    finally:
        sc.close()


def only_open_vote_or_none(hub: Hub) -> dict[str, Any] | None:
    votes = [v for v in state(hub)["votes"].values() if v["status"] == "open"]
    assert len(votes) <= 1, votes
    return dict(votes[0]) if votes else None
