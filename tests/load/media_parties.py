"""The parties of the media fan-out benchmark (tests/load/media_fanout.py), each run in a
process of its own: the hub under test (SittingMedia), the MediaRelay baseline hub, a
publisher, and a group of receivers. Each serves requests from the orchestrator over a
pipe, one at a time."""

from __future__ import annotations

import asyncio
import fractions
import math
import multiprocessing.connection
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

WIDTH, HEIGHT, FPS = 640, 360, 30
VIDEO_BPS = 700_000
GREY = {"A": 60, "B": 190}  # each publisher's background, read back from keyframes
LOOPBACK = ("127.0.0.1",)
Conn = multiprocessing.connection.Connection


# -- the parties (each in a process of its own) ---------------------------------------


class Party:
    async def handle(self, msg: tuple[Any, ...]) -> Any:
        raise NotImplementedError

    async def close(self) -> None:
        pass


def party_main(conn: Conn, role: str, params: dict[str, Any]) -> None:
    async def main() -> None:
        from media import passthrough

        passthrough.install()
        party: Party = await PARTIES[role](params)
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        loop.add_reader(conn.fileno(), lambda: inbox.put_nowait(conn.recv()))
        try:
            while True:
                msg = await inbox.get()
                if msg[0] == "quit":
                    break
                try:
                    reply = await party.handle(msg)
                except Exception as exc:  # reported to the orchestrator, which stops
                    reply = ("error", repr(exc))
                conn.send(reply)
        finally:
            loop.remove_reader(conn.fileno())
            await party.close()
            conn.send(("bye",))

    profile = params.get("profile")
    if profile:
        import cProfile

        cProfile.runctx("asyncio.run(main())", globals(), {"main": main}, profile)
    else:
        asyncio.run(main())


async def _answer_with(pc: Any, offer: str) -> str:
    from aiortc import RTCSessionDescription

    from media import passthrough

    await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
    answer = await pc.createAnswer()
    with passthrough.host_addresses(LOOPBACK):
        await pc.setLocalDescription(answer)
    return str(pc.localDescription.sdp)


def _new_pc() -> Any:
    from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection

    return RTCPeerConnection(
        RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
    )


class ForwardHub(Party):
    """The hub under test: SittingMedia, a sitting where A and B are remote members."""

    def __init__(self) -> None:
        from chamber import commands as c
        from media.peers import MediaConfig, SittingMedia
        from tests.chamber.play import Play, m

        self.c, self.m = c, m
        self.play = Play(n=5)
        self.play.check_in(1, 4, 5)
        for i in (2, 3):
            self.play.as_delegate(i, c.JoinRemote())
        self.play.do(c.OpenSitting())
        self.play.do(c.StartSitting())
        config = MediaConfig(host_addresses=LOOPBACK, max_endpoints=1000)
        self.sm = SittingMedia("bench", config, on_link=lambda e, up: None, on_change=lambda: None)

    async def handle(self, msg: tuple[Any, ...]) -> Any:
        from chamber.ids import TurnStatus
        from media.routing import Endpoint, EndpointId, Kind

        if msg[0] == "join":
            _, eid, offer = msg
            if eid in ("A", "B"):
                member = self.m(2 if eid == "A" else 3)
                ep = Endpoint(id=EndpointId(f"m:{eid}"), kind=Kind.REMOTE, member=member)
                return await self.sm.join(ep, offer, "publish", self.play.s)
            ep = Endpoint(id=EndpointId(eid), kind=Kind.GALLERY)
            return await self.sm.join(ep, offer, "receive", self.play.s)
        if msg[0] == "floor":  # the floor to A or B alone, in one step
            for turn in list(self.play.s.turns.values()):
                if turn.status is TurnStatus.SPEAKING:
                    self.play.do(self.c.EndTurn(turn=turn.id))
            self.play.tick(1)
            self.play.do(self.c.GrantFloor(speaker=self.m(2 if msg[1] == "A" else 3)))
            self.sm.update(self.play.s)
            return time.time()
        if msg[0] == "keyframe_in":  # when the hub got the first keyframe of `label` after t0
            _, t0, label = msg
            source = self.sm._sources[EndpointId(f"m:{label}")]
            return next((t for t in source.keyframes_in if t >= t0), None)
        if msg[0] == "status":
            status = self.sm.status()
            # Diagnostics from the engine's insides (not part of its API).
            tracks = [t for link in self.sm._links.values() for t in link.out_tracks()]
            sources = self.sm._sources.values()
            return {
                "connected": sum(s.connected for s in status),
                "forwarded": dict(self.sm.forwarded),
                "kbps": {s.id: s.kbps for s in status if s.kbps},
                "queue_flushes": sum(t.flushes for t in tracks),
                "frames_dropped": sum(t.dropped for t in tracks),
                "plis_to_publishers": sum(s.plis_sent for s in sources),
            }
        raise ValueError(msg)

    async def close(self) -> None:
        await self.sm.close()


