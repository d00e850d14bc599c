"""The agenda, motions and the floor run from the chair console as a presiding officer
would: items added, moved and struck; a motion proposed, amended with a new text and put
to a vote bound to that version; the floor given directly to a guest with a kind and a
time limit; a point of order that jumps the queue and interrupts the speaker, one timer
running; the speaker resumed; and a delegate told when their request is dropped."""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from server.seed import demo_pdf
from tests.browser.conftest import SCALE, Hub, Screens, ms

pytestmark = pytest.mark.browser

CHAIR, D1, D2 = "db01", "db04", "db05"
D1_NAME, D2_NAME = "Phạm Thị Dung", "Hoàng Văn Em"
GUEST_NAME = "Nguyễn Thị Hoa"
PRESENT = ["db01", "db02", "db03", "db04", "db05", *[f"db{i:02d}" for i in range(6, 22)]]


def ok(answer: Any) -> Any:
    assert answer.get("ok"), answer
    return answer


def events(hub: Hub, kind: str) -> list[dict[str, Any]]:
    return [r["event"] for r in hub.log()["records"] if r["event"]["type"] == kind]


def agenda_ids(chair: Page) -> list[str]:
    items = chair.locator("[data-testid=agenda-item]")
    return [items.nth(i).get_attribute("data-item") or "" for i in range(items.count())]


def wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + ms(8) / 1000
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def seconds(clock: str) -> int:
    m = re.match(r"(\d+):(\d\d)$", clock.strip())
    assert m, clock
    return int(m.group(1)) * 60 + int(m.group(2))


def confirm(page: Page) -> None:
    page.locator("dialog[open] button.danger").click()
    expect(page.locator("dialog[open]")).to_have_count(0)


