"""The operator's members tab (issue 9): edit a member, a refusal shown beside its field in
Vietnamese, deactivate, import from an Excel CSV with a preview, and a password reset that
asks first and then ends the member's session."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Hub, Screens

pytestmark = pytest.mark.browser


def csv(text: str) -> dict[str, Any]:
    """A file as Excel's "CSV UTF-8" in a vi-VN locale writes it: a BOM, ';', CRLF."""
    data = ("\ufeff" + text.replace("\n", "\r\n")).encode()
    return {"name": "dai-bieu.csv", "mimeType": "text/csv", "buffer": data}


def test_operator_edits_deactivates_imports_and_resets_members(
    browser: Any, hub: Hub, shots: Any
) -> None:
    sc = Screens(browser, hub)
    try:
        page = sc.open("/operator/", size=(1366, 900), user="vanhanh", ready=None)
        errors = sc.errors

        # A council id the hub refuses: its reason, in Vietnamese, beside the id field
        # (not the browser's own pattern message).
        new_council = page.get_by_role("form", name="Thêm hội đồng")
        new_council.get_by_label("Mã hội đồng").fill("HĐND Bến Thành")
        new_council.get_by_label("Tên hội đồng").fill("Hội đồng thử")
        new_council.get_by_role("button", name="Tạo").click()
        expect(new_council.get_by_test_id("error-id")).to_contain_text(
            "Chỉ dùng chữ thường không dấu"
        )
        expect(new_council.get_by_label("Mã hội đồng")).to_have_attribute("aria-invalid", "true")

        page.get_by_role("tab", name="Đại biểu và tài khoản").click()
        expect(page.get_by_test_id("seat-count")).to_have_text(
            "30 đại biểu đang hoạt động / 30 ghế."
        )

        # Edit: a seat another member holds is refused beside the seat field.
        page.get_by_role("button", name="Sửa: Trần Thị Bình").click()
        edit = page.get_by_role("form", name="Sửa thông tin: Trần Thị Bình")
        edit.get_by_label("Ghế").fill("1-01")
        edit.get_by_role("button", name="Lưu thay đổi").click()
        expect(edit.get_by_test_id("error-seat")).to_have_text(
            "Ghế 1-01 đã có đại biểu Nguyễn Văn An."
        )
        shots(page, "operator-members-field-error")
        # The reason follows the chosen language (rendered from the catalogue by its code).
        page.get_by_role("button", name="English").click()
        in_english = page.get_by_role("form", name="Edit: Trần Thị Bình")
        expect(in_english.get_by_test_id("error-seat")).to_have_text(
            "Seat 1-01 is already taken by Nguyễn Văn An."
        )
        page.get_by_role("button", name="Tiếng Việt").click()
        edit = page.get_by_role("form", name="Sửa thông tin: Trần Thị Bình")
        expect(edit.get_by_test_id("error-seat")).to_contain_text("Ghế 1-01")
        seat = edit.get_by_label("Ghế")
        expect(seat).to_have_attribute("aria-invalid", "true")
        described = seat.get_attribute("aria-describedby")
        assert described and page.locator(f"#{described}").is_visible()
        edit.get_by_label("Họ và tên").fill("Trần Thị Bình An")
        seat.fill("1-02")
        edit.get_by_role("button", name="Lưu thay đổi").click()
        expect(edit).to_have_count(0)
        expect(page.locator("tbody")).to_contain_text("Trần Thị Bình An")

        # A new member over the seats: the council's rule, said in Vietnamese.
        new_member = page.get_by_role("form", name="Thêm đại biểu")
        new_member.get_by_role("button", name="Tạo").click()
        expect(new_member.get_by_test_id("error-name")).to_have_text("Không được để trống.")

        # Deactivate: the member stays listed, and a seat is free.
        page.get_by_role("button", name="Cho thôi hoạt động: Lê Hoàng Cường").click()
        expect(page.get_by_test_id("seat-count")).to_have_text(
            "29 đại biểu đang hoạt động / 30 ghế."
        )
        expect(page.get_by_role("button", name="Hoạt động lại: Lê Hoàng Cường")).to_be_visible()

        # Import: a preview with each row's error beside its cell; nothing added until
        # every row is right, then all at once.
        upload = page.get_by_test_id("import-file")
        upload.set_input_files(
            csv("Họ và tên;Số ghế;Chức danh\nPhạm Văn Mới;1-01;\nVõ Thị Hai;31;Đại biểu\n")
        )
        preview = page.get_by_test_id("import-preview")
        expect(preview).to_contain_text("Ghế 1-01 đã có đại biểu Nguyễn Văn An.")
        expect(page.get_by_test_id("import-summary")).to_contain_text("1 trong 2 dòng có lỗi")
        expect(
            page.get_by_role("alert").filter(has_text="không thể thêm 2 đại biểu")
        ).to_be_visible()
        expect(page.get_by_role("button", name="Nhập 2 đại biểu")).to_be_disabled()
        upload.set_input_files(csv("Họ và tên;Số ghế;Chức danh\nPhạm Văn Mới;1-31;Thư ký kỳ họp\n"))
        expect(page.get_by_test_id("import-summary")).to_have_text("Tất cả 1 dòng hợp lệ.")
        preview.scroll_into_view_if_needed()
        shots(page, "operator-members-import-preview")
        page.get_by_role("button", name="Nhập 1 đại biểu").click()
        expect(page.get_by_text("Đã nhập 1 đại biểu.")).to_be_visible()
        expect(page.locator("tbody")).to_contain_text("Phạm Văn Mới")
        expect(page.get_by_test_id("seat-count")).to_have_text(
            "30 đại biểu đang hoạt động / 30 ghế."
        )

        # A password reset asks first; cancelled, nothing happens.
        token = hub.token("db01")
        page.get_by_role("button", name="Cấp lại mật khẩu: Nguyễn Văn An").click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text("Cấp lại mật khẩu cho Nguyễn Văn An?")
        expect(dialog).to_contain_text("sẽ bị đăng xuất")
        shots(page, "operator-members-reset-confirm")
        dialog.get_by_role("button", name="Hủy").click()
        expect(dialog).to_be_hidden()
        expect(page.locator(".login-card")).to_have_count(0)
        assert hub.http("GET", f"/api/sittings/{hub.sitting}/log", token=token)["records"]
        page.get_by_role("button", name="Cấp lại mật khẩu: Nguyễn Văn An").click()
        dialog.get_by_role("button", name="Cấp lại mật khẩu").click()
        expect(page.locator(".login-card")).to_have_count(1)
        # The member's session ended with the reset.
        answer = hub.http("GET", f"/api/sittings/{hub.sitting}/log", token=token)
        assert answer["code"] == "auth.invalid"
        assert errors == []
    finally:
        sc.close()