class RelayHub(Party):
    """The baseline: plain aiortc, MediaRelay (decode once, encode per receiver)."""

    def __init__(self) -> None:
        from aiortc.contrib.media import MediaRelay

        self.relay = MediaRelay()
        self.pcs: list[Any] = []
        self.tracks: dict[str, Any] = {}

    async def handle(self, msg: tuple[Any, ...]) -> Any:
        from media.sdp import filter_offer

        if msg[0] == "join":
            _, eid, offer = msg
            offer, _ = filter_offer(offer)
            pc = _new_pc()
            self.pcs.append(pc)
            if eid in ("A", "B"):
                pc.on("track", lambda track: self.tracks.__setitem__(track.kind, track))
                return await _answer_with(pc, offer)
            from aiortc import RTCSessionDescription

            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
            for t in pc.getTransceivers():
                t.sender.replaceTrack(self.relay.subscribe(self.tracks[t.kind], buffered=False))
                t.direction = "sendonly"
            answer = await pc.createAnswer()
            from media import passthrough

            with passthrough.host_addresses(LOOPBACK):
                await pc.setLocalDescription(answer)
            return str(pc.localDescription.sdp)
        if msg[0] == "status":
            return {"connected": sum(pc.connectionState == "connected" for pc in self.pcs)}
        raise ValueError(msg)

    async def close(self) -> None:
        for pc in self.pcs:
            await pc.close()