def test_agenda_motions_and_the_floor_from_the_chair_console(
    browser: Any, hub: Hub, shots: Any
) -> None:
    sc = Screens(browser, hub, "vi")
    try:
        chair = sc.open("/chair/", user=CHAIR)
        d1 = sc.open("/delegate/", size=(1024, 1366), user=D1)
        hub.check_in(*PRESENT)
        ok(hub.command(CHAIR, {"type": "sitting.open"}))
        ok(hub.command(CHAIR, {"type": "sitting.start"}))
        expect(chair.locator("[data-testid=current-item]")).to_contain_text("Báo cáo")

        # The agenda: an item added before the second one, moved down, then struck.
        start = agenda_ids(chair)
        assert start == ["bao-cao", "thao-luan", "nghi-quyet", "bau-cu"]
        add = chair.locator("[data-testid=add-item]")
        add.locator("[data-testid=item-title]").fill("Miễn nhiệm Ủy viên Ủy ban nhân dân")
        add.locator("[data-testid=item-presenter]").fill("Thường trực HĐND")
        add.locator("[data-testid=item-position]").select_option(label="Trước nội dung 2")
        add.locator("[data-testid=item-add]").click()
        expect(chair.locator("[data-testid=agenda-item]")).to_have_count(5)
        added = agenda_ids(chair)[1]
        assert agenda_ids(chair) == ["bao-cao", added, "thao-luan", "nghi-quyet", "bau-cu"]
        row = chair.locator(f"[data-testid=agenda-item][data-item={added}]")
        expect(row).to_contain_text("Thường trực HĐND")
        row.locator("[data-testid=item-down]").click()  # a button, reachable by keyboard
        wait_for(
            lambda: agenda_ids(chair) == ["bao-cao", "thao-luan", added, "nghi-quyet", "bau-cu"],
            "moved down",
        )
        row.locator("[data-testid=item-up]").focus()
        chair.keyboard.press("Enter")
        wait_for(lambda: agenda_ids(chair)[1] == added, "moved up by the keyboard")
        row.locator("[data-testid=item-remove]").click()
        confirm(chair)
        expect(chair.locator("[data-testid=agenda-item]")).to_have_count(4)
        assert agenda_ids(chair) == start
        assert events(hub, "agenda.removed") == [
            {"type": "agenda.removed", "item": added, "motions": []}
        ]
        # The current item stays: it offers no removal.
        current = chair.locator("[data-testid=agenda-item][data-item=bao-cao]")
        expect(current.locator("[data-testid=item-remove]")).to_have_count(0)

        # A motion proposed with a document of the sitting, then amended with a new text.
        resolutions = chair.locator("[data-testid=agenda-item][data-item=nghi-quyet]")
        resolutions.locator("[data-testid=motion-new]").click()
        form = resolutions.locator("[data-testid=propose-form]")
        form.locator("[data-testid=motion-title]").fill("Nghị quyết về kế hoạch đầu tư công")
        doc_select = form.locator("select")
        doc_select.select_option(index=1)  # the seeded draft resolution
        first_hash = doc_select.input_value()
        form.locator("[data-testid=motion-propose]").click()
        motion = resolutions.locator("[data-testid=motion]").filter(has_text="đầu tư công")
        expect(motion.locator("[data-testid=motion-version]")).to_contain_text(
            f"bản 1 · {first_hash[:8]}"
        )
        motion_id = motion.get_attribute("data-motion")
        amended_pdf = demo_pdf("Du thao Nghi quyet dau tu cong (chinh ly)", ["Dieu 1.", "Dieu 2."])
        new_hash = hashlib.sha256(amended_pdf).hexdigest()
        motion.locator("[data-testid=motion-amend]").click()
        amend = motion.locator("[data-testid=amend-form]")
        amend.locator("input[type=file]").set_input_files(
            {"name": "chinh-ly.pdf", "mimeType": "application/pdf", "buffer": amended_pdf}
        )
        amend.locator("[data-testid=motion-amend-submit]").click()
        expect(motion.locator("[data-testid=motion-version]")).to_contain_text(
            f"bản 2 · {new_hash[:8]}"
        )
        (amended,) = events(hub, "motion.amended")
        assert (amended["motion"], amended["doc"], amended["version"]) == (motion_id, new_hash, 2)
        registered = [e["doc"] for e in events(hub, "doc.registered")]
        assert any(d["hash"] == new_hash and d["version"] == 2 for d in registered)

        # The floor, given directly to a guest added on the spot: a report of 25 minutes.
        chair.locator("[data-testid=move-thao-luan]").click()
        expect(chair.locator("[data-testid=current-item]")).to_contain_text("Thảo luận")
        chair.locator("[data-testid=guest-new]").click()
        chair.locator("[data-testid=guest-name]").fill(GUEST_NAME)
        chair.locator("[data-testid=guest-affiliation]").fill("Chủ tịch UBND phường")
        chair.locator("[data-testid=guest-add]").click()
        who = chair.locator("[data-testid=give-who]")
        expect(who.locator("option", has_text=GUEST_NAME)).to_have_count(1)
        who.select_option(label=f"{GUEST_NAME} · Chủ tịch UBND phường")
        chair.locator("[data-testid=give-kind]").select_option("explanation")
        chair.locator("[data-testid=give-minutes]").fill("25")
        chair.locator("[data-testid=give-submit]").click()
        turns = chair.locator("[data-testid=turn]")
        expect(turns).to_have_count(1)
        expect(turns.first).to_contain_text(GUEST_NAME)
        expect(turns.first).to_contain_text("Giải trình")
        expect(turns.first.locator("[data-testid=countdown]")).to_have_text(re.compile(r"^2[45]:"))
        (guest_turn,) = [e["turn"] for e in events(hub, "turn.started")]
        (guest,) = [e["guest"] for e in events(hub, "roster.guest_added")]
        assert guest["name"] == GUEST_NAME
        assert (guest_turn["speaker"], guest_turn["kind"], guest_turn["limit_ms"]) == (
            guest["id"],
            "explanation",
            25 * 60_000,
        )
        shots(chair, "floor-guest-report")

        # A delegate asks to contribute; another raises a point of order: it goes first.
        d1.locator("[data-testid=request-contribution]").click()
        expect(chair.locator("[data-testid=queued]")).to_have_count(1)
        ok(hub.command(D2, {"type": "floor.request", "kind": "point_of_order"}))
        queued = chair.locator("[data-testid=queued]")
        expect(queued).to_have_count(2)
        expect(queued.first).to_have_attribute("data-kind", "point_of_order")
        expect(queued.first).to_contain_text(D2_NAME)
        expect(queued.nth(1)).to_contain_text(D1_NAME)

        # Granting it while the guest speaks asks; pausing the guest leaves one timer running.
        queued.first.locator("[data-testid=grant]").click()
        dialog = chair.locator("[data-testid=occupied-dialog]")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text(GUEST_NAME)
        shots(chair, "floor-point-of-order-choice")
        dialog.locator("[data-testid=occupied-pause]").click()
        expect(chair.locator("[data-testid=turn][data-status=speaking]")).to_have_count(1)
        speaking = chair.locator("[data-testid=turn][data-status=speaking]")
        paused = chair.locator("[data-testid=turn][data-status=paused]")
        expect(speaking).to_contain_text(D2_NAME)
        expect(paused).to_contain_text(GUEST_NAME)
        expect(paused.locator("[data-testid=paused-chip]")).to_be_visible()
        held = paused.locator("[data-testid=countdown]").inner_text()
        running = speaking.locator("[data-testid=countdown]")
        first = running.inner_text()
        expect(running).not_to_have_text(first)  # the point of order's timer runs …
        assert paused.locator("[data-testid=countdown]").inner_text() == held  # … alone
        # A delegate's tablet tells the paused guest from the one speaking.
        d1_paused = d1.locator("[data-testid=now-speaking][data-status=paused]")
        expect(d1_paused).to_contain_text(GUEST_NAME)
        expect(d1_paused).to_contain_text("tạm dừng")
        d1_speaking = d1.locator("[data-testid=now-speaking][data-status=speaking]")
        expect(d1_speaking).to_contain_text(D2_NAME)
        kinds = [r["event"]["type"] for r in hub.log()["records"]][-2:]
        assert kinds == ["turn.paused", "turn.started"]
        shots(chair, "floor-point-of-order-speaking")

        # The shortcuts act on the speaking turn: E ends the point of order, not the guest.
        chair.locator("[data-testid=next-speaker]").focus()
        chair.keyboard.press("e")
        expect(chair.locator("dialog[open]")).to_contain_text(D2_NAME)
        confirm(chair)
        expect(chair.locator("[data-testid=turn]")).to_have_count(1)
        # The paused speaker resumes; their timer runs again.
        paused.locator("[data-testid=resume-turn]").click()
        expect(chair.locator("[data-testid=turn][data-status=speaking]")).to_contain_text(
            GUEST_NAME
        )
        guest_clock = chair.locator("[data-testid=turn] [data-testid=countdown]")
        before = guest_clock.inner_text()
        # Resumed with the time they had left (less what passed since the resume).
        assert 0 <= seconds(held) - seconds(before) <= 10 * SCALE, (held, before)
        expect(guest_clock).not_to_have_text(before)
        # A second microphone, opened deliberately: both speak.
        who.select_option(D2)  # a member, by id
        chair.locator("[data-testid=give-kind]").select_option("debate_reply")
        chair.locator("[data-testid=give-submit]").click()
        dialog.locator("[data-testid=occupied-second-mic]").click()
        expect(chair.locator("[data-testid=turn][data-status=speaking]")).to_have_count(2)
        second = chair.locator("[data-testid=turn]").filter(has_text=D2_NAME)
        expect(second).to_contain_text("Tranh luận")
        second.locator("[data-testid=end-turn]").click()
        confirm(chair)
        expect(chair.locator("[data-testid=turn]")).to_have_count(1)
        chair.locator("[data-testid=next-speaker]").focus()
        chair.keyboard.press("p")  # P pauses the speaking turn, the guest's
        expect(chair.locator("[data-testid=turn][data-status=paused]")).to_contain_text(GUEST_NAME)

        # The chair withdraws the delegate's request: the delegate is told.
        queued = chair.locator("[data-testid=queued]")
        expect(queued).to_have_count(1)
        queued.first.locator("[data-testid=withdraw]").click()
        notice = d1.locator("[data-testid=floor-notice]")
        expect(notice).to_contain_text("Chủ tọa đã hủy đăng ký phát biểu của bạn")
        shots(d1, "delegate-request-withdrawn")
        notice.get_by_role("button").click()
        expect(notice).to_have_count(0)
        # Asked again, and dropped by the move to the next item: told why.
        d1.locator("[data-testid=request-contribution]").click()
        expect(chair.locator("[data-testid=queued]")).to_have_count(1)
        chair.locator("[data-testid=end-turn]").click()
        confirm(chair)
        chair.locator("[data-testid=move-nghi-quyet]").click()
        expect(notice).to_contain_text("Xem xét, thông qua các nghị quyết")
        expect(d1.locator("[data-testid=my-request]")).to_have_count(0)
        reasons = [e.get("reason") for e in events(hub, "floor.withdrawn")]
        assert reasons == ["chair", "item_changed"]

        # The vote on the amended motion binds to the new text's hash.
        chair.locator("[data-testid=vote-motion]").select_option(motion_id)
        chair.locator("[data-testid=open-vote]").click()
        version = chair.locator("[data-testid=c-vote] [data-testid=vote-text-version]").first
        expect(version).to_contain_text(f"bản 2 · {new_hash[:8]}")
        (opened,) = events(hub, "vote.opened")
        assert (opened["vote"]["text_hash"], opened["vote"]["text_version"]) == (new_hash, 2)
        shots(chair, "vote-bound-to-version")
        assert sc.errors == []
    finally:
        sc.close()
