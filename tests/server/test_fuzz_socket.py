"""Fuzzed frames against a live hub (issue 7, defect 3 and "Tests that stay").

Each example opens a socket (MessagePack or JSON), says hello (a valid one, or a fuzzed
frame in its place) and sends a few fuzzed frames. Every frame gets a typed frame back (an
error with a stable code and a message from the catalogue, or a pong), or the hub closes
the connection with a documented code; the hub never logs a traceback, and a valid ping
on a new connection is answered after every example.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import httpx
import msgspec
import pytest
import websockets
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed

from server.protocol import JSON, MSGPACK
from tests.server.conftest import SCALE, SITTING, HubProcess
from tests.server.frames import NASTY_JSON, NASTY_MSGPACK, frames

TIMEOUT = 10 * SCALE
#: Close codes of docs/protocol.md a hostile client may be given.
DOCUMENTED = {1002, 1003, 1008, 1009, 4404}
SERVER_KINDS = {"welcome", "events", "view", "ack", "error", "snapshot", "pong"}
REPLIES = {"error", "pong", "ack", "welcome"}
_pings = itertools.count(1)


def decode(raw: bytes | str, binary: bool) -> dict[str, Any]:
    """A frame from the hub: it must be of the connection's kind and well formed."""
    assert isinstance(raw, bytes) == binary, f"a {type(raw).__name__} frame on the wrong socket"
    frame = msgspec.msgpack.decode(raw) if isinstance(raw, bytes) else msgspec.json.decode(raw)
    assert isinstance(frame, dict) and frame.get("t") in SERVER_KINDS, frame
    if frame["t"] == "error":
        code, message = frame.get("code"), frame.get("message")
        assert isinstance(code, str) and code, frame
        assert isinstance(message, str) and message and message != f"error.{code}", frame
    return frame


async def answer(ws: Any, binary: bool) -> dict[str, Any] | None:
    """The next reply (skipping events and views), or None once the hub has closed."""
    while True:
        try:
            raw = await asyncio.wait_for(ws.recv(), TIMEOUT)
        except ConnectionClosed:
            return None
        frame = decode(raw, binary)
        if frame["t"] in REPLIES:
            return frame


def closed_as_documented(ws: Any) -> None:
    code = ws.close_code
    assert code in DOCUMENTED, f"closed with {code} {ws.close_reason!r}"


def as_sent(data: bytes, binary: bool, wrong_kind: bool) -> bytes | str:
    """The frame as a client sends it: binary frames for msgpack, text for JSON (a text
    frame is UTF-8 on the wire, so bytes that are not become replacement characters),
    or the other kind of frame on purpose."""
    text = data.decode("utf-8", errors="replace")
    if binary:
        return text if wrong_kind else data
    return data if wrong_kind else text


async def exchange(
    hub: HubProcess,
    binary: bool,
    hello: bytes | None,
    sent: list[tuple[bytes, bool]],
    token: str | None = None,
) -> None:
    """A conversation: a valid hello (public, or a delegate's with ``token``) or a fuzzed
    one, then the fuzzed frames, each answered or the connection closed as documented."""
    url = hub.url.replace("http", "ws", 1) + "/ws"
    protocol = MSGPACK if binary else JSON
    async with websockets.connect(
        url,
        subprotocols=[protocol],  # type: ignore[list-item]
        max_size=None,
        open_timeout=TIMEOUT,
    ) as ws:
        if hello is None:
            frame = {"t": "hello", "sitting": SITTING, "token": token}
            await ws.send(
                msgspec.msgpack.encode(frame) if binary else msgspec.json.encode(frame).decode()
            )
            first = await answer(ws, binary)
            assert first is not None and first["t"] == "welcome", first
        else:
            await ws.send(as_sent(hello, binary, False))
            first = await answer(ws, binary)
            if first is None:
                closed_as_documented(ws)
                return
            if first["t"] != "welcome":  # a hello refused: an error, then the close
                assert first["t"] == "error", first
                assert await answer(ws, binary) is None
                closed_as_documented(ws)
                return
        for data, wrong_kind in sent:
            try:
                await ws.send(as_sent(data, binary, wrong_kind))
            except ConnectionClosed:
                closed_as_documented(ws)
                return
            reply = await answer(ws, binary)
            if reply is None:
                closed_as_documented(ws)
                return
            assert reply["t"] in ({"error", "pong"} if token is None else REPLIES - {"welcome"})