class Publisher(Party):
    """640×360 at 30 fps: a bar moving over this publisher's grey; a 440 Hz tone."""

    def __init__(self, label: str) -> None:
        import aiortc.codecs.vpx
        import av
        from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

        # 700 kbps whatever the hub's bandwidth estimate says, as a browser's camera on a
        # good link (and as MEDIA-NOTES.md measured with): the load must not shrink when
        # the hub is slow.
        vpx = aiortc.codecs.vpx
        vpx.DEFAULT_BITRATE = vpx.MIN_BITRATE = vpx.MAX_BITRATE = VIDEO_BPS

        grey = GREY[label]
        # Top half: this publisher's flat grey (read back from keyframes). Bottom half: a
        # texture of 8×8 blocks scrolling sideways, for a camera-like bitrate.
        rng = random.Random(label)
        half = HEIGHT // 2
        blocks = [[rng.randrange(256) for _ in range(2 * WIDTH // 8)] for _ in range(HEIGHT // 8)]
        strip = [bytes(v for v in row for _ in range(8)) for row in blocks]
        lines = [strip[i // 8] for i in range(HEIGHT - half)]
        top = bytes([grey]) * WIDTH
        publisher = self

        class Camera(VideoStreamTrack):
            async def recv(self) -> av.VideoFrame:
                pts, time_base = await self.next_timestamp()
                frame = av.VideoFrame(width=WIDTH, height=HEIGHT, format="yuv420p")
                y = frame.planes[0]
                pad = b"\0" * (y.line_size - WIDTH)
                off = (pts // 3000 * 4) % WIDTH
                bottom = b"".join(line[off : off + WIDTH] + pad for line in lines)
                y.update((top + pad) * half + bottom)
                for plane in frame.planes[1:]:
                    plane.update(b"\x80" * plane.buffer_size)
                frame.pts, frame.time_base = pts, time_base
                publisher.frames += 1
                return frame

        tone = bytes(
            b
            for i in range(960)
            for b in int(8000 * math.sin(2 * math.pi * 440 * i / 48000)).to_bytes(
                2, "little", signed=True
            )
        )

        class Microphone(AudioStreamTrack):
            async def recv(self) -> av.AudioFrame:
                silence = await super().recv()
                frame = av.AudioFrame(format="s16", layout="mono", samples=960)
                frame.planes[0].update(tone)
                frame.sample_rate = 48000
                frame.pts, frame.time_base = silence.pts, fractions.Fraction(1, 48000)
                return frame

        self.frames = 0
        self.plis: list[float] = []  # when the hub's keyframe requests arrived
        self.pc = _new_pc()
        self.pc.addTransceiver(Microphone(), direction="sendonly")
        sender = self.pc.addTransceiver(Camera(), direction="sendonly").sender
        flag = sender._send_keyframe

        def keyframe_requested() -> None:
            self.plis.append(time.time())
            flag()

        sender._send_keyframe = keyframe_requested
        self.keys_out: list[tuple[float, int]] = []  # keyframes encoded: when, bytes
        encode = aiortc.codecs.vpx.Vp8Encoder.encode

        def logged(encoder: Any, frame: Any, force_keyframe: bool = False) -> Any:
            payloads, timestamp = encode(encoder, frame, force_keyframe)
            if payloads:
                _, data = aiortc.codecs.vpx.VpxPayloadDescriptor.parse(payloads[0])
                if data and data[0] & 1 == 0:
                    self.keys_out.append((time.time(), sum(map(len, payloads))))
            return payloads, timestamp

        aiortc.codecs.vpx.Vp8Encoder.encode = logged  # type: ignore[method-assign]

    async def handle(self, msg: tuple[Any, ...]) -> Any:
        from aiortc import RTCSessionDescription

        from media import passthrough

        if msg[0] == "offer":
            with passthrough.host_addresses(LOOPBACK):
                await self.pc.setLocalDescription(await self.pc.createOffer())
            return str(self.pc.localDescription.sdp)
        if msg[0] == "answer":
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=msg[1], type="answer"))
            return True
        if msg[0] == "frames":
            return self.frames
        if msg[0] == "pli_after":
            return next((t for t in self.plis if t >= msg[1]), None)
        if msg[0] == "key_after":
            return next(((t, n) for t, n in self.keys_out if t >= msg[1]), None)
        raise ValueError(msg)

    async def close(self) -> None:
        await self.pc.close()


class Receivers(Party):
    """A group of receivers (25 by default): recvonly audio + video.

    They count at the RTP level: each receiver's packet handler is swapped for a counter
    (frames end at the marker bit; a VP8 keyframe starts a frame with the P bit clear, and
    its packets are kept, the last few, to tell whose picture it is). No jitter buffer and
    no decoder thread, so that a hundred receivers fit beside the hub on a small machine;
    the hub under test is untouched.
    """

    def __init__(self, count: int) -> None:
        self.pcs = [_new_pc() for _ in range(count)]
        self.video = [0] * count
        self.audio = [0] * count
        self.keys: list[list[tuple[float, bytes]]] = [[] for _ in range(count)]
        for pc in self.pcs:
            pc.addTransceiver("audio", direction="recvonly")
            pc.addTransceiver("video", direction="recvonly")

    def _counter(self, i: int, kind: str) -> Callable[..., Awaitable[None]]:
        from aiortc.codecs.vpx import VpxPayloadDescriptor

        building: list[bytes] = []

        async def handle(packet: Any, arrival_time_ms: int = 0) -> None:
            if kind == "audio":
                self.audio[i] += 1
                return
            if not packet.payload:
                return
            descriptor, data = VpxPayloadDescriptor.parse(packet.payload)
            start = descriptor.partition_start and descriptor.partition_id == 0
            if start:
                building.clear()
                if data and data[0] & 1 == 0:
                    building.append(data)
            elif building:
                building.append(data)
            if packet.marker:
                self.video[i] += 1
                if building:
                    self.keys[i] = [*self.keys[i][-7:], (time.time(), b"".join(building))]
                    building.clear()

        return handle

    async def handle(self, msg: tuple[Any, ...]) -> Any:
        from aiortc import RTCSessionDescription

        from media import passthrough

        if msg[0] == "offers":
            offers = []
            for pc in self.pcs:
                with passthrough.host_addresses(LOOPBACK):
                    await pc.setLocalDescription(await pc.createOffer())
                offers.append(str(pc.localDescription.sdp))
            return offers
        if msg[0] == "answers":
            for i, (pc, sdp) in enumerate(zip(self.pcs, msg[1], strict=True)):
                await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
                for t in pc.getTransceivers():
                    t.receiver._handle_rtp_packet = self._counter(i, t.kind)
            return True
        if msg[0] == "counts":
            connected = sum(pc.connectionState == "connected" for pc in self.pcs)
            return {"video": list(self.video), "audio": list(self.audio), "up": connected}
        if msg[0] == "first_key":  # arrival of the first keyframe of `label` after t0
            _, t0, label = msg
            return [self._first_key(keys, t0, label) for keys in self.keys]
        raise ValueError(msg)

    @staticmethod
    def _first_key(keys: list[tuple[float, bytes]], t0: float, label: str) -> float | None:
        import av

        for at, data in keys:
            if at < t0:
                continue
            codec = av.CodecContext.create("vp8", "r")
            try:
                frames = codec.decode(av.Packet(data))
            except av.FFmpegError:
                continue
            if frames:
                plane = frames[0].planes[0]
                luma = bytes(plane)[8 * plane.line_size + 8]
                if abs(luma - GREY[label]) < 30:
                    return at
        return None

    async def close(self) -> None:
        for pc in self.pcs:
            await pc.close()


async def _make_forward(params: dict[str, Any]) -> Party:
    return ForwardHub()


async def _make_relay(params: dict[str, Any]) -> Party:
    return RelayHub()


async def _make_publisher(params: dict[str, Any]) -> Party:
    return Publisher(params["label"])


async def _make_receivers(params: dict[str, Any]) -> Party:
    return Receivers(params["count"])


PARTIES: dict[str, Callable[[dict[str, Any]], Awaitable[Party]]] = {
    "forward": _make_forward,
    "relay": _make_relay,
    "publisher": _make_publisher,
    "receivers": _make_receivers,
}
