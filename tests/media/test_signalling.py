"""Video links through the real hub, with aiortc peers in the test as the clients: the
signalling frames on /ws, the floor deciding who is forwarded, presence from the link,
server-side mute and the forwarded-packet counters. (The browser tests are in
test_browser_media.py; these run without a browser and without a namespace.)"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aioice.ice
import av
import httpx
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, VideoStreamTrack

from chamber import commands as c
from chamber.ids import Presence
from server.client import Client, login
from tests.server.conftest import SCALE, SITTING, HubProcess

pytestmark = pytest.mark.media


class Colour(VideoStreamTrack):
    """A small solid-colour camera (the hub forwards whatever it is; small keeps the
    encoder cheap on a loaded machine)."""

    def __init__(self, rgb: tuple[int, int, int]) -> None:
        super().__init__()
        self.rgb = bytes(rgb) * (160 * 120)

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame(160, 120, "rgb24")
        frame.planes[0].update(self.rgb)
        frame.pts, frame.time_base = pts, time_base
        return frame


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    env = {"NGHITRUONG_PRESENCE_GRACE_S": "1", "NGHITRUONG_MEDIA_HOSTS": "127.0.0.1"}
    h = HubProcess(tmp_path_factory.mktemp("hub"), env)
    h.start(demo=True)
    yield h
    h.stop()


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """aioice leaves 127.0.0.1 out of what it gathers; these peers use nothing else."""
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


class Peer:
    """A client's video link: a Client on /ws and an aiortc peer connection."""

    def __init__(self, client: Client, mode: str, colour: tuple[int, int, int] | None) -> None:
        self.client, self.mode = client, mode
        self.pc = RTCPeerConnection()
        self.frames = 0
        self.audio = 0
        self.endpoint = ""
        self._tasks: list[asyncio.Task[None]] = []
        if colour is not None:
            self.pc.addTrack(AudioStreamTrack())
            self.pc.addTrack(Colour(colour))
        else:
            self.pc.addTransceiver("audio", direction="recvonly")
            self.pc.addTransceiver("video", direction="recvonly")
        self.pc.on("track", self._track)

    def _track(self, track: Any) -> None:
        self._tasks.append(asyncio.ensure_future(self._drain(track)))

    async def _drain(self, track: Any) -> None:
        try:
            while True:
                await track.recv()
                if track.kind == "video":
                    self.frames += 1
                else:
                    self.audio += 1
        except MediaStreamError:
            return

    async def join(self) -> None:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        sdp = self.pc.localDescription.sdp
        await self.client.send_frame({"t": "media.offer", "sdp": sdp, "mode": self.mode})
        answer = await self.client.next_frame("media.answer", timeout=20 * SCALE)
        self.endpoint = answer["endpoint"]
        await self.pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))

    async def close(self) -> None:
        await self.pc.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def until(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout * SCALE
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@pytest.fixture
async def sitting(hub: HubProcess) -> AsyncIterator[dict[str, Client]]:
    names = ["db01", "db07", "db08", "vanhanh"]
    tokens = await asyncio.gather(*(login(hub.url, n, hub.logins[n]) for n in names))
    clients = {n: Client(hub.url, SITTING, t) for n, t in zip(names, tokens, strict=True)}
    try:
        for name in ("db01", "vanhanh"):  # the others only lend their tokens to their links
            await clients[name].connect()
        op = clients["vanhanh"]
        if op.state is not None and op.state.phase.value == "scheduled":
            for i in (*range(1, 7), *range(8, 23)):  # a quorum of 20; db07 joins by video
                await op.command(c.CheckIn(member=f"db{i:02d}"))  # type: ignore[arg-type]
            await clients["db01"].command(c.OpenSitting())
            await clients["db01"].command(c.StartSitting())
        yield clients
    finally:
        for name in ("db01", "vanhanh"):
            await clients[name].close()


def forwarded(hub: HubProcess, token: str) -> dict[str, int]:
    report = httpx.get(
        hub.url + f"/api/sittings/{SITTING}/media",
        headers={"authorization": f"Bearer {token}"},
        timeout=10,
    ).json()
    return dict(report["forwarded"])


async def test_the_floor_decides_who_is_forwarded(
    hub: HubProcess, sitting: dict[str, Client]
) -> None:
    chair = sitting["db01"]
    op_token = sitting["vanhanh"].token
    assert op_token is not None
    remote = Peer(Client(hub.url, SITTING, sitting["db07"].token), "publish", (200, 30, 30))
    silent = Peer(Client(hub.url, SITTING, sitting["db08"].token), "publish", (30, 30, 200))
    screen = Peer(Client(hub.url, SITTING), "receive", None)
    peers = [remote, silent, screen]
    try:
        for p in peers:
            await p.client.connect()
            await p.join()
        assert (remote.endpoint, silent.endpoint) == ("m:db07", "m:db08")
        # A live link is remote presence (db08 was checked in: stays in the hall).
        await until(
            lambda: (
                chair.state is not None and chair.state.attendance.get("db07") is Presence.REMOTE
            ),  # type: ignore[call-overload]
            15,
            "db07 recorded remote",
        )
        assert chair.state is not None
        assert chair.state.attendance.get("db08") is Presence.IN_HALL  # type: ignore[call-overload]
        await asyncio.sleep(1.5 * SCALE)
        before = await asyncio.to_thread(forwarded, hub, op_token)
        assert before.get("m:db07", 0) == 0 and before.get("m:db08", 0) == 0
        assert screen.frames == 0

        granted = await chair.command(c.GrantFloor(speaker="db07"))  # type: ignore[arg-type]
        assert granted.seq is not None
        started = time.monotonic()
        await until(lambda: screen.frames >= 5, 10, "the screen decodes db07")
        switch_s = time.monotonic() - started
        await until(lambda: screen.audio >= 10, 10, "the screen hears db07")
        after = await asyncio.to_thread(forwarded, hub, op_token)
        assert after["m:db07"] > 0 and after.get("m:db08", 0) == 0
        status = await screen.client.next_frame("media.status", timeout=10 * SCALE)
        while status["floor"] != "m:db07":
            status = await screen.client.next_frame("media.status", timeout=10 * SCALE)
        assert status["endpoints"][0]["name"]  # the speaker's name, for the caption
        print(f"floor granted to first decoded frames: {switch_s * 1000:.0f} ms")

        # A server-side mute takes db07 off the air whatever the floor says.
        await sitting["db01"].send_frame({"t": "media.mute", "endpoint": "m:db07"})
        await asyncio.sleep(1.0 * SCALE)
        muted = (await asyncio.to_thread(forwarded, hub, op_token))["m:db07"]
        await asyncio.sleep(1.0 * SCALE)
        assert (await asyncio.to_thread(forwarded, hub, op_token))["m:db07"] == muted
        await sitting["db01"].send_frame({"t": "media.mute", "endpoint": "m:db07", "muted": False})
        counts: list[int] = []

        def grows() -> bool:
            counts.append(forwarded(hub, op_token)["m:db07"])
            return counts[-1] > muted

        await until(grows, 10, "db07 forwarded again after the unmute")

        # The turn ends: db07 is forwarded to nobody again.
        assert chair.state is not None
        turn = next(t for t in chair.state.turns.values() if t.speaker == "db07")
        await chair.command(c.EndTurn(turn=turn.id))
        await asyncio.sleep(1.0 * SCALE)
        ended = (await asyncio.to_thread(forwarded, hub, op_token))["m:db07"]
        await asyncio.sleep(1.0 * SCALE)
        assert (await asyncio.to_thread(forwarded, hub, op_token))["m:db07"] == ended

        # The link and its socket close: after the grace period db07 is recorded as gone.
        await remote.close()
        await remote.client.close()
        await until(
            lambda: chair.state is not None and chair.state.attendance.get("db07") is Presence.LEFT,  # type: ignore[call-overload]
            15,
            "db07 recorded as left",
        )
    finally:
        for p in peers:
            await p.close()
            await p.client.close()