async def ping_works(hub: HubProcess) -> None:
    """A new connection says hello and gets its ping answered."""
    n = next(_pings)
    url = hub.url.replace("http", "ws", 1) + "/ws"
    async with websockets.connect(
        url,
        subprotocols=[MSGPACK],  # type: ignore[list-item]
        open_timeout=TIMEOUT,
    ) as ws:
        await ws.send(msgspec.msgpack.encode({"t": "hello", "sitting": SITTING}))
        assert (await answer(ws, True) or {}).get("t") == "welcome"
        await ws.send(msgspec.msgpack.encode({"t": "ping", "n": n}))
        pong = await answer(ws, True)
        assert pong is not None and pong["t"] == "pong" and pong["n"] == n, pong


def tracebacks(hub: HubProcess, since: int) -> str:
    with hub.log.open("rb") as f:
        f.seek(since)
        text = f.read().decode("utf-8", errors="replace")
    return text if "Traceback" in text else ""


@st.composite
def conversations(draw: st.DrawFn) -> tuple[bool, bytes | None, list[tuple[bytes, bool]]]:
    binary = draw(st.booleans())
    # Mostly a valid hello, so that the fuzzed frames after it are read; sometimes a fuzzed
    # frame in its place.
    valid_hello = draw(st.sampled_from([True, True, True, False]))
    hello = None if valid_hello else draw(frames(binary))
    sent = draw(
        st.lists(
            st.tuples(frames(binary), st.sampled_from([False] * 9 + [True])),
            min_size=1 if valid_hello else 0,
            max_size=4,
        )
    )
    return binary, hello, sent


def test_fuzzed_frames_on_a_live_socket(hub: HubProcess) -> None:
    # A delegate's fuzzed commands reach the sequencer and the core; the public's stop at
    # the permission check.
    r = httpx.post(
        hub.url + "/api/login",
        json={"username": "db07", "password": hub.logins["db07"]},
        timeout=TIMEOUT,
    )
    r.raise_for_status()
    delegate = str(r.json()["token"])

    @settings(
        max_examples=200,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(conversations(), st.booleans())
    @example((True, None, [(b"\xa2\xff\xfe", False)]), False)
    @example((True, None, [(b"\xa2\xff\xfe", False)]), True)
    @example((True, None, [(b"\x91" * 1000 + b"\xc0", False)]), False)
    @example((False, None, [(b"[" * 1000 + b"]" * 1000, False)]), False)
    @example((True, b"\xa2\xff\xfe", []), False)
    @example((False, b"[" * 1000 + b"]" * 1000, []), False)
    @example((True, None, [(b"\xc4" + b"x" * 70_000, False)]), False)  # over the frame limit: 1009
    @example((True, None, [(b"\x81\xa1t\xa4ping", True)]), False)  # text on a binary socket: 1003
    @example((False, None, [(b'{"t":"ping"}', True)]), False)  # binary on a text socket: 1003
    def run(
        conversation: tuple[bool, bytes | None, list[tuple[bytes, bool]]], member: bool
    ) -> None:
        since = hub.log.stat().st_size
        asyncio.run(exchange(hub, *conversation, token=delegate if member else None))
        asyncio.run(ping_works(hub))
        assert not tracebacks(hub, since), tracebacks(hub, since)[-4000:]

    run()
    assert "Traceback" not in hub.output()


@pytest.mark.parametrize(
    ("binary", "data"),
    [(True, d) for d in NASTY_MSGPACK] + [(False, d) for d in NASTY_JSON],
    ids=lambda v: v[:12].hex() if isinstance(v, bytes) else ("msgpack" if v else "json"),
)
def test_known_nasty_frames_on_a_live_socket(hub: HubProcess, binary: bool, data: bytes) -> None:
    """Each frame that once escaped the decoder, after a valid hello and as the hello."""
    since = hub.log.stat().st_size
    asyncio.run(exchange(hub, binary, None, [(data, False)]))
    asyncio.run(exchange(hub, binary, data, []))
    asyncio.run(ping_works(hub))
    assert not tracebacks(hub, since), tracebacks(hub, since)[-4000:]
