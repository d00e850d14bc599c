"""A minimal aiortc peer for the harness's self-test, run as a program inside a namespace.

It is not the product's media code: it proves that the harness (namespace, Chromium flags,
fake cameras, colour sampling, getStats) works before the hub's media side exists, and
keeps proving it if the product breaks. It answers one browser offer, sends a solid-colour
video and silent audio back, and counts what it receives.

JSON lines on stdin, one answer line each on stdout:
  {"offer": "<sdp>", "colour": [r, g, b]}  ->  {"answer": "<sdp>"}
  {"stats": true}  ->  {"video": frames received, "audio": frames, "state": ...,
                        "local": [its candidates' addresses], "remote": [the browser's]}
End of input closes the connection and exits. Arguments: the addresses to gather ICE
candidates on (default 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import aioice.ice
import av
from aiortc import (
    AudioStreamTrack,
    MediaStreamTrack,
    RTCPeerConnection,
    RTCSessionDescription,
    VideoStreamTrack,
)
from aiortc.mediastreams import MediaStreamError

WIDTH, HEIGHT = 320, 180


HOSTS = sys.argv[1:] or ["127.0.0.1"]


def gather_on(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    """aioice leaves 127.0.0.1 out of the addresses it gathers (MEDIA-NOTES.md); in the
    test namespace it is the only address there is, unless the test names others (the
    namespace's end of a veth pair) as arguments."""
    return HOSTS


aioice.ice.get_host_addresses = gather_on


class Colour(VideoStreamTrack):
    """A solid colour at the pace aiortc's VideoStreamTrack sets (30 fps)."""

    def __init__(self, rgb: tuple[int, int, int]) -> None:
        super().__init__()
        frame = av.VideoFrame(WIDTH, HEIGHT, "rgb24")
        plane = frame.planes[0]
        plane.update(bytes(rgb) * (plane.line_size // 3) * HEIGHT)
        self.frame = frame.reformat(format="yuv420p")

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = self.frame
        frame.pts, frame.time_base = pts, time_base
        return frame


class Peer:
    def __init__(self) -> None:
        self.pc = RTCPeerConnection()
        self.counts = {"audio": 0, "video": 0}
        self.sinks: list[asyncio.Task[None]] = []
        self.pc.on("track", self.on_track)

    def on_track(self, track: MediaStreamTrack) -> None:
        self.sinks.append(asyncio.ensure_future(self.sink(track)))

    async def sink(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                await track.recv()
                self.counts[track.kind] += 1
        except MediaStreamError:
            return

    async def answer(self, offer: str, rgb: tuple[int, int, int]) -> str:
        await self.pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        self.pc.addTrack(AudioStreamTrack())
        self.pc.addTrack(Colour(rgb))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return self.pc.localDescription.sdp

    def stats(self) -> dict[str, Any]:
        local, remote = set(), set()
        for transceiver in self.pc.getTransceivers():
            ice = transceiver.receiver.transport.transport
            local |= {c.ip for c in ice.iceGatherer.getLocalCandidates()}
            remote |= {c.ip for c in ice.getRemoteCandidates()}
        return {
            **self.counts,
            "state": self.pc.connectionState,
            "local": sorted(local),
            "remote": sorted(remote),
        }

    async def close(self) -> None:
        await self.pc.close()
        for task in self.sinks:
            task.cancel()
        await asyncio.gather(*self.sinks, return_exceptions=True)


async def main() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    peer = Peer()
    try:
        while line := await reader.readline():
            request = json.loads(line)
            if "offer" in request:
                rgb = tuple(request["colour"])
                reply: dict[str, Any] = {"answer": await peer.answer(request["offer"], rgb)}
            else:
                reply = peer.stats()
            sys.stdout.write(json.dumps(reply) + "\n")
            sys.stdout.flush()
    finally:
        await peer.close()


if __name__ == "__main__":
    asyncio.run(main())
