"""Attendance kept from the consoles: a delegate reports remote or excused (with the
reason) from their device, the secretary does it for any member and checks in everyone
present with one command; the search ignores diacritics, seats never wrap, roles are
listed in the council's order."""

from __future__ import annotations

import re
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Hub, Screens

pytestmark = pytest.mark.browser

SECRETARY = "db03"


def state(hub: Hub) -> dict[str, Any]:
    result: dict[str, Any] = hub.http("GET", f"/api/sittings/{hub.sitting}")
    return result


def row(page: Page, member: str) -> Any:
    return page.locator(f"[data-testid=att-row][data-member={member}]")


def commands_counted(hub: Hub, kind: str) -> float:
    """How many commands of ``kind`` the hub answered ok (its Prometheus counter)."""
    with urllib.request.urlopen(hub.url("/metrics"), timeout=10) as res:
        text = res.read().decode()
    m = re.search(
        rf'nghitruong_commands_total\{{outcome="ok",type="{re.escape(kind)}"\}} ([\d.]+)', text
    )
    return float(m.group(1)) if m else 0.0


def test_attendance_from_the_delegate_and_the_secretary(browser: Any, hub: Hub, shots: Any) -> None:
    screens = Screens(browser, hub)
    try:
        # Before the sitting opens, two delegates report from their own devices.
        d9 = screens.open("/delegate/", user="db09", size=(820, 1180))
        d9.get_by_test_id("excuse-open").click()
        expect(d9.get_by_test_id("my-excuse-send")).to_be_disabled()  # no reason, no excuse
        d9.get_by_test_id("my-excuse-reason").fill("Đi công tác tỉnh Bình Dương")
        d9.get_by_test_id("my-excuse-send").click()
        expect(d9.get_by_test_id("my-presence")).to_contain_text("Vắng có lý do")
        expect(d9.get_by_test_id("my-excuse")).to_have_text("Lý do: Đi công tác tỉnh Bình Dương")
        shots(d9, "attendance-vi-delegate-excused", full=True)
        d10 = screens.open("/delegate/", user="db10", size=(820, 1180))
        d10.get_by_test_id("join-remote").click()
        expect(d10.get_by_test_id("my-presence")).to_have_text("Tham dự trực tuyến")
        expect(d10.get_by_test_id("join-remote")).to_have_count(0)

        # The secretary's console, narrow enough that a wrapping seat would show.
        chair = screens.open("/chair/", user=SECRETARY, size=(1280, 900))
        chair.get_by_role("button", name="Xem danh sách đại biểu").click()
        expect(row(chair, "db09")).to_have_attribute("data-presence", "excused")
        expect(row(chair, "db09").get_by_test_id("excuse-shown")).to_have_text(
            "Đi công tác tỉnh Bình Dương"
        )
        expect(row(chair, "db10")).to_have_attribute("data-presence", "remote")

        # Roles in the council's order, whatever order the roster stores them in.
        for member, roles in (
            ("db01", "Chủ tọa · Đại biểu"),
            ("db02", "Phó Chủ tọa · Đại biểu"),
            ("db03", "Thư ký kỳ họp · Đại biểu"),
        ):
            expect(row(chair, member).get_by_test_id("roles")).to_have_text(roles)
        expect(row(chair, "db04").get_by_test_id("roles")).to_have_count(0)

        # Seats stay on one line, and every plain delegate's row is as tall as the next.
        rows = chair.locator("[data-testid=att-row]")
        expect(rows).to_have_count(30)
        shots(chair, "attendance-vi-list", full=True)
        # Measured on one-line text: a seat's text makes one line box, and every plain
        # delegate's row whose name fits one line is exactly as tall as the others.
        measured = chair.evaluate(
            """() => {
                 const lines = (el) => {
                   const range = document.createRange();
                   range.selectNodeContents(el);
                   return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
                 };
                 return [...document.querySelectorAll('[data-testid=att-row]')].map((tr) => ({
                   member: tr.dataset.member,
                   seat: lines(tr.querySelector('td.seat')),
                   name: lines(tr.querySelector('button.att-name')),
                   height: tr.getBoundingClientRect().height,
                   plain: !tr.querySelector('[data-testid=roles], [data-testid=excuse-shown]'),
                 }));
               }"""
        )
        assert all(m["seat"] == 1 for m in measured), measured
        plain = [m["height"] for m in measured if m["plain"] and m["name"] == 1]
        assert len(plain) >= 20 and max(plain) - min(plain) <= 1, measured

        # The search ignores case and diacritics, đ included.
        search = chair.get_by_test_id("att-search")
        for typed, names in (
            ("nguyen van an", ["Nguyễn Văn An"]),
            ("NGUYỄN VĂN AN", ["Nguyễn Văn An"]),
            ("dang quoc", ["Đặng Quốc Gia"]),
            ("hoang", ["Lê Hoàng Cường", "Hoàng Văn Em"]),
            ("an nguyen", ["Nguyễn Văn An"]),
            ("3-05", ["Hà Văn Trung"]),
        ):
            search.fill(typed)
            expect(rows.locator("td:nth-child(2)")).to_have_count(len(names))
            for name in names:
                expect(rows.filter(has_text=name)).to_have_count(1)
        search.fill("không có ai")
        expect(rows).to_have_count(0)
        expect(chair.locator("[data-testid=c-attendance]")).to_contain_text(
            "Không có đại biểu nào khớp."
        )
        search.fill("")
        expect(rows).to_have_count(30)

        # The secretary marks one member remote and excuses another, with the reason.
        chair.get_by_test_id("more-db07").click()
        dialog = chair.get_by_test_id("member-dialog")
        dialog.get_by_test_id("set-remote").click()
        expect(row(chair, "db07")).to_have_attribute("data-presence", "remote")
        chair.get_by_test_id("more-db08").click()
        expect(dialog.get_by_test_id("excuse-save")).to_be_disabled()
        dialog.get_by_test_id("excuse-reason").fill("Ốm đau")
        shots(chair, "attendance-vi-secretary-excuse")
        dialog.get_by_test_id("excuse-save").click()
        expect(row(chair, "db08")).to_have_attribute("data-presence", "excused")
        expect(row(chair, "db08").get_by_test_id("excuse-shown")).to_have_text("Ốm đau")

        # Everyone present: the 26 not yet in are ticked; two are not in the hall.
        roll = chair.get_by_test_id("check-in-all")
        expect(roll).to_contain_text("(26)")
        roll.click()
        call = chair.get_by_test_id("roll-call")
        expect(call.locator("input[type=checkbox]:checked")).to_have_count(26)
        for absent in ("db11", "db12"):
            call.get_by_test_id(f"rc-{absent}").uncheck()
        confirm = call.get_by_test_id("rc-confirm")
        expect(confirm).to_have_text("Điểm danh 24 đại biểu")
        shots(chair, "attendance-vi-roll-call")
        before = commands_counted(hub, "attendance.check_in_many")
        confirm.click()
        expect(chair.get_by_test_id("att-summary")).to_contain_text(
            "tại hội trường 24 · trực tuyến 2 · vắng có lý do 2 · vắng 2"
        )
        expect(chair.get_by_test_id("quorum-count")).to_have_text("26/30 (cần 20)")
        assert commands_counted(hub, "attendance.check_in_many") == before + 1  # one command
        seen = state(hub)["attendance"]
        assert (seen["db11"], seen["db12"], seen["db09"], seen["db10"]) == (
            "absent",
            "absent",
            "excused",
            "remote",
        )
        assert state(hub)["excuses"] == {"db08": "Ốm đau", "db09": "Đi công tác tỉnh Bình Dương"}
        expect(chair.get_by_test_id("check-in-all")).to_contain_text("(2)")
        shots(chair, "attendance-vi-secretary", full=True)

        # The excused delegate comes after all: the excuse is no longer theirs.
        d9.get_by_test_id("check-in").click()
        expect(row(chair, "db09")).to_have_attribute("data-presence", "in_hall")
        expect(row(chair, "db09").get_by_test_id("excuse-shown")).to_have_count(0)
        assert not screens.errors, screens.errors
    finally:
        screens.close()


