"""Bad input gets a clear, typed error and changes nothing; the worst closes the
connection with the right code and never crashes the hub."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from chamber import commands as c
from chamber.ids import APPROVE
from server.client import Client, CommandRefused, login
from tests.server.conftest import SITTING, HubProcess, operator_token

JSON = "nghitruong.v1.json"
MSGPACK = "nghitruong.v1.msgpack"


_opened: list[Any] = []


async def raw(hub: HubProcess, protocol: str = JSON) -> Any:
    url = hub.url.replace("http", "ws") + "/ws"
    ws = await websockets.connect(url, subprotocols=[protocol])  # type: ignore[list-item]
    _opened.append(ws)
    return ws


@pytest.fixture(autouse=True)
async def _close_raw_sockets() -> AsyncIterator[None]:
    """Every raw socket a test opened is closed when it ends, whatever the hub did."""
    yield
    while _opened:
        await _opened.pop().close()


async def hello(ws: Any, token: str | None = None, sitting: str = SITTING) -> dict[str, Any]:
    await ws.send(msgspec.json.encode({"t": "hello", "sitting": sitting, "token": token}).decode())
    return dict(msgspec.json.decode(await ws.recv()))


async def next_frame(ws: Any, kind: str) -> dict[str, Any]:
    while True:
        frame = msgspec.json.decode(await asyncio.wait_for(ws.recv(), 5))
        if frame["t"] == kind:
            return dict(frame)


@pytest.fixture
async def chair(hub: HubProcess) -> AsyncIterator[Client]:
    token = await login(hub.url, "db01", hub.logins["db01"])
    client = Client(hub.url, SITTING, token)
    await client.connect()
    yield client
    await client.close()


async def test_garbage_frames_get_typed_errors_and_the_link_stays_usable(hub: HubProcess) -> None:
    ws = await raw(hub)
    welcome = await hello(ws)
    assert welcome["t"] == "welcome" and welcome["audience"] == "public"
    for garbage in (
        "{",
        "[]",
        '{"t":"cmd"}',
        '{"t":"nope"}',
        '{"t":"cmd","id":"","cmd":{}}',
        '{"t":"cmd","id":"x","cmd":{"type":"no.such.command"}}',
        '{"t":"cmd","id":"' + "x" * 65 + '","cmd":{"type":"sitting.open"}}',
    ):
        await ws.send(garbage)
        error = await next_frame(ws, "error")
        assert error["code"] == "frame.malformed" and error["message"]
    # A command that fails its schema is answered by its id, so the sender can settle it.
    await ws.send('{"t":"cmd","id":"c-41","cmd":{"type":"vote.cast","vote":7}}')
    error = await next_frame(ws, "error")
    assert (error["code"], error["id"]) == ("frame.malformed", "c-41")
    await ws.send('{"t":"ping","n":7}')
    assert (await next_frame(ws, "pong"))["n"] == 7
    await ws.close()


@pytest.mark.parametrize(
    ("lang", "words"), [("vi", "tối đa 500 ký tự"), ("en", "at most 500 characters")]
)
async def test_a_title_too_long_names_the_field_in_the_senders_language(
    hub: HubProcess, lang: str, words: str
) -> None:
    ws = await raw(hub)
    token = await login(hub.url, "db01", hub.logins["db01"])
    await ws.send(
        msgspec.json.encode(
            {"t": "hello", "sitting": SITTING, "token": token, "lang": lang}
        ).decode()
    )
    assert msgspec.json.decode(await ws.recv())["t"] == "welcome"
    cmd = {"type": "agenda.add", "title": "x" * 5000}
    await ws.send(msgspec.json.encode({"t": "cmd", "id": "c-long", "cmd": cmd}).decode())
    error = await next_frame(ws, "error")
    assert (error["code"], error["id"]) == ("frame.malformed", "c-long")
    (field,) = error["params"]["fields"]
    assert (field["field"], field["code"]) == ("title", "field.too_long")
    assert field["params"] == {"max": 500}
    assert words in error["message"] and error["message"] == field["message"]


async def test_the_wrong_kind_of_frame_closes_1003(hub: HubProcess) -> None:
    ws = await raw(hub, MSGPACK)
    await ws.send(msgspec.msgpack.encode({"t": "hello", "sitting": SITTING}))
    await ws.recv()
    await ws.send("text on a binary subprotocol")
    with pytest.raises(ConnectionClosed):
        while True:
            await ws.recv()
    assert ws.close_code == 1003


async def test_a_missing_or_unknown_subprotocol_is_refused_at_the_handshake(
    hub: HubProcess,
) -> None:
    for offered in ([], ["chat"]):
        with pytest.raises(InvalidStatus):
            await websockets.connect(hub.url.replace("http", "ws") + "/ws", subprotocols=offered)  # type: ignore[arg-type]


async def test_no_hello_first_closes_1002_and_an_unknown_sitting_4404(hub: HubProcess) -> None:
    ws = await raw(hub)
    await ws.send('{"t":"ping"}')
    assert (await next_frame(ws, "error"))["code"] == "protocol.hello_first"
    with pytest.raises(ConnectionClosed):
        await ws.recv()
    assert ws.close_code == 1002
    ws = await raw(hub)
    error = await hello(ws, sitting="no-such-sitting")
    assert error["code"] == "sitting.unknown"
    with pytest.raises(ConnectionClosed):
        await ws.recv()
    assert ws.close_code == 4404


async def test_an_oversized_frame_closes_1009(hub: HubProcess) -> None:
    ws = await raw(hub)
    await hello(ws)
    await ws.send('{"t":"ping","n":1,"pad":"' + "x" * 100_000 + '"}')
    with pytest.raises(ConnectionClosed):
        while True:
            await ws.recv()
    assert ws.close_code == 1009


async def test_bad_and_expired_tokens_are_refused(hub: HubProcess) -> None:
    ws = await raw(hub)
    error = await hello(ws, token="forged-token")
    assert error["code"] == "auth.invalid"
    with pytest.raises(ConnectionClosed):
        await ws.recv()
    assert ws.close_code == 1008
    token = await login(hub.url, "db09", hub.logins["db09"])
    async with httpx.AsyncClient() as http:
        r = await http.post(hub.url + "/api/logout", headers={"authorization": f"Bearer {token}"})
        assert r.status_code == 200
    ws = await raw(hub)
    assert (await hello(ws, token=token))["code"] == "auth.invalid"


async def test_the_public_and_the_wrong_role_are_refused(hub: HubProcess) -> None:
    gallery = Client(hub.url, SITTING)
    await gallery.connect()
    with pytest.raises(CommandRefused) as caught:
        await gallery.command(c.OpenSitting())
    assert caught.value.code == "permission.denied"
    token = await login(hub.url, "db12", hub.logins["db12"])
    delegate = Client(hub.url, SITTING, token)
    await delegate.connect()
    with pytest.raises(CommandRefused) as caught:
        await delegate.command(c.GrantNext())
    assert caught.value.code == "permission.denied"
    assert caught.value.params["command"] == "floor.next"
    await gallery.close()
    await delegate.close()


async def test_replayed_ids_get_the_original_answer_and_votes_after_close_are_refused(
    hub: HubProcess, chair: Client
) -> None:
    token = await login(hub.url, "db20", hub.logins["db20"])
    voter = Client(hub.url, SITTING, token, binary=False)
    await voter.connect()
    first = await voter.command(c.CheckIn(), id="same-id")
    again = await voter.command(c.CheckIn(), id="same-id")
    assert first == again
    seq_before = voter.seq
    # The same id with a different command is refused as such: never applied, and never
    # answered with the other command's ack (issue 7, defect 10).
    with pytest.raises(CommandRefused) as refused:
        await voter.command(c.Leave(), id="same-id")
    assert refused.value.code == "command.id_reused"
    assert refused.value.params == {"id": "same-id"}
    assert voter.seq == seq_before
    # The original command sent again still gets its own answer.
    assert await voter.command(c.CheckIn(), id="same-id") == first
    await voter.close()


async def test_operator_http_api_refuses_bad_input(hub: HubProcess) -> None:
    token = operator_token(hub)
    auth = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=hub.url) as http:
        assert (await http.get("/api/councils")).status_code == 401
        r = await http.post("/api/councils", headers=auth, content=b"{nope")
        assert r.status_code == 422 and r.json()["code"] == "request.invalid"
        r = await http.post(
            f"/api/sittings/{SITTING}/documents",
            headers=auth,
            files={"file": ("x.pdf", b"%PDF-1.4 not a pdf", "application/pdf")},
        )
        assert r.status_code == 422 and r.json()["code"] == "doc.unreadable"
        r = await http.post(
            f"/api/sittings/{SITTING}/documents",
            headers=auth,
            files={"file": ("x.exe", b"MZ", "application/x-msdownload")},
        )
        assert r.status_code == 415
        big = b"%PDF-1.4\n" + b"0" * (26 * 1024 * 1024)
        r = await http.post(
            f"/api/sittings/{SITTING}/documents",
            headers=auth,
            files={"file": ("big.pdf", big, "application/pdf")},
        )
        assert r.status_code == 413 and r.json()["code"] == "doc.too_large"
        r = await http.post("/api/login", json={"username": "db01", "password": "wrong"})
        assert r.status_code == 401 and r.json()["message"] == "Sai tên đăng nhập hoặc mật khẩu."
        r = await http.post(
            "/api/login",
            json={"username": "db01", "password": "wrong"},
            headers={"accept-language": "en"},
        )
        assert r.json()["message"] == "Wrong username or password."
        r = await http.post(
            "/api/councils", headers=auth, json={"id": "x", "name": "y", "total_seats": "many"}
        )
        assert r.status_code == 422


async def test_a_vote_after_close_is_refused_and_changes_nothing(
    hub: HubProcess, chair: Client
) -> None:
    for i in range(1, 21):  # the chair checks members in as a clerk may
        await chair.command(c.CheckIn(member=f"db{i:02d}"))
    await chair.command(c.OpenSitting())
    await chair.command(c.StartSitting())
    state = chair.state
    assert state is not None
    opened = await chair.command(c.OpenVote(motion=next(iter(state.motions))))
    assert opened.seq is not None
    await chair.wait_seq(opened.seq[1])
    vote = chair.state.open_vote().id  # type: ignore[union-attr]
    closed = await chair.command(c.CloseVote(vote=vote))
    assert closed.seq is not None
    with pytest.raises(CommandRefused) as caught:
        await chair.command(c.CastBallot(vote=vote, choice=APPROVE))
    assert caught.value.code == "vote.closed"
    assert "kết thúc" in caught.value.message
    await chair.wait_seq(closed.seq[1])
    assert chair.seq == closed.seq[1]  # nothing was appended for the refused ballot


async def test_a_refused_or_misaddressed_upload_leaves_no_document_behind(hub: HubProcess) -> None:
    auth = {"authorization": f"Bearer {operator_token(hub)}"}
    documents = hub.data / "documents"
    before = set(documents.iterdir()) if documents.exists() else set()
    png = b"\x89PNG\r\n\x1a\n" + b"refused upload"
    async with httpx.AsyncClient(base_url=hub.url) as http:
        r = await http.post(
            "/api/sittings/no-such-sitting/documents",
            headers=auth,
            files={"file": ("a.png", png, "image/png")},
        )
        assert r.status_code == 404 and r.json()["code"] == "sitting.unknown"
        r = await http.post(  # supersedes a document the sitting does not have: refused
            f"/api/sittings/{SITTING}/documents",
            headers=auth,
            files={"file": ("a.png", png, "image/png")},
            data={"supersedes": "f" * 64},
        )
        assert r.status_code >= 400 and r.json()["code"].startswith("doc.")
        after = set(documents.iterdir()) if documents.exists() else set()
        assert after == before
        r = await http.get("/api/documents/" + "e" * 64)
        assert r.status_code == 404 and r.json()["code"] == "doc.unknown"


async def test_councils_need_seats_and_a_usable_id_and_unknown_ones_are_404(
    hub: HubProcess,
) -> None:
    auth = {"authorization": f"Bearer {operator_token(hub)}"}
    async with httpx.AsyncClient(base_url=hub.url) as http:
        for bad in (
            {"id": "phuong-1", "name": "Phường 1", "total_seats": 0},
            {"id": "Phuong 1", "name": "Phường 1", "total_seats": 25},
            {"id": "phuong-1", "name": "", "total_seats": 25},
        ):
            r = await http.post("/api/councils", headers=auth, json=bad)
            assert r.status_code == 422 and r.json()["code"] == "request.invalid", bad
        r = await http.get("/api/councils/no-such-council/members", headers=auth)
        assert r.status_code == 404
        r = await http.get("/api/sittings/no-such-sitting", headers=auth)
        assert r.status_code == 404 and r.json()["params"] == {"sitting": "no-such-sitting"}
