"""aiortc peers standing in for browsers in the engine's tests: a publisher that encodes
small generated frames to VP8 and silence to Opus (aiortc's own encoders), and receivers
that count the encoded frames the hub forwards (their receivers yield packets, see
media/passthrough.py, so nothing is decoded)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import av
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCSessionDescription,
)
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, VideoStreamTrack

from media import passthrough

LOOPBACK = ("127.0.0.1",)


class Camera(VideoStreamTrack):
    """A small picture of one grey level at aiortc's pace (30 fps)."""

    def __init__(self, luma: int, size: tuple[int, int] = (160, 120)):
        super().__init__()
        self._luma = luma
        self._size = size

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        w, h = self._size
        frame = av.VideoFrame(width=w, height=h, format="yuv420p")
        for i, plane in enumerate(frame.planes):
            plane.update(bytes([self._luma if i == 0 else 128]) * plane.buffer_size)
        frame.pts, frame.time_base = pts, time_base
        return frame


class Counter:
    """What one received track brought: frames, keyframes, their timestamps."""

    def __init__(self) -> None:
        self.frames = 0
        self.keyframes = 0
        self.first_is_key: bool | None = None
        self.pts: list[int] = []
        self.keys_at: list[int] = []  # index in pts of each keyframe
        self.arrived: list[float] = []
        self.data: list[bytes] = []

    def add(self, packet: av.Packet) -> None:
        if self.first_is_key is None:
            self.first_is_key = packet.is_keyframe
        if packet.is_keyframe:
            self.keyframes += 1
            self.keys_at.append(len(self.pts))
        self.frames += 1
        assert packet.pts is not None
        self.pts.append(packet.pts)
        self.arrived.append(time.monotonic())
        self.data.append(bytes(packet))

    def lumas(self) -> list[int | None]:
        """Decode what arrived (VP8, small): the grey level of each frame, None where a
        frame did not decode."""
        codec = av.CodecContext.create("vp8", "r")
        out: list[int | None] = []
        for data in self.data:
            try:
                frames = codec.decode(av.Packet(data))
            except av.FFmpegError:
                frames = []
            if frames:
                luma = bytes(frames[0].planes[0])
                out.append(luma[len(luma) // 2])
            else:
                out.append(None)
        return out


async def _gathered(pc: RTCPeerConnection) -> str:
    with passthrough.host_addresses(LOOPBACK):
        await pc.setLocalDescription(await pc.createOffer())
    return str(pc.localDescription.sdp)


class Client:
    """One aiortc peer of the hub."""

    def __init__(self) -> None:
        # As browsers do; aiortc's "balanced" policy mis-bundles a third m-line of a kind.
        config = RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        self.pc = RTCPeerConnection(config)
        self.counters: dict[str, Counter] = {}  # by mid
        self.receivers: dict[str, RTCRtpReceiver] = {}
        self._tasks: list[asyncio.Task[None]] = []

    @classmethod
    def publisher(cls, luma: int = 200) -> Client:
        c = cls()
        c.camera = Camera(luma)
        c.pc.addTransceiver(AudioStreamTrack(), direction="sendrecv")
        c.pc.addTransceiver(c.camera, direction="sendrecv")
        return c

    @classmethod
    def receiver(cls, pairs: int = 1) -> Client:
        c = cls()
        for _ in range(pairs):
            c.pc.addTransceiver("audio", direction="recvonly")
            c.pc.addTransceiver("video", direction="recvonly")
        return c

    async def offer(self) -> str:
        return await _gathered(self.pc)

    async def accept(self, answer: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        for t in self.pc.getTransceivers():
            if t.currentDirection in ("recvonly", "sendrecv") and t.mid is not None:
                passthrough.forward_encoded(t.receiver)
                counter = self.counters[t.mid] = Counter()
                self.receivers[t.mid] = t.receiver
                self._tasks.append(asyncio.ensure_future(self._count(t.receiver, counter)))

    async def _count(self, receiver: RTCRtpReceiver, counter: Counter) -> None:
        while True:
            try:
                packet = await receiver.track.recv()
            except MediaStreamError:
                return
            counter.add(packet)

    def video(self, pair: int = 0) -> Counter:
        kinds = [t for t in self.pc.getTransceivers() if t.kind == "video"]
        return self.counters[kinds[pair].mid]

    def pair_audio(self, video_mid: str) -> Counter:
        """The audio track paired with the video m-line ``video_mid`` (the one before)."""
        mids = [t.mid for t in self.pc.getTransceivers()]
        return self.counters[mids[mids.index(video_mid) - 1] or ""]

    def audio(self, pair: int = 0) -> Counter:
        kinds = [t for t in self.pc.getTransceivers() if t.kind == "audio"]
        return self.counters[kinds[pair].mid]

    async def close(self) -> None:
        await self.pc.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def until(cond: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    """Poll ``cond`` until it holds; fail after ``timeout`` seconds (generous: the machine
    is shared)."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or cond}")
        await asyncio.sleep(0.05)