def test_the_operator_check_in_search_ignores_diacritics(browser: Any, hub: Hub) -> None:
    screens = Screens(browser, hub)
    try:
        page = screens.open("/operator/", user="vanhanh", ready="[role=tab]")
        page.get_by_role("tab", name="Điểm danh tại hội trường").click()
        page.get_by_label("Tìm đại biểu (tên hoặc số ghế)").fill("nguyen van an")
        expect(page.get_by_role("button", name=re.compile("^Điểm danh: "))).to_have_count(1)
        page.get_by_role("button", name="Điểm danh: Nguyễn Văn An").click()
        expect(page.locator("[data-testid=quorum-count]")).to_have_text("1/30 (cần 20)")
        assert not screens.errors, screens.errors
    finally:
        screens.close()


def test_in_english_a_delegate_reports_an_excuse_and_the_secretary_sees_why(
    browser: Any, hub: Hub, shots: Any
) -> None:
    screens = Screens(browser, hub, lang="en")
    try:
        delegate = screens.open("/delegate/", user="db14", size=(820, 1180))
        delegate.get_by_role("button", name="Report an excused absence").click()
        delegate.get_by_label("Reason for the absence").fill("Attending a training course")
        delegate.get_by_role("button", name="Send").click()
        expect(delegate.get_by_test_id("my-presence")).to_contain_text("Absent with leave")
        expect(delegate.get_by_test_id("my-excuse")).to_have_text(
            "Reason: Attending a training course"
        )
        expect(delegate.get_by_test_id("d-agenda")).to_contain_text("Agenda")
        chair = screens.open("/chair/", user=SECRETARY, size=(1280, 900))
        chair.get_by_role("button", name=re.compile("^Check in everyone present")).click()
        call = chair.get_by_test_id("roll-call")
        expect(call.locator("input[type=checkbox]:checked")).to_have_count(29)
        expect(call.get_by_test_id("rc-confirm")).to_have_text("Check in 29 members")
        shots(chair, "attendance-en-roll-call")
        call.get_by_role("button", name="Cancel").click()
        expect(call).to_have_count(0)
        chair.get_by_role("button", name="Show the members").click()
        expect(row(chair, "db14").get_by_test_id("excuse-shown")).to_have_text(
            "Attending a training course"
        )
        expect(row(chair, "db14")).to_contain_text("Excused")
        assert not screens.errors, screens.errors
    finally:
        screens.close()
