"""The heartbeat a client promises in its hello: a peer that goes silent (a cut cable, a
tablet out of range: no FIN ever comes) is dropped within seconds, and a remote member's
presence follows; a peer that keeps its promise, or made none, is left alone."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import msgspec
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from server.protocol import HEARTBEAT_FLOOR_S
from tests.server.conftest import SCALE, SITTING, HubProcess

HEARTBEAT_MS = 250  # 4 missed beats is 1 s: the floor of 3 s applies


class Peer:
    """A raw WebSocket peer that says hello and then does only what it is told."""

    def __init__(self, port: int, hello: dict[str, Any]) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.proto = ClientProtocol(
            parse_uri(f"ws://127.0.0.1:{port}/ws"),
            subprotocols=[Subprotocol("nghitruong.v1.json")],
        )
        self.proto.send_request(self.proto.connect())
        self._flush()
        while self.proto.state is State.CONNECTING:
            self.proto.receive_data(self.sock.recv(65536))
        self.send({"t": "hello", "sitting": SITTING, **hello})
        self.hello_at = time.monotonic()  # the peer's last frame until told otherwise
        self.frames: list[dict[str, Any]] = []

    def _flush(self) -> None:
        self.sock.sendall(b"".join(self.proto.data_to_send()))

    def send(self, frame: dict[str, Any]) -> None:
        self.proto.send_text(msgspec.json.encode(frame))
        self._flush()

    def alive_for(self, seconds: float, ping_every: float | None) -> float | None:
        """Read (and ping, if asked) for ``seconds``; when the hub drops the connection,
        how long after the start; None if it stayed up."""
        start = time.monotonic()
        next_ping = start
        while (now := time.monotonic()) - start < seconds:
            if ping_every is not None and now >= next_ping:
                self.send({"t": "ping", "n": 1})
                next_ping = now + ping_every
            self.sock.settimeout(0.05)
            try:
                data = self.sock.recv(1 << 20)
            except TimeoutError:
                continue
            except ConnectionResetError:
                return time.monotonic() - start
            if not data:
                return time.monotonic() - start
            self.proto.receive_data(data)
            for frame in self.proto.events_received():
                if isinstance(frame, Frame) and frame.opcode is Opcode.TEXT:
                    self.frames.append(msgspec.json.decode(frame.data))
        return None

    def close(self) -> None:
        self.sock.close()


def token(hub: HubProcess, user: str) -> str:
    r = httpx.post(hub.url + "/api/login", json={"username": user, "password": hub.logins[user]})
    r.raise_for_status()
    return str(r.json()["token"])


def presence(hub: HubProcess, member: str) -> str:
    state = httpx.get(f"{hub.url}/api/sittings/{SITTING}").json()
    return str(state["attendance"][member])


def test_a_silent_peer_is_dropped_within_seconds_and_its_presence_follows(
    hub: HubProcess,
) -> None:
    peer = Peer(hub.port, {"token": token(hub, "db26"), "remote": True, "heartbeat": HEARTBEAT_MS})
    try:
        assert peer.alive_for(0.5, ping_every=None) is None  # the welcome comes
        assert peer.frames[0]["t"] == "welcome"
        deadline = time.monotonic() + 5 * SCALE
        while presence(hub, "db26") != "remote":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        # From now on the peer sends nothing: the hub drops it after the floor of 3 s,
        # counted from its last frame, the hello (the polling above may have taken a
        # while on a loaded machine, so the time is taken from the hello, not from here).
        began = time.monotonic()
        dropped = peer.alive_for(10 * SCALE, ping_every=None)
        assert dropped is not None, "the silent peer was never dropped"
        silent = began + dropped - peer.hello_at
        assert HEARTBEAT_FLOOR_S - 0.2 <= silent <= HEARTBEAT_FLOOR_S + 1.0 * SCALE, silent
        assert "silent past its heartbeat" in hub.output()
    finally:
        peer.close()
    # The remote member's grace (1 s on this hub) runs from the drop: then "left".
    deadline = time.monotonic() + 5 * SCALE
    while presence(hub, "db26") != "left":
        assert time.monotonic() < deadline, presence(hub, "db26")
        time.sleep(0.05)


def test_a_peer_that_keeps_its_heartbeat_or_promised_none_stays(hub: HubProcess) -> None:
    beating = Peer(hub.port, {"token": token(hub, "db27"), "heartbeat": HEARTBEAT_MS})
    promised_none = Peer(hub.port, {})  # a gallery of an older build, or server/client.py
    try:
        with ThreadPoolExecutor(2) as pool:
            kept = pool.submit(beating.alive_for, HEARTBEAT_FLOOR_S + 1.5, HEARTBEAT_MS / 1000)
            silent = pool.submit(promised_none.alive_for, HEARTBEAT_FLOOR_S + 1.5, None)
            assert (kept.result(), silent.result()) == (None, None)
        pongs = [f for f in beating.frames if f["t"] == "pong"]
        assert len(pongs) >= 10  # answered all along
    finally:
        beating.close()
        promised_none.close()
