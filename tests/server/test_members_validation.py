"""Issue 9's member bugs: blank, overlong and duplicate-seat members were accepted and then
no sitting could be scheduled. The registry's rules (names, seats, counts), the typed field
errors that carry them over HTTP in the user's language, deactivation instead of deletion,
title bounds, and a password reset that ends the member's open sessions."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from chamber.limits import NAME_MAX, TITLE_MAX
from server.client import login
from server.http_base import schema_problems
from server.member_rules import Invalid, Problem
from server.protocol import JSON
from server.registry import CouncilRow, MemberRow, NotFound, Registry
from tests.server import test_hardening as ws
from tests.server.conftest import SCALE, SITTING, HubProcess, operator_token

# The registry's rules, without a hub


@pytest.fixture
def reg(tmp_path: Path) -> Any:
    registry = Registry(tmp_path)
    registry.add_council(CouncilRow("hdnd-nho", "HĐND nhỏ", 3))
    yield registry
    registry.close()


def codes(err: pytest.ExceptionInfo[Invalid]) -> list[tuple[str, str]]:
    return [(p.field, p.code) for p in err.value.problems]


def test_names_are_trimmed_present_one_line_and_bounded(reg: Registry) -> None:
    for name, expected in (
        ("", "field.required"),
        ("   \u3000 ", "field.required"),
        ("x" * 699, "field.too_long"),
        ("Nguyễn\nVăn An", "field.one_line"),
    ):
        with pytest.raises(Invalid) as err:
            reg.add_member(MemberRow(f"m-{secrets.token_hex(2)}", "hdnd-nho", name))
        assert codes(err) == [("name", expected)]
    assert reg.members("hdnd-nho") == []
    with pytest.raises(Invalid) as err:
        reg.add_member(MemberRow("m1", "hdnd-nho", "x" * (NAME_MAX + 1)))
    assert err.value.problems[0].params["max"] == NAME_MAX
    row = reg.add_member(MemberRow("m1", "hdnd-nho", "  Nguyễn Văn An  ", " A-01 "))
    assert (row.name, row.seat) == ("Nguyễn Văn An", "A-01")
    assert reg.member("m1").name == "Nguyễn Văn An"


def test_a_seat_is_held_by_one_active_member(reg: Registry) -> None:
    reg.add_member(MemberRow("m1", "hdnd-nho", "Nguyễn Văn An", "A-01"))
    with pytest.raises(Invalid) as err:
        reg.add_member(MemberRow("m2", "hdnd-nho", "Trần Thị Bình", "a-01 "))
    assert err.value.problems == [
        Problem("seat", "member.seat_taken", {"seat": "A-01", "name": "Nguyễn Văn An"})
    ]
    reg.add_member(MemberRow("m2", "hdnd-nho", "Trần Thị Bình", ""))  # no seat: allowed
    reg.add_member(MemberRow("m3", "hdnd-nho", "Lê Văn Cường", ""))  # nor is a blank seat
    with pytest.raises(Invalid):  # an edit follows the same rule
        reg.update_member("m2", seat="A-01")
    # A deactivated member's seat is free; their coming back is refused while it is taken.
    reg.update_member("m1", active=False)
    reg.update_member("m2", seat="A-01")
    with pytest.raises(Invalid) as err:
        reg.update_member("m1", active=True)
    assert ("seat", "member.seat_taken") in codes(err)
    assert reg.member("m1").active is False


def test_active_members_fit_the_councils_seats(reg: Registry) -> None:
    for n in range(3):
        reg.add_member(MemberRow(f"m{n}", "hdnd-nho", f"Đại biểu {n}", str(n)))
    with pytest.raises(Invalid) as err:
        reg.add_member(MemberRow("m9", "hdnd-nho", "Đại biểu thừa", "9"))
    assert err.value.problems == [Problem("", "council.seats_full", {"seats": 3, "members": 3})]
    reg.update_member("m0", active=False)  # a deactivated member frees a seat
    reg.add_member(MemberRow("m9", "hdnd-nho", "Đại biểu mới", "9"))
    with pytest.raises(Invalid) as err:  # and cannot come back over the seats
        reg.update_member("m0", active=True)
    assert codes(err) == [("", "council.seats_full")]
    assert [m.id for m in reg.members("hdnd-nho", active_only=True)] == ["m1", "m2", "m9"]
    assert [m.id for m in reg.members("hdnd-nho")][-1] == "m0"  # listed, after the active
    with pytest.raises(NotFound):
        reg.update_member("nobody", name="X")


def test_edits_follow_the_rules_and_change_nothing_when_refused(reg: Registry) -> None:
    reg.add_member(MemberRow("m1", "hdnd-nho", "Nguyễn Văn An", "A-01"))
    with pytest.raises(Invalid) as err:
        reg.update_member("m1", name="  ", roles=("mayor",))
    assert codes(err) == [("name", "field.required"), ("roles", "field.choice")]
    assert reg.member("m1") == MemberRow("m1", "hdnd-nho", "Nguyễn Văn An", "A-01")
    edited = reg.update_member("m1", name=" Nguyễn Văn Ân ", roles=("delegate", "chair"))
    assert (edited.name, edited.roles) == ("Nguyễn Văn Ân", ("chair", "delegate"))
    assert reg.member("m1") == edited


def test_the_schemas_refusals_become_field_errors() -> None:
    def problem(raw: bytes) -> Problem:
        try:
            msgspec.json.decode(raw, type=CouncilRow)
        except msgspec.ValidationError as err:
            return schema_problems(err)[0]
        raise AssertionError("accepted")

    name = b'"name":"' + b"x" * 5000 + b'"'
    assert problem(b'{"id":"ok",' + name + b',"total_seats":3}') == Problem(
        "name", "field.too_long", {"max": 200}
    )
    assert problem(b'{"id":"Bad Id","name":"a","total_seats":3}') == Problem(
        "id", "field.id_format"
    )
    assert problem(b'{"id":"ok","name":"a","total_seats":0}') == Problem(
        "total_seats", "field.too_small", {"min": 1}
    )
    assert problem(b'{"id":"ok","name":"a","total_seats":"ba"}') == Problem(
        "total_seats", "field.not_a_number"
    )
    assert problem(b'{"id":"ok","name":"a\\nb","total_seats":3}').code == "field.one_line"
    assert problem(b'{"name":"a","total_seats":3}') == Problem("id", "field.required")
    assert problem(b'{"id":"ok","name":"a","total_seats":3,"kind":"x"}').code == "field.choice"


# Over HTTP: the typed error body, in the user's language


def op(hub: HubProcess, lang: str = "vi") -> dict[str, str]:
    return {"authorization": f"Bearer {operator_token(hub)}", "accept-language": lang}


def new_council(hub: HubProcess, seats: int = 3) -> str:
    council = f"hdnd-thu-{secrets.token_hex(3)}"
    body = {"id": council, "name": "HĐND thử", "total_seats": seats}
    r = httpx.post(hub.url + "/api/councils", json=body, headers=op(hub))
    assert r.status_code == 201, r.text
    return council


def field(answer: httpx.Response, name: str) -> dict[str, Any]:
    found = [f for f in answer.json()["fields"] if f["field"] == name]
    assert found, answer.text
    return found[0]


def test_bad_members_are_refused_with_the_reason_and_a_sitting_can_still_be_scheduled(
    hub: HubProcess,
) -> None:
    council = new_council(hub, seats=2)
    url = f"{hub.url}/api/councils/{council}/members"
    r = httpx.post(url, json={"name": "   "}, headers=op(hub))
    assert r.status_code == 422
    assert field(r, "name") == {
        "field": "name",
        "code": "field.required",
        "params": {},
        "message": "Không được để trống.",
    }
    r = httpx.post(url, json={"name": "x" * 699}, headers=op(hub, "en"))
    assert r.status_code == 422
    assert field(r, "name")["message"] == "Too long: at most 200 characters."
    assert r.json()["message"] == "Too long: at most 200 characters."  # not a bare "invalid"
    assert httpx.post(url, json={"name": "An", "seat": "1"}, headers=op(hub)).status_code == 201
    r = httpx.post(url, json={"name": "Bình", "seat": "1"}, headers=op(hub))
    assert r.status_code == 422
    assert field(r, "seat")["message"] == "Ghế 1 đã có đại biểu An."
    assert httpx.post(url, json={"name": "Bình", "seat": "2"}, headers=op(hub)).status_code == 201
    r = httpx.post(url, json={"name": "Cường", "seat": "3"}, headers=op(hub))
    assert r.status_code == 422 and field(r, "")["code"] == "council.seats_full"
    assert len(httpx.get(url, headers=op(hub)).json()) == 2
    body = {"council": council, "title": "Kỳ họp thứ nhất", "scheduled_at": 1_800_000_000_000}
    r = httpx.post(hub.url + "/api/sittings", json=body, headers=op(hub))
    assert r.status_code == 201, r.text


def test_council_fields_are_refused_beside_the_field(hub: HubProcess) -> None:
    url = hub.url + "/api/councils"
    r = httpx.post(url, json={"id": "ok-1", "name": "Ẫ" * 5000, "total_seats": 3}, headers=op(hub))
    assert r.status_code == 422
    assert field(r, "name")["message"] == "Dài quá mức cho phép: tối đa 200 ký tự."
    r = httpx.post(
        url, json={"id": "HĐND Bến Thành", "name": "X", "total_seats": 3}, headers=op(hub)
    )
    assert r.status_code == 422 and field(r, "id")["code"] == "field.id_format"
    r = httpx.post(url, json={"id": "ok-2", "name": "  ", "total_seats": 3}, headers=op(hub))
    assert r.status_code == 422 and field(r, "name")["code"] == "field.required"
    council = new_council(hub)
    r = httpx.post(url, json={"id": council, "name": "Trùng", "total_seats": 3}, headers=op(hub))
    assert r.status_code == 409 and field(r, "id")["code"] == "council.id_taken"
    body = {"id": "ok-3", "name": "X", "total_seats": 3, "parent": "khong-co"}
    r = httpx.post(url, json=body, headers=op(hub, "en"))
    assert (
        r.status_code == 422
        and field(r, "parent")["message"] == "There is no council khong-co to be the parent."
    )


def test_titles_are_bounded_with_a_typed_error(hub: HubProcess) -> None:
    council = new_council(hub)
    for title in ("Nghị quyết " * 62, "x" * 5000):
        assert len(title) > TITLE_MAX
        body = {"council": council, "title": title, "scheduled_at": 1_800_000_000_000}
        r = httpx.post(hub.url + "/api/sittings", json=body, headers=op(hub))
        assert r.status_code == 422
        assert field(r, "title") == {
            "field": "title",
            "code": "field.too_long",
            "params": {"max": TITLE_MAX},
            "message": f"Dài quá mức cho phép: tối đa {TITLE_MAX} ký tự.",
        }
    body = {"council": council, "title": "Kỳ họp", "scheduled_at": 1, "agenda": [{"title": " "}]}
    r = httpx.post(hub.url + "/api/sittings", json=body, headers=op(hub))
    assert r.status_code == 422 and field(r, "agenda[0].title")["code"] == "field.required"
    cmd = {"id": secrets.token_hex(4), "cmd": {"type": "agenda.add", "title": "y" * 5000}}
    r = httpx.post(f"{hub.url}/api/sittings/{SITTING}/commands", json=cmd, headers=op(hub))
    assert r.status_code == 422 and field(r, "cmd.title")["params"] == {"max": TITLE_MAX}


def test_a_member_on_a_roster_is_deactivated_not_deleted(hub: HubProcess) -> None:
    council = new_council(hub, seats=2)
    url = f"{hub.url}/api/councils/{council}/members"
    an = httpx.post(url, json={"name": "An", "seat": "1"}, headers=op(hub)).json()
    binh = httpx.post(url, json={"name": "Bình", "seat": "2"}, headers=op(hub)).json()
    body = {"council": council, "title": "Kỳ họp", "scheduled_at": 1_800_000_000_000}
    first = httpx.post(hub.url + "/api/sittings", json=body, headers=op(hub)).json()["id"]
    r = httpx.delete(f"{hub.url}/api/members/{an['id']}", headers=op(hub))
    assert r.status_code == 409
    assert r.json()["code"] == "member.in_sittings" and r.json()["params"]["count"] == 1
    r = httpx.patch(f"{hub.url}/api/members/{an['id']}", json={"active": False}, headers=op(hub))
    assert r.status_code == 200 and r.json()["active"] is False
    # A new member takes the freed seat; the next sitting's roster leaves An out, the
    # first sitting's record keeps An.
    cuong = httpx.post(url, json={"name": "Cường", "seat": "1"}, headers=op(hub)).json()
    second = httpx.post(hub.url + "/api/sittings", json=body, headers=op(hub)).json()["id"]
    roster = {
        m["id"] for m in httpx.get(f"{hub.url}/api/sittings/{second}").json()["council"]["members"]
    }
    assert roster == {binh["id"], cuong["id"]}
    kept = {
        m["id"] for m in httpx.get(f"{hub.url}/api/sittings/{first}").json()["council"]["members"]
    }
    assert an["id"] in kept
    r = httpx.patch(f"{hub.url}/api/members/{an['id']}", json={"active": True}, headers=op(hub))
    assert r.status_code == 422 and field(r, "seat")["code"] == "member.seat_taken"
    # A member on no roster can be deleted, with their login.
    late = httpx.patch(
        f"{hub.url}/api/members/{cuong['id']}", json={"active": False}, headers=op(hub)
    )
    assert late.status_code == 200
    dung = httpx.post(url, json={"name": "Dũng", "seat": "3"}, headers=op(hub)).json()
    httpx.post(f"{hub.url}/api/members/{dung['id']}/login", headers=op(hub)).raise_for_status()
    assert httpx.delete(f"{hub.url}/api/members/{dung['id']}", headers=op(hub)).json() == {
        "ok": True
    }
    assert dung["id"] not in {m["id"] for m in httpx.get(url, headers=op(hub)).json()}
    r = httpx.patch(
        f"{hub.url}/api/members/{an['id']}", json={"name": "Ân", "extra": 1}, headers=op(hub)
    )
    assert r.status_code == 422  # an unknown field is refused, not ignored


async def test_a_password_reset_ends_the_members_sessions_and_sockets(hub: HubProcess) -> None:
    token = await login(hub.url, "db15", hub.logins["db15"])
    sock = await ws.connect(hub, JSON)
    await ws.hello(sock, token)
    async with httpx.AsyncClient(base_url=hub.url) as http:
        r = await http.post("/api/members/db15/login", headers=op(hub))
        assert r.status_code == 200
        hub.logins["db15"] = r.json()["password"]
        code, frames = await ws.closed_with(sock, 5 * SCALE)
        assert code == 4401 and frames[-1]["code"] == "auth.revoked"
        after = await http.post("/api/logout", headers={"authorization": f"Bearer {token}"})
        assert after.status_code == 401  # the old token is dead too


async def test_a_deactivated_member_is_signed_out_and_cannot_log_in(hub: HubProcess) -> None:
    username, password = "db16", hub.logins["db16"]
    token = await login(hub.url, username, password)
    sock = await ws.connect(hub, JSON)
    await ws.hello(sock, token)
    async with httpx.AsyncClient(base_url=hub.url) as http:
        r = await http.patch("/api/members/db16", json={"active": False}, headers=op(hub))
        assert r.status_code == 200
        code, frames = await ws.closed_with(sock, 5 * SCALE)
        assert code == 4401 and frames[-1]["code"] == "auth.revoked"
        refused = await http.post(
            "/api/login",
            json={"username": username, "password": password},
            headers={"accept-language": "vi"},
        )
        assert refused.status_code == 403 and refused.json()["code"] == "auth.inactive"
        assert "ngừng hoạt động" in refused.json()["message"]
        wrong = await http.post("/api/login", json={"username": username, "password": "x" * 12})
        assert wrong.status_code == 401  # a wrong password says no more than before
        r = await http.patch("/api/members/db16", json={"active": True}, headers=op(hub))
        assert r.status_code == 200
    assert await login(hub.url, username, password)  # active again: the login works


# Import from a CSV file saved by Excel


def test_csv_import_previews_then_adds_all_or_nothing(hub: HubProcess) -> None:
    council = new_council(hub, seats=4)
    url = f"{hub.url}/api/councils/{council}/members/import"
    head = {**op(hub), "content-type": "text/csv"}
    # Excel in a vi-VN locale: a BOM, ';' separators, Vietnamese headers and role labels,
    # a quoted cell with the separator in it, a row left empty, CRLF line ends.
    good = (
        "\ufeffHọ và tên;Số ghế;Chức danh\r\n"
        '"Nguyễn Văn An; con";1;Chủ tọa\r\n'
        "Trần Thị Bình;2;\r\n"
        ";;\r\n"
        "Lê Văn Cường;3;Thư ký kỳ họp\r\n"
    ).encode()
    bad = good + "   ;2;Thị trưởng\r\n".encode()
    r = httpx.post(url, content=bad, headers=head)
    assert r.status_code == 200
    preview = r.json()
    assert preview["ok"] is False and preview["added"] == []
    assert [row["line"] for row in preview["rows"]] == [2, 3, 5, 6]
    assert preview["rows"][0]["name"] == "Nguyễn Văn An; con"
    assert preview["rows"][0]["roles"] == ["chair", "delegate"]
    errors = {(e["field"], e["code"]) for e in preview["rows"][3]["errors"]}
    assert errors == {
        ("name", "field.required"),
        ("roles", "field.choice"),
        ("seat", "import.seat_repeated"),
    }
    r = httpx.post(url + "?commit=true", content=bad, headers=head)
    assert r.status_code == 422 and r.json()["code"] == "import.refused"
    members_url = f"{hub.url}/api/councils/{council}/members"
    assert httpx.get(members_url, headers=op(hub)).json() == []  # nothing was added
    r = httpx.post(url + "?commit=true", content=good, headers=head)
    assert r.status_code == 200 and r.json()["ok"] is True
    listed = httpx.get(members_url, headers=op(hub)).json()
    assert [(m["seat"], m["name"]) for m in listed] == [
        ("1", "Nguyễn Văn An; con"),
        ("2", "Trần Thị Bình"),
        ("3", "Lê Văn Cường"),
    ]
    # Again: every seat is taken now, and four more do not fit the four seats.
    again = httpx.post(url, content=good, headers=head).json()
    assert {e["code"] for row in again["rows"] for e in row["errors"]} == {"member.seat_taken"}
    assert [e["code"] for e in again["errors"]] == ["import.over_seats"]


def test_csv_import_reads_commas_and_refuses_what_it_cannot_read(hub: HubProcess) -> None:
    council = new_council(hub, seats=5)
    url = f"{hub.url}/api/councils/{council}/members/import"
    head = {**op(hub), "content-type": "text/csv"}
    commas = "\ufeffName,Seat,Role\nNguyễn Văn An,A-01,chair\nTrần Thị Bình,A-02,Vice-chair\n"
    r = httpx.post(url, content=commas.encode(), headers=head)
    assert r.json()["ok"] is True, r.text
    assert [row["roles"] for row in r.json()["rows"]] == [
        ["chair", "delegate"],
        ["vice_chair", "delegate"],
    ]
    legacy = "Tên\nLê Văn An\n".encode("cp1258")  # Excel's older "CSV" (Windows-1258)
    r = httpx.post(url, content=legacy, headers={**head, "accept-language": "en"})
    assert r.status_code == 422
    assert field(r, "file")["message"].startswith("The file is not UTF-8.")
    r = httpx.post(url, content="Ghế;Chức danh\n1;\n".encode(), headers=head)
    assert r.status_code == 422 and field(r, "file")["code"] == "import.no_name_column"
    r = httpx.post(url, content=b"\xef\xbb\xbf\r\n", headers=head)
    assert r.status_code == 422 and field(r, "file")["code"] == "import.empty"
    r = httpx.post(url, content=b"Name\n", headers=head)
    assert r.json()["errors"][0]["code"] == "import.empty"
    assert httpx.get(f"{hub.url}/api/councils/{council}/members", headers=op(hub)).json() == []
