"""Issue 7's probes of the socket and the command path, each a regression test: revoked
and expired sessions, floods that never read, hostile bytes, HTTP commands that name
another sitting or council, command ids reused for other commands."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import psutil
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from chamber import commands as c
from server.client import login
from server.protocol import JSON, MSGPACK
from tests.server.conftest import SCALE, SITTING, HubProcess, operator_token
from tests.server.frames import frame_for, frame_of

MB = 1024 * 1024

_opened: list[Any] = []


@pytest.fixture(autouse=True)
async def _close_raw_sockets() -> AsyncIterator[None]:
    yield
    while _opened:
        await _opened.pop().close()


async def connect(hub: HubProcess, protocol: str = MSGPACK, **options: Any) -> Any:
    url = hub.url.replace("http", "ws") + "/ws"
    ws = await websockets.connect(url, subprotocols=[protocol], **options)  # type: ignore[list-item]
    _opened.append(ws)
    return ws


async def hello(ws: Any, token: str | None = None) -> dict[str, Any]:
    await ws.send(frame_for(ws, {"t": "hello", "sitting": SITTING, "token": token}))
    return await next_frame(ws, "welcome")


async def next_frame(ws: Any, kind: str, cid: str | None = None) -> dict[str, Any]:
    while True:
        frame = frame_of(await asyncio.wait_for(ws.recv(), 10 * SCALE))
        if frame["t"] == kind and (cid is None or frame.get("id") == cid):
            return frame


async def answer(ws: Any, cid: str) -> dict[str, Any]:
    """The ack or error that answers command ``cid``."""
    while True:
        frame = frame_of(await asyncio.wait_for(ws.recv(), 10 * SCALE))
        if frame["t"] in ("ack", "error") and frame.get("id") == cid:
            return frame


async def closed_with(ws: Any, within_s: float) -> tuple[int | None, list[dict[str, Any]]]:
    """Read until the hub closes the socket; the close code and the frames before it."""
    frames = []
    deadline = time.monotonic() + within_s
    try:
        while True:
            left = deadline - time.monotonic()
            frames.append(frame_of(await asyncio.wait_for(ws.recv(), max(left, 0.001))))
    except ConnectionClosed:
        pass
    return ws.close_code, frames


def cmd_frame(cid: str, command: c.Command) -> dict[str, Any]:
    return {"t": "cmd", "id": cid, "cmd": msgspec.to_builtins(command)}


def rss(hub: HubProcess) -> int:
    assert hub.proc is not None
    return int(psutil.Process(hub.proc.pid).memory_info().rss)


def tracebacks(hub: HubProcess) -> int:
    return hub.output().count("Traceback")


# Defect 1: a revoked or expired session's sockets end


async def test_logout_ends_the_sessions_open_socket_before_it_returns(hub: HubProcess) -> None:
    token = await login(hub.url, "db11", hub.logins["db11"])
    ws = await connect(hub, JSON)
    await hello(ws, token)
    await ws.send(frame_for(ws, cmd_frame("in", c.CheckIn())))
    assert (await answer(ws, "in"))["t"] == "ack"
    async with httpx.AsyncClient(base_url=hub.url) as http:
        r = await http.post("/api/logout", headers={"authorization": f"Bearer {token}"})
        assert r.status_code == 200
    ended = time.monotonic()
    # Sent after the logout returned: never carried out (the hub may have closed the
    # socket already, the revocation's error written at once: then it is not even sent).
    with contextlib.suppress(ConnectionClosed):
        await ws.send(frame_for(ws, cmd_frame("after", c.Leave())))
    code, frames = await closed_with(ws, 5 * SCALE)
    assert code == 4401
    assert time.monotonic() - ended < 1.0 * SCALE
    assert not [f for f in frames if f["t"] == "ack" and f.get("id") == "after"]
    assert {f["code"] for f in frames if f["t"] == "error"} <= {"auth.revoked"}
    assert any(f["t"] == "error" and f["code"] == "auth.revoked" for f in frames)
    # The member is still checked in: the Leave after the logout changed nothing.
    async with httpx.AsyncClient(base_url=hub.url) as http:
        state = (await http.get(f"/api/sittings/{SITTING}")).json()
    assert state["attendance"]["db11"] == "in_hall"


async def test_a_password_reset_ends_the_members_sockets(hub: HubProcess) -> None:
    token = await login(hub.url, "db12", hub.logins["db12"])
    sockets = [await connect(hub, MSGPACK), await connect(hub, JSON)]
    for ws in sockets:
        await hello(ws, token)
    async with httpx.AsyncClient(base_url=hub.url) as http:
        r = await http.post(
            "/api/members/db12/login",
            headers={"authorization": f"Bearer {operator_token(hub)}"},
            json={"username": "db12"},
        )
        assert r.status_code == 200
        hub.logins["db12"] = r.json()["password"]
    for ws in sockets:
        code, frames = await closed_with(ws, 2 * SCALE)
        assert code == 4401
        assert frames[-1]["code"] == "auth.revoked"


TTL_S = 6


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    """A hub with short sessions, no frame limit, a small outbound bound and a small
    command budget (one hub for the tests that need one of them: each costs a start)."""
    h = HubProcess(
        tmp_path_factory.mktemp("tuned"),
        {
            "NGHITRUONG_SESSION_TTL_S": str(TTL_S),
            "NGHITRUONG_FRAMES_PER_S": "10000000",
            "NGHITRUONG_OUTBOUND_BYTES": "65536",
            "NGHITRUONG_COMMANDS_PER_S": "0.5",  # a burst of one, then one each 2 s
        },
    )
    h.start(demo=True)
    yield h
    h.stop()


async def test_an_expired_session_ends_its_socket(tuned: HubProcess) -> None:
    hub = tuned
    token = await login(hub.url, "db13", hub.logins["db13"])
    logged_in = time.monotonic()
    ws = await connect(hub, JSON)
    await hello(ws, token)
    code, frames = await closed_with(ws, TTL_S + 5 * SCALE)
    assert code == 4401
    assert frames[-1]["code"] == "auth.expired"
    assert time.monotonic() - logged_in < TTL_S + 1.0 * SCALE + 0.5  # expiry, then 1 s


async def test_a_revocation_by_another_process_ends_the_socket(hub: HubProcess) -> None:
    """What another hub node or the command line does to the shared store: the watch
    finds it on its own within a second."""
    token = await login(hub.url, "db14", hub.logins["db14"])
    ws = await connect(hub, JSON)
    await hello(ws, token)
    with sqlite3.connect(hub.data / "registry.sqlite3") as db:  # as another process would
        db.execute("UPDATE sessions SET revoked = 1 WHERE username = 'db14'")
    revoked = time.monotonic()
    code, _ = await closed_with(ws, 5 * SCALE)
    assert code == 4401
    assert time.monotonic() - revoked < 1.0 * SCALE + 0.5


# Defect 2: what a client sends is bounded, and so is what waits for it


async def test_a_ping_flood_that_never_reads_is_closed_and_costs_little(hub: HubProcess) -> None:
    before = rss(hub)
    ws = await connect(hub, MSGPACK, max_queue=1)  # reads nothing past one frame
    await hello(ws)
    ping = msgspec.msgpack.encode({"t": "ping", "n": 1})
    sent = 0
    # Loopback's socket buffers take megabytes of pings (12 bytes each) before a send
    # waits: the client may have written 200,000 before the hub's close reaches it, so it
    # sends up to ten times that (an unclosed flood would get all of them through).
    with pytest.raises(ConnectionClosed):
        for _ in range(2_000_000):
            await ws.send(ping)
            sent += 1
    # Closed 1008; the close frame waits behind what the client never reads, so the
    # client may only see the cut that follows it (1006).
    assert ws.close_code in (1006, 1008)
    assert "flooded the hub" in hub.output()
    assert sent < 2_000_000
    assert rss(hub) - before < 20 * MB


async def test_answers_left_unread_past_the_bound_cut_the_connection(tuned: HubProcess) -> None:
    """Even with no rate limit in the way, a client that sends and never reads is cut
    once what waits for it passes the outbound bound; the hub goes on serving."""
    hub = tuned
    before = rss(hub)
    ws = await connect(hub, MSGPACK, max_queue=1)
    await hello(ws)
    garbage = msgspec.msgpack.encode({"t": "cmd", "id": "x", "cmd": {"type": "nope"}})
    cut = False
    started = time.monotonic()
    try:
        for _ in range(400_000):  # each earns an error frame of some 200 bytes
            await ws.send(garbage)
            if time.monotonic() - started > 60 * SCALE:
                break
    except ConnectionClosed:
        cut = True
    assert cut, "the hub kept queueing answers for a client that never reads"
    assert "unread: cut" in hub.output()
    assert rss(hub) - before < 40 * MB
    other = await connect(hub, JSON)
    assert (await hello(other))["audience"] == "public"


# Defect 3: any bytes get a typed answer, never a traceback


@pytest.mark.parametrize(
    ("protocol", "data"),
    [
        (MSGPACK, bytes.fromhex("a2fffe")),  # a string that is not UTF-8
        (MSGPACK, b"\x91" * 1000 + b"\xc0"),  # arrays 1,000 deep
        (MSGPACK, b"\x81\xa1t" + b"\x81\xa1t" * 1000 + b"\xc0"),  # maps 1,000 deep
        (MSGPACK, b"\x82\xa1t\xa3cmd\xa2id\xa2ok\xa3cmd" + b"\x91" * 5000),  # truncated
        (JSON, "[" * 1000 + "]" * 1000),
        (JSON, '{"t": "cmd", "id": "a\\ud800", "cmd": 1}'),  # a lone surrogate
        (JSON, '{"t": "ping", "n": 1e999}'),
    ],
)
async def test_hostile_bytes_get_frame_malformed_and_the_socket_stays_usable(
    hub: HubProcess, protocol: str, data: bytes | str
) -> None:
    seen = tracebacks(hub)
    ws = await connect(hub, protocol)
    await hello(ws)
    await ws.send(data)
    error = await next_frame(ws, "error")
    assert error["code"] == "frame.malformed"
    await ws.send(frame_for(ws, {"t": "ping", "n": 7}))
    assert (await next_frame(ws, "pong"))["n"] == 7
    assert tracebacks(hub) == seen


async def test_hostile_hello_is_answered_and_closed_without_a_traceback(hub: HubProcess) -> None:
    seen = tracebacks(hub)
    ws = await connect(hub, MSGPACK)
    await ws.send(bytes.fromhex("a2fffe"))
    code, frames = await closed_with(ws, 5 * SCALE)
    assert code == 1002
    assert frames[0]["code"] == "frame.malformed"
    assert tracebacks(hub) == seen


# Defect 8: HTTP commands pass the socket's checks


async def test_an_http_schedule_must_name_its_path_and_the_registered_roster(
    hub: HubProcess, tmp_path: Path
) -> None:
    auth = {"authorization": f"Bearer {operator_token(hub)}"}
    async with httpx.AsyncClient(base_url=hub.url) as http:
        state = (await http.get(f"/api/sittings/{SITTING}")).json()
        council = state["council"]
        schedule = {"type": "sitting.schedule", "council": council, "title": "T"}
        schedule |= {"scheduled_at": 0}
        # The body names another sitting than the path's.
        r = await http.post(
            "/api/sittings/ky-hop-a/commands",
            headers=auth,
            json={"id": "s1", "cmd": {**schedule, "sitting": "ky-hop-b"}},
        )
        assert r.status_code == 422 and r.json()["code"] == "command.wrong_sitting"
        # The roster is not the council's as registered: a stranger among its members.
        stranger = {"id": "m-la", "name": "Người lạ", "seat": "99", "roles": ["chair"]}
        forged = {**council, "members": [*council["members"], stranger]}
        r = await http.post(
            "/api/sittings/ky-hop-a/commands",
            headers=auth,
            json={"id": "s2", "cmd": {**schedule, "sitting": "ky-hop-a", "council": forged}},
        )
        assert r.status_code == 422 and r.json()["code"] == "command.roster_mismatch"
        for sitting in ("ky-hop-a", "ky-hop-b"):
            assert (await http.get(f"/api/sittings/{sitting}")).status_code == 404
        # The registered roster under the path's id is accepted.
        r = await http.post(
            "/api/sittings/ky-hop-a/commands",
            headers=auth,
            json={"id": "s3", "cmd": {**schedule, "sitting": "ky-hop-a"}},
        )
        assert r.status_code == 200 and r.json()["ok"], r.text
        assert (await http.get("/api/sittings/ky-hop-a")).json()["id"] == "ky-hop-a"


async def test_a_member_of_another_council_may_not_command_over_http(hub: HubProcess) -> None:
    auth = {"authorization": f"Bearer {operator_token(hub)}"}
    async with httpx.AsyncClient(base_url=hub.url) as http:
        r = await http.post(
            "/api/councils",
            headers=auth,
            json={"id": "hdnd-phuong-khac", "name": "HĐND phường khác", "total_seats": 5},
        )
        assert r.status_code == 201, r.text
        r = await http.post(
            "/api/councils/hdnd-phuong-khac/members",
            headers=auth,
            json={"name": "Đại biểu khác", "roles": ["chair"]},
        )
        member = r.json()["id"]
        r = await http.post(f"/api/members/{member}/login", headers=auth, json={})
        card = r.json()
        token = await login(hub.url, card["username"], card["password"])
        r = await http.post(
            f"/api/sittings/{SITTING}/commands",
            headers={"authorization": f"Bearer {token}"},
            json={"id": "x1", "cmd": {"type": "attendance.check_in"}},
        )
        assert r.status_code == 403 and r.json()["code"] == "auth.not_a_member"
        ws = await connect(hub, JSON)
        await ws.send(frame_for(ws, {"t": "hello", "sitting": SITTING, "token": token}))
        code, frames = await closed_with(ws, 5 * SCALE)
        assert code == 1008 and frames[0]["code"] == "auth.not_a_member"


async def test_http_and_socket_commands_share_one_budget_per_principal(tuned: HubProcess) -> None:
    hub = tuned
    token = await login(hub.url, "db15", hub.logins["db15"])
    headers = {"authorization": f"Bearer {token}"}
    url = f"/api/sittings/{SITTING}/commands"
    ws = await connect(hub, JSON)
    await hello(ws, token)
    async with httpx.AsyncClient(base_url=hub.url) as http:
        await http.get("/healthz")  # the connection is open before the budget is spent
        answers = []
        for n in range(3):  # the burst spent on the socket
            await ws.send(frame_for(ws, cmd_frame(f"s{n}", c.CheckIn())))
            answers.append(await answer(ws, f"s{n}"))
            if answers[-1]["t"] == "error":
                break
        assert answers[0]["t"] == "ack" and answers[-1]["code"] == "rate.limited"
        r = await http.post(
            url, headers=headers, json={"id": "h1", "cmd": {"type": "attendance.check_in"}}
        )
        assert r.status_code == 429 and r.json()["code"] == "rate.limited"
        await asyncio.sleep(2.5)  # a token comes back: spent over HTTP, the socket waits
        r = await http.post(
            url, headers=headers, json={"id": "h2", "cmd": {"type": "attendance.check_in"}}
        )
        assert r.status_code == 200
        await ws.send(frame_for(ws, cmd_frame("s9", c.CheckIn())))
        assert (await answer(ws, "s9"))["code"] == "rate.limited"


# Defect 10: a reused command id with another command is refused


async def test_an_http_command_id_reused_for_another_command_is_refused(hub: HubProcess) -> None:
    token = await login(hub.url, "db16", hub.logins["db16"])
    headers = {"authorization": f"Bearer {token}"}
    url = f"/api/sittings/{SITTING}/commands"
    async with httpx.AsyncClient(base_url=hub.url) as http:
        first = await http.post(
            url, headers=headers, json={"id": "r", "cmd": {"type": "attendance.check_in"}}
        )
        again = await http.post(
            url, headers=headers, json={"id": "r", "cmd": {"type": "attendance.check_in"}}
        )
        assert first.json() == again.json() and first.json()["ok"]
        other = await http.post(
            url, headers=headers, json={"id": "r", "cmd": {"type": "attendance.leave"}}
        )
        assert other.status_code == 409
        assert other.json()["code"] == "command.id_reused"
        state = (await http.get(f"/api/sittings/{SITTING}")).json()
    assert state["attendance"]["db16"] == "in_hall"


# What a careful reviewer would also expect of the operator's forms


async def test_registry_forms_refuse_control_characters_bad_usernames_and_orphans(
    hub: HubProcess,
) -> None:
    auth = {"authorization": f"Bearer {operator_token(hub)}"}
    async with httpx.AsyncClient(base_url=hub.url) as http:
        r = await http.post(
            "/api/councils/hdnd-phuong-ben-thanh/members",
            headers=auth,
            json={"name": "Đại biểu\u0000ẩn"},
        )
        assert r.status_code == 422 and "$.name" in r.json()["params"]["detail"]
        for parent, kind, status in (("khong-co", "ward", 422), (None, "galaxy", 422)):
            council = {"id": "hdnd-moi", "name": "HĐND mới", "total_seats": 5, "kind": kind}
            r = await http.post("/api/councils", headers=auth, json={**council, "parent": parent})
            assert r.status_code == status, r.text
            assert r.json()["code"] == "request.invalid"
        assert "hdnd-moi" not in {
            c["id"] for c in (await http.get("/api/councils", headers=auth)).json()
        }
        for username in ("có dấu cách", "a\u0000b", "-dash-first"):
            r = await http.post(
                "/api/members/db20/login", headers=auth, json={"username": username}
            )
            assert r.status_code == 422, (username, r.text)
