"""Setting up a vote on the chair console: a preset, then the form, options, threshold,
change of ballot and deadline edited before opening; the unreachable-threshold warning
follows the edited threshold."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Hub, Screens

pytestmark = pytest.mark.browser

CHAIR, D1, D2 = "db01", "db04", "db05"
PRESENT = [f"db{i:02d}" for i in range(1, 22)]  # 21 of the 30 seats

SECRET_TWO_THIRDS_PRESENT = {
    "base": "present",
    "num": 2,
    "den": 3,
    "comparison": "at_least",
}


def in_session(hub: Hub) -> str:
    """21 members present, the sitting under way on the resolutions item; the motion id."""
    hub.check_in(*PRESENT)
    for cmd in (
        {"type": "sitting.open"},
        {"type": "sitting.start"},
        {"type": "agenda.move", "item": "nghi-quyet"},
    ):
        answer = hub.command(CHAIR, cmd)
        assert answer.get("ok"), answer
    state = hub.http("GET", f"/api/sittings/{hub.sitting}")
    return str(next(iter(state["motions"])))


def record_commands(page: Page, sent: list[dict[str, Any]]) -> None:
    """Append every command the page sends over its socket (JSON frames) to ``sent``."""

    def on_frame(payload: Any) -> None:
        if isinstance(payload, str):
            frame = json.loads(payload)
            if frame.get("t") == "cmd":
                sent.append(frame["cmd"])

    page.on("websocket", lambda ws: ws.on("framesent", on_frame))


def open_vote(hub: Hub) -> dict[str, Any]:
    state = hub.http("GET", f"/api/sittings/{hub.sitting}")
    votes = [v for v in state["votes"].values() if v["status"] == "open"]
    assert len(votes) == 1, votes
    return dict(votes[0])


def vote_on(page: Page, option: str) -> None:
    page.locator(f"[data-testid=vote-{option}]").first.click()
    page.locator("[data-testid=confirm-ballot]").first.click()
    expect(page.locator("[data-testid=my-ballot]").first).to_contain_text("Bạn đã biểu quyết")


def test_secret_vote_of_two_thirds_of_members_present(browser: Any, hub: Hub, shots: Any) -> None:
    motion = in_session(hub)
    sc = Screens(browser, hub)
    try:
        gallery = sc.open("/gallery/", size=(1920, 1080))
        d1 = sc.open("/delegate/", size=(1024, 1366), user=D1)
        d2 = sc.open("/delegate/", size=(1024, 1366), user=D2)
        sent: list[dict[str, Any]] = []
        chair = sc.open(
            "/chair/", user=CHAIR, query="&json=1", setup=lambda page: record_commands(page, sent)
        )

        # The set-up starts from the preset: named, three options, more than half the seats.
        expect(chair.locator("[data-testid=vote-preset]")).to_have_value("resolution")
        expect(chair.locator("[data-testid=vote-form-open]")).to_be_checked()
        for option in ("approve", "reject", "abstain"):
            expect(chair.locator(f"[data-testid=vote-option-{option}]")).to_be_checked()
        expect(chair.locator("[data-testid=vote-option-approve]")).to_be_disabled()
        expect(chair.locator("[data-testid=vote-allow-change]")).not_to_be_checked()
        words = chair.locator("[data-testid=vote-threshold-words]")
        expect(words).to_have_text("Thông qua khi có quá nửa tổng số đại biểu tán thành (16)")
        expect(chair.locator("[data-testid=vote-edited]")).to_have_count(0)

        # Secret ballot, chosen with the keyboard (arrow keys move within the radio group).
        chair.locator("[data-testid=vote-form-open]").focus()
        chair.keyboard.press("ArrowRight")
        expect(chair.locator("[data-testid=vote-form-secret]")).to_be_checked()
        expect(chair.locator("[data-testid=vote-form-secret]")).to_be_focused()
        expect(chair.locator("[data-testid=vote-allow-change]")).to_have_count(0)
        expect(chair.locator("[data-testid=c-vote]")).to_contain_text(
            "Bỏ phiếu kín: phiếu đã bỏ không thể thay đổi."
        )
        # At least two thirds of the members present.
        chair.locator("[data-testid=vote-comparison]").select_option("at_least")
        chair.locator("[data-testid=vote-fraction]").select_option("2/3")
        chair.locator("[data-testid=vote-base]").select_option("present")
        expect(words).to_have_text(
            "Thông qua khi có ít nhất hai phần ba số đại biểu có mặt tán thành "
            "(14 trên 21 đại biểu có mặt lúc này)"
        )
        expect(chair.locator("[data-testid=vote-edited]")).to_be_visible()
        expect(chair.locator("[data-testid=unreachable]")).to_have_count(0)
        expect(chair.locator("[data-testid=open-vote]")).to_be_enabled()
        chair.locator("[data-testid=c-vote]").scroll_into_view_if_needed()
        shots(chair, "chair-vi-vote-setup", full=True)

        chair.locator("[data-testid=open-vote]").click()
        expect(gallery.locator("[data-testid=g-ballots]")).to_have_text(
            "0/21 đại biểu có mặt đã biểu quyết"
        )
        # Only what differs from the preset went out, with the core's field names.
        opened = [c for c in sent if c["type"] == "vote.open"]
        assert opened == [
            {
                "type": "vote.open",
                "motion": motion,
                "preset": "resolution",
                "form": "secret",
                "rule": {"threshold": SECRET_TWO_THIRDS_PRESENT, "option": "approve"},
            }
        ], opened
        vote = open_vote(hub)
        assert vote["form"] == "secret"
        assert vote["rule"] == {"threshold": SECRET_TWO_THIRDS_PRESENT, "option": "approve"}
        assert vote["options"] == ["approve", "reject", "abstain"]
        assert vote["allow_change"] is False
        assert vote["duration_s"] == 60
        expect(d1.locator("[data-testid=d-vote]")).to_contain_text("Bỏ phiếu kín")

        # The delegates vote: 14 in favour, exactly the two thirds of 21 needed.
        vote_on(d1, "approve")
        vote_on(d2, "reject")
        vote_on(chair, "approve")
        for i in range(6, 18):
            answer = hub.command(
                f"db{i:02d}", {"type": "vote.cast", "vote": vote["id"], "choice": "approve"}
            )
            assert answer.get("ok"), answer
        expect(chair.locator("[data-testid=c-ballots]")).to_have_text(
            "15/21 đại biểu có mặt đã biểu quyết"
        )
        expect(chair.locator("[data-testid=running-counts]")).to_have_count(0)
        chair.locator("[data-testid=close-vote]").click()
        chair.locator("dialog[open] button.danger").click()

        verdict = (
            "14/21 đại biểu có mặt tán thành; cần ít nhất hai phần ba số đại biểu có mặt (14): "
            "THÔNG QUA"
        )
        expect(chair.locator("[data-testid=verdict]")).to_have_text(verdict)
        expect(gallery.locator("[data-testid=verdict]")).to_have_text(verdict)
        expect(d1.locator("[data-testid=verdict]")).to_have_text(verdict)
        shots(gallery, "gallery-vi-secret-two-thirds-present")
        # After the vote the set-up starts again from the preset.
        expect(chair.locator("[data-testid=vote-form-open]")).to_be_checked()
        expect(words).to_have_text("Thông qua khi có quá nửa tổng số đại biểu tán thành (16)")
        assert not sc.errors, sc.errors
    finally:
        sc.close()


def test_unreachable_edited_threshold(browser: Any, hub: Hub, shots: Any) -> None:
    in_session(hub)
    sc = Screens(browser, hub)
    try:
        chair = sc.open("/chair/", user=CHAIR)
        d1 = sc.open("/delegate/", size=(1024, 1366), user=D1)
        open_button = chair.locator("[data-testid=open-vote]")
        warning = chair.locator("[data-testid=unreachable]")
        words = chair.locator("[data-testid=vote-threshold-words]")
        expect(open_button).to_be_enabled()
        expect(warning).to_have_count(0)

        # At least three quarters of the 30 seats is 23: the 21 present cannot reach it, and
        # the resolution preset refuses to open such a vote.
        chair.locator("[data-testid=vote-comparison]").select_option("at_least")
        chair.locator("[data-testid=vote-fraction]").select_option("3/4")
        expect(words).to_have_text(
            "Thông qua khi có ít nhất ba phần tư tổng số đại biểu tán thành (23)"
        )
        expect(warning).to_have_text(
            "Số đại biểu có mặt (21) không thể đạt mức cần thiết (23). "
            "Không thể mở biểu quyết theo quy tắc này."
        )
        expect(open_button).to_be_disabled()
        chair.locator("[data-testid=c-vote]").scroll_into_view_if_needed()
        shots(chair, "chair-vi-vote-setup-unreachable", full=True)
        # The same in English, through the language switch.
        chair.get_by_role("button", name="English").click()
        expect(words).to_have_text("Passes with at least three quarters of the total seats (23)")
        expect(warning).to_have_text(
            "The members present (21) cannot reach the 23 needed. "
            "This rule does not allow opening the vote."
        )
        shots(chair, "chair-en-vote-setup-unreachable", full=True)
        chair.get_by_role("button", name="Tiếng Việt").click()
        expect(warning).to_contain_text("Không thể mở biểu quyết theo quy tắc này.")

        # Three quarters of the members present (16 of 21) can be reached.
        chair.locator("[data-testid=vote-base]").select_option("present")
        expect(warning).to_have_count(0)
        expect(open_button).to_be_enabled()
        chair.locator("[data-testid=vote-base]").select_option("total_seats")
        expect(open_button).to_be_disabled()
        chair.locator("[data-testid=vote-reset]").click()
        expect(words).to_have_text("Thông qua khi có quá nửa tổng số đại biểu tán thành (16)")
        expect(warning).to_have_count(0)
        expect(open_button).to_be_enabled()

        # Options: "tán thành" stays; at least two must remain.
        chair.locator("[data-testid=vote-option-abstain]").uncheck()
        chair.locator("[data-testid=vote-option-reject]").uncheck()
        expect(chair.locator("[data-testid=vote-options-error]")).to_have_text(
            "Phiếu cần có ít nhất hai lựa chọn."
        )
        expect(open_button).to_be_disabled()
        chair.locator("[data-testid=vote-option-reject]").check()
        expect(chair.locator("[data-testid=vote-options-error]")).to_have_count(0)

        # A preset that only warns: the same unreachable threshold lets the vote open.
        chair.locator("[data-testid=vote-preset]").select_option("majority_cast")
        expect(chair.locator("[data-testid=vote-option-abstain]")).to_be_checked()
        expect(chair.locator("[data-testid=vote-allow-change]")).to_be_checked()
        expect(words).to_have_text("Thông qua khi có quá nửa số phiếu biểu quyết tán thành")
        chair.locator("[data-testid=vote-option-abstain]").uncheck()
        chair.locator("[data-testid=vote-comparison]").select_option("at_least")
        chair.locator("[data-testid=vote-fraction]").select_option("3/4")
        chair.locator("[data-testid=vote-base]").select_option("total_seats")
        expect(warning).to_have_text(
            "Số đại biểu có mặt (21) không thể đạt mức cần thiết (23). Vẫn có thể mở biểu quyết."
        )
        expect(open_button).to_be_enabled()
        chair.locator("[data-testid=vote-duration]").fill("90")
        open_button.click()
        expect(d1.locator("[data-testid=vote-approve]").first).to_be_visible()
        expect(d1.locator("[data-testid=vote-reject]")).to_have_count(1)
        expect(d1.locator("[data-testid=vote-abstain]")).to_have_count(0)
        vote = open_vote(hub)
        assert vote["options"] == ["approve", "reject"]
        assert vote["rule"]["threshold"] == {
            "base": "total_seats",
            "num": 3,
            "den": 4,
            "comparison": "at_least",
        }
        assert vote["allow_change"] is True
        assert vote["duration_s"] == 90
        assert re.search(r"\d", chair.locator("[data-testid=c-ballots]").inner_text())
        assert not sc.errors, sc.errors
    finally:
        sc.close()
