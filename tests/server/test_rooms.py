"""Linked halls (rooms): the operator's API, the room's login, what a room may do, and the
video signalling checks that need no media (who may open which link)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from server.client import Client, CommandRefused, login
from server.seed import ROOM
from tests.server.conftest import SITTING, HubProcess, operator_token


def _auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def test_an_operator_adds_a_linked_hall_that_logs_in_as_a_room(hub: HubProcess) -> None:
    op = operator_token(hub)
    made = httpx.post(
        hub.url + "/api/councils/hdnd-phuong-ben-thanh/rooms",
        json={"name": "Điểm cầu khu phố 5"},
        headers=_auth(op),
    )
    assert made.status_code == 201, made.text
    room = made.json()
    assert room["id"].startswith("room-") and room["username"] == room["id"]
    assert len(room["password"]) >= 12
    listed = httpx.get(
        hub.url + "/api/councils/hdnd-phuong-ben-thanh/rooms", headers=_auth(op)
    ).json()
    assert {"id": room["id"], "name": "Điểm cầu khu phố 5", "username": room["id"]} in listed
    assert all("password" not in r for r in listed)

    session = httpx.post(
        hub.url + "/api/login", json={"username": room["username"], "password": room["password"]}
    ).json()
    assert session["kind"] == "room" and session["name"] == "Điểm cầu khu phố 5"
    assert session["roles"] == ["room"]

    # A reset ends the room's sessions and shows a new password once.
    reset = httpx.post(hub.url + f"/api/rooms/{room['id']}/password", headers=_auth(op))
    assert reset.status_code == 200 and reset.json()["password"] != room["password"]
    gone = httpx.get(hub.url + f"/api/sittings/{SITTING}/media", headers=_auth(session["token"]))
    assert gone.status_code == 401


def test_rooms_are_for_operators_and_for_known_councils(hub: HubProcess) -> None:
    op = operator_token(hub)
    member = httpx.post(
        hub.url + "/api/login", json={"username": "db01", "password": hub.logins["db01"]}
    ).json()["token"]
    path = "/api/councils/hdnd-phuong-ben-thanh/rooms"
    assert httpx.get(hub.url + path, headers=_auth(member)).status_code == 403
    assert httpx.post(hub.url + path, json={"name": "x"}).status_code == 401
    assert httpx.post(hub.url + path, json={"name": "   "}, headers=_auth(op)).status_code == 422
    assert (
        httpx.post(hub.url + path, json={"name": "x" * 201}, headers=_auth(op)).status_code == 422
    )
    unknown = "/api/councils/khong-co/rooms"
    assert httpx.get(hub.url + unknown, headers=_auth(op)).status_code == 404
    assert (
        httpx.post(hub.url + "/api/rooms/room-0000/password", headers=_auth(op)).status_code == 404
    )


async def test_the_demo_hall_is_a_guest_that_sees_the_public_view_and_commands_nothing(
    hub: HubProcess,
) -> None:
    token = await login(hub.url, ROOM, hub.logins[ROOM])
    async with Client(hub.url, SITTING, token) as room:
        assert room.welcome["role"] == "room" and room.welcome["audience"] == "public"
        assert room.welcome["member"] is None
        assert room.state is not None and ROOM in room.state.guests
        with pytest.raises(CommandRefused) as refused:
            await room.command({"type": "floor.request"})
        assert refused.value.code == "permission.denied"
        # Only the presiding officers mute; a room may not open a console.
        await room.send_frame({"t": "media.mute", "endpoint": "m:db01", "muted": True})
        assert (await room.next_frame("error"))["code"] == "media.not_allowed"
        await room.send_frame({"t": "media.offer", "sdp": "v=0", "mode": "console"})
        error = await room.next_frame("error")
        assert error["code"] == "media.not_allowed" and error["params"] == {"mode": "console"}
    async with httpx.AsyncClient() as http:
        refused_http = await http.post(
            hub.url + f"/api/sittings/{SITTING}/commands",
            json={"id": "r1", "cmd": {"type": "floor.request"}},
            headers=_auth(token),
        )
    assert refused_http.status_code == 403
    assert refused_http.json()["code"] == "permission.denied"


async def test_who_may_open_which_video_link(hub: HubProcess) -> None:
    async with Client(hub.url, SITTING) as public:
        await public.send_frame({"t": "media.offer", "sdp": "v=0", "mode": "publish"})
        assert (await public.next_frame("error"))["code"] == "media.not_allowed"
        await asyncio.sleep(1.05)  # one offer a second
        await public.send_frame({"t": "media.offer", "sdp": "v=0", "mode": "console"})
        assert (await public.next_frame("error"))["code"] == "media.not_allowed"
        # An SDP that is not one is refused, and nothing is left behind.
        await asyncio.sleep(1.05)  # one offer a second
        await public.send_frame({"t": "media.offer", "sdp": "v=0", "mode": "receive"})
        assert (await public.next_frame("error"))["code"] == "media.bad_offer"
        # One offer a second: a second at once is rate limited.
        await public.send_frame({"t": "media.offer", "sdp": "v=0", "mode": "receive"})
        assert (await public.next_frame("error"))["code"] == "rate.limited"
        await public.send_frame({"t": "media.offer", "sdp": "", "mode": "receive"})
        assert (await public.next_frame("error"))["code"] == "frame.malformed"
        await public.send_frame({"t": "media.leave"})  # without a link: nothing to do
    op = await login(hub.url, "vanhanh", hub.logins["vanhanh"])
    token = await login(hub.url, "db12", hub.logins["db12"])
    async with httpx.AsyncClient() as http:
        report = (
            await http.get(hub.url + f"/api/sittings/{SITTING}/media", headers=_auth(op))
        ).json()
        assert report["enabled"] is True
        assert not [e for e in report["endpoints"] if e["kind"] == "gallery"]
        member = await http.get(hub.url + f"/api/sittings/{SITTING}/media", headers=_auth(token))
        assert member.status_code == 403
