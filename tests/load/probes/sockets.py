"""Probes 1–3: revoked sessions, a ping flood that never reads, hostile msgpack bytes."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

import httpx
import msgspec
from websockets.exceptions import ConnectionClosed

from server.protocol import MSGPACK
from tests.load.probes.base import (
    MB,
    OPERATOR,
    Result,
    Rss,
    Scale,
    bearer,
    closed_with,
    cmd_frame,
    hello,
    next_frame,
    socket_to,
    state_of,
    token_of,
)
from tests.server.conftest import HubProcess
from tests.server.frames import frame_for

# 1. Revoked sessions


async def revoked_socket(
    hub: HubProcess, http: httpx.AsyncClient, member: str, revoke: Callable[[str], Awaitable[int]]
) -> tuple[str, bool]:
    """A member checks in over a socket, the session is revoked, and a Leave is sent at
    once: the socket must close 4401 within 1 s and the Leave must not be carried out."""
    token = await token_of(hub, member)
    async with socket_to(hub) as ws:
        await hello(ws, token)
        await ws.send(frame_for(ws, cmd_frame("in", {"type": "attendance.check_in"})))
        first = await next_frame(ws, ("ack", "error"), "in")
        status = await revoke(token)
        returned = time.monotonic()
        with contextlib.suppress(ConnectionClosed):
            await ws.send(frame_for(ws, cmd_frame("after", {"type": "attendance.leave"})))
        code, frames = await closed_with(ws, 3)
        took = time.monotonic() - returned
    acked = any(f["t"] == "ack" and f.get("id") == "after" for f in frames)
    attendance = (await state_of(http))["attendance"].get(member)
    ok = (
        first["t"] == "ack"
        and status == 200
        and code == 4401
        and took < 1.0
        and not acked
        and attendance == "in_hall"
    )
    closing = f"close {code} after {took:.2f} s" if code else f"still open after {took:.1f} s"
    later = "acked" if acked else "not acked"
    text = f"HTTP {status}, {closing}, later Leave {later}, attendance {attendance}"
    return text, ok


async def probe_revoked(hub: HubProcess, scale: Scale) -> Result:
    async with httpx.AsyncClient(base_url=hub.url, timeout=30) as http:
        op = await token_of(hub, OPERATOR)

        async def logout(token: str) -> int:
            return (await http.post("/api/logout", headers=bearer(token))).status_code

        async def reset(_token: str) -> int:
            r = await http.post(
                "/api/members/db22/login", headers=bearer(op), json={"username": "db22"}
            )
            if r.status_code == 200:
                hub.logins["db22"] = r.json()["password"]
            return r.status_code

        out_text, out_ok = await revoked_socket(hub, http, "db21", logout)
        reset_text, reset_ok = await revoked_socket(hub, http, "db22", reset)
    return Result(
        1,
        "logout / password reset with the member's socket open",
        f"logout: {out_text}; reset: {reset_text}",
        out_ok and reset_ok,
    )


# 2. A ping flood that never reads


async def probe_ping_flood(hub: HubProcess, scale: Scale) -> Result:
    ping = msgspec.msgpack.encode({"t": "ping", "n": 1})
    sent = 0
    outcome = "hub kept it open"
    closed = False
    started = time.monotonic()
    with Rss(hub) as rss:
        async with socket_to(hub, MSGPACK, max_queue=1) as ws:  # reads nothing past one frame
            await hello(ws)
            try:
                for _ in range(scale.pings):
                    await asyncio.wait_for(ws.send(ping), 10)
                    sent += 1
                    if time.monotonic() - started > 60:
                        break
            except (ConnectionClosed, OSError):
                closed = True
                outcome = f"hub closed it (close code {ws.close_code})"
            except TimeoutError:
                outcome = "hub stopped reading, connection left open (send blocked 10 s)"
            took = time.monotonic() - started
            await asyncio.sleep(0.5)  # what the hub frees, it frees by now
    ok = closed and rss.peak_growth < 30 * MB
    return Result(
        2,
        f"anonymous socket sends {scale.pings:,} msgpack pings, never reads",
        f"{sent:,} sent in {took:.1f} s, {outcome}, {rss.text()}",
        ok,
    )


# 3. Hostile msgpack bytes


async def probe_hostile_bytes(hub: HubProcess, scale: Scale) -> Result:
    cases = {
        "a2 ff fe": bytes.fromhex("a2fffe"),
        "arrays 1000 deep": b"\x91" * 1000 + b"\xc0",
        "maps 1000 deep": b"\x81\xa1t" * 1000 + b"\xc0",
    }
    seen = hub.output().count("Traceback")
    answers = []
    ok = True
    for name, data in cases.items():
        async with socket_to(hub, MSGPACK) as ws:
            await hello(ws)
            try:
                await ws.send(data)
                error = await next_frame(ws, ("error",), within_s=5)
                await ws.send(frame_for(ws, {"t": "ping", "n": 7}))
                pong = await next_frame(ws, ("pong",), within_s=5)
                usable = pong.get("n") == 7
                answers.append(f"{name}: {error['code']}, {'usable' if usable else 'unusable'}")
                ok = ok and error["code"] == "frame.malformed" and usable
            except (ConnectionClosed, TimeoutError):
                answers.append(f"{name}: closed {ws.close_code}")
                ok = False
    await asyncio.sleep(0.2)
    tracebacks = hub.output().count("Traceback") - seen
    return Result(
        3,
        "msgpack a2 ff fe and 1,000-deep nesting",
        "; ".join(answers) + f"; {tracebacks} new tracebacks in the hub's log",
        ok and tracebacks == 0,
    )
