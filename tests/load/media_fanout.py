"""Benchmark of the media hub (run by `make bench`, not by `make test`).

    python tests/load/media_fanout.py --receivers N

One publisher sends 640×360 VP8 at 30 fps, 700 kbps, and Opus (aiortc's encoders; the
top half a grey that names the publisher, the bottom half a scrolling texture) to a hub;
N receivers (aiortc peers counting what arrives at the RTP level, 25 per process) take
the floor from the hub. Every party runs in its own process, so the hub's CPU (psutil,
user + system time of the hub process over the measurement window; 100% = one core) is
the hub's alone; the machine's load is recorded beside it, since other work on a shared
machine shows in every figure. Measured in the same run:

- forwarding: the hub is ``media.peers.SittingMedia`` (encoded frames forwarded) with a
  second publisher B, silenced; frame rates on every receiver; then floor switches
  A → B → A … : the time from the hub's switch to the first frame of the new speaker at
  each receiver (that frame is a keyframe, decoded to check whose picture it is), p50 /
  p95 / max, and per switch where the time went (PLI at the publisher, keyframe encoded,
  keyframe at the hub);
- MediaRelay: a hub of plain aiortc with ``MediaRelay`` (decode once, encode per receiver,
  ``buffered=False``) with min(N, --relay-receivers) receivers (default 5: it saturates a
  core at about ten, MEDIA-NOTES.md, and the machine is shared): its CPU per receiver is
  what compares.

Writes artifacts/bench-media.json; the last line printed is
``forwarding: N receivers, X% of one core``. Targets: 100 receivers within one core at
full frame rate; 50 receivers ≤ 40%; switch ≤ 1 s p95. Every wait is bounded and the whole
run stops by itself (--budget seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fractions
import json
import math
import multiprocessing
import multiprocessing.connection
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import psutil

WIDTH, HEIGHT, FPS = 640, 360, 30
VIDEO_BPS = 700_000
PER_PROCESS = 25  # receivers per receiver process
GREY = {"A": 60, "B": 190}  # each publisher's background, read back from keyframes
LOOPBACK = ("127.0.0.1",)
Conn = multiprocessing.connection.Connection


# -- the parties (each in a process of its own) ---------------------------------------


class Party:
    async def handle(self, msg: tuple[Any, ...]) -> Any:
        raise NotImplementedError

    async def close(self) -> None:
        pass


def _party_main(conn: Conn, role: str, params: dict[str, Any]) -> None:
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
    """Up to PER_PROCESS receivers: recvonly audio + video.

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


# -- the orchestrator ------------------------------------------------------------------


class Fleet:
    """The processes of one phase; every call has a deadline, and leaving the block
    stops them all (politely, then by force)."""

    def __init__(self, deadline: float) -> None:
        self.ctx = multiprocessing.get_context("spawn")
        self.deadline = deadline
        self.procs: list[tuple[Any, Conn]] = []

    def start(self, role: str, **params: Any) -> tuple[Any, Conn]:
        here, there = self.ctx.Pipe()
        proc = self.ctx.Process(target=_party_main, args=(there, role, params), daemon=True)
        proc.start()
        self.procs.append((proc, here))
        return proc, here

    def call(self, conn: Conn, *msg: Any, timeout: float = 60) -> Any:
        conn.send(msg)
        left = min(timeout, self.deadline - time.monotonic())
        if left <= 0 or not conn.poll(left):
            raise TimeoutError(f"no answer to {msg[0]} in time")
        reply = conn.recv()
        if isinstance(reply, tuple) and reply and reply[0] == "error":
            raise RuntimeError(f"{msg[0]} failed: {reply[1]}")
        return reply

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc: object) -> None:
        for _, conn in self.procs:
            with contextlib.suppress(OSError):
                conn.send(("quit",))
        for proc, conn in self.procs:
            with_time = time.monotonic() + 30
            while time.monotonic() < with_time and proc.is_alive():
                if conn.poll(0.2):
                    try:
                        conn.recv()
                    except EOFError:
                        break
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5)


def _cpu(proc: Any) -> float:
    t = psutil.Process(proc.pid).cpu_times()
    return float(t.user + t.system)


def _wait(cond: Callable[[], bool], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.25)


def _connect_receivers(fleet: Fleet, hub: Conn, n: int) -> list[Conn]:
    groups = []
    for g in range(math.ceil(n / PER_PROCESS)):
        count = min(PER_PROCESS, n - g * PER_PROCESS)
        _, conn = fleet.start("receivers", count=count)
        offers = fleet.call(conn, "offers")
        answers = [fleet.call(hub, "join", f"g:{g}-{i}", offer) for i, offer in enumerate(offers)]
        fleet.call(conn, "answers", answers)
        groups.append(conn)
    return groups


def _counts(fleet: Fleet, groups: list[Conn]) -> dict[str, list[int] | int]:
    video: list[int] = []
    audio: list[int] = []
    up = 0
    for conn in groups:
        got = fleet.call(conn, "counts")
        video += got["video"]
        audio += got["audio"]
        up += got["up"]
    return {"video": video, "audio": audio, "up": up}


def _window(
    fleet: Fleet, hub_proc: Any, groups: list[Conn], pub: Conn, seconds: float
) -> dict[str, Any]:
    """CPU of the hub and frame rates on every receiver over ``seconds``."""
    before, frames0 = _counts(fleet, groups), fleet.call(pub, "frames")
    others = [p for p, _ in fleet.procs if p is not hub_proc]
    cpu0, t0 = _cpu(hub_proc), time.monotonic()
    others0 = sum(_cpu(p) for p in others)
    machine = psutil.cpu_percent(interval=None)
    time.sleep(seconds)
    cpu1, t1 = _cpu(hub_proc), time.monotonic()
    others1 = sum(_cpu(p) for p in others)
    machine = psutil.cpu_percent(interval=None)
    after, frames1 = _counts(fleet, groups), fleet.call(pub, "frames")
    wall = t1 - t0
    video = [
        (b - a) / wall
        for a, b in zip(before["video"], after["video"], strict=True)  # type: ignore[arg-type]
    ]
    audio = [
        (b - a) / wall
        for a, b in zip(before["audio"], after["audio"], strict=True)  # type: ignore[arg-type]
    ]
    cpu = 100 * (cpu1 - cpu0) / wall
    n = len(video)
    return {
        "receivers": n,
        "seconds": round(wall, 2),
        "hub_cpu_percent": round(cpu, 1),
        "hub_cpu_percent_per_receiver": round(cpu / n, 3) if n else None,
        "publisher_fps": round((frames1 - frames0) / wall, 1),
        "video_fps_min": round(min(video), 1) if video else None,
        "video_fps_median": round(statistics.median(video), 1) if video else None,
        "audio_fps_min": round(min(audio), 1) if audio else None,
        "audio_fps_median": round(statistics.median(audio), 1) if audio else None,
        "machine_cpu_percent_of_all_cores": machine,
        "publishers_and_receivers_cpu_percent": round(100 * (others1 - others0) / wall, 1),
        "hub_rss_mb": round(psutil.Process(hub_proc.pid).memory_info().rss / 2**20, 1),
    }


def _join_publisher(fleet: Fleet, hub: Conn, label: str) -> Conn:
    _, pub = fleet.start("publisher", label=label)
    answer = fleet.call(hub, "join", label, fleet.call(pub, "offer"))
    fleet.call(pub, "answer", answer)
    return pub


def forwarding(
    n: int, switches: int, window: float, deadline: float, profile: str | None = None
) -> dict[str, Any]:
    with Fleet(deadline) as fleet:
        hub_proc, hub = fleet.start("forward", profile=profile)
        a = _join_publisher(fleet, hub, "A")
        pubs = {"A": a, "B": _join_publisher(fleet, hub, "B")}
        groups = _connect_receivers(fleet, hub, n)
        _wait(lambda: fleet.call(hub, "status")["connected"] == n + 2, 60, "connections")
        fleet.call(hub, "floor", "A")
        _wait(lambda: min(_counts(fleet, groups)["video"]) > 0, 30, "first frames")  # type: ignore[type-var]
        time.sleep(2)  # settle
        result = _window(fleet, hub_proc, groups, a, window)
        latencies: list[float] = []
        per_switch: list[dict[str, Any]] = []
        missed = 0
        for k in range(switches):
            label = "B" if k % 2 == 0 else "A"
            t0 = fleet.call(hub, "floor", label)
            time.sleep(2.5)
            these = []
            for conn in groups:
                for at in fleet.call(conn, "first_key", t0, label):
                    if at is None:
                        missed += 1
                    else:
                        these.append(at - t0)
            latencies += these
            these.sort()
            hub_in = fleet.call(hub, "keyframe_in", t0, label)
            pli_at = fleet.call(pubs[label], "pli_after", t0)
            key_out = fleet.call(pubs[label], "key_after", t0)
            per_switch.append(
                {
                    "keyframe_sent_ms_bytes": None
                    if key_out is None
                    else [round(1000 * (key_out[0] - t0)), key_out[1]],
                    "pli_at_publisher_ms": None if pli_at is None else round(1000 * (pli_at - t0)),
                    "keyframe_at_hub_ms": None if hub_in is None else round(1000 * (hub_in - t0)),
                    "receivers_min_median_max_ms": [
                        round(1000 * x) for x in (these[0], these[len(these) // 2], these[-1])
                    ]
                    if these
                    else [],
                }
            )
        status = fleet.call(hub, "status")
        latencies.sort()
        count = len(latencies) + missed
        p95_index = math.ceil(0.95 * count) - 1
        result["switch"] = {
            "switches": switches,
            "samples": count,
            "missed": missed,
            "p50_ms": round(1000 * latencies[len(latencies) // 2]) if latencies else None,
            "p95_ms": round(1000 * latencies[p95_index]) if p95_index < len(latencies) else None,
            "max_ms": round(1000 * latencies[-1]) if latencies and not missed else None,
            "per_switch": per_switch,
        }
        result["publisher_kbps"] = status["kbps"]
        for key in ("queue_flushes", "frames_dropped", "plis_to_publishers"):
            result[key] = status[key]
        return result


def relay(n: int, window: float, deadline: float) -> dict[str, Any]:
    with Fleet(deadline) as fleet:
        hub_proc, hub = fleet.start("relay")
        a = _join_publisher(fleet, hub, "A")
        _wait(lambda: fleet.call(hub, "status")["connected"] == 1, 60, "publisher")
        time.sleep(1)  # the publisher's tracks exist once media flows
        groups = _connect_receivers(fleet, hub, n)
        _wait(lambda: fleet.call(hub, "status")["connected"] == n + 1, 60, "connections")
        _wait(lambda: min(_counts(fleet, groups)["video"]) > 0, 60, "first frames")  # type: ignore[type-var]
        time.sleep(2)
        return _window(fleet, hub_proc, groups, a, window)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--receivers", type=int, default=50)
    parser.add_argument("--relay-receivers", type=int, default=5)
    parser.add_argument("--switches", type=int, default=6)
    parser.add_argument("--window", type=float, default=10.0, help="measurement, seconds")
    parser.add_argument("--budget", type=float, default=420.0, help="whole run, seconds")
    parser.add_argument("--out", type=Path, default=Path("artifacts") / "bench-media.json")
    parser.add_argument("--profile-hub", help="write the forwarding hub's cProfile stats here")
    parser.add_argument("--no-relay", action="store_true", help="skip the MediaRelay phase")
    args = parser.parse_args()
    deadline = time.monotonic() + args.budget
    n = args.receivers
    fwd = forwarding(n, args.switches, args.window, deadline, args.profile_hub)
    rel = None if args.no_relay else relay(min(n, args.relay_receivers), args.window, deadline)
    report = {
        "machine": {"cores": psutil.cpu_count(), "load_average": psutil.getloadavg()},
        "publisher": {"width": WIDTH, "height": HEIGHT, "fps": FPS, "codecs": "VP8 + Opus"},
        "forwarding": fwd,
        "media_relay": rel,
        "targets": {
            "hub_cpu_percent_at_100": 100,
            "hub_cpu_percent_at_50": 40,
            "switch_p95_ms": 1000,
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2)
    args.out.write_text(text + "\n")
    print(text)
    if rel is not None:
        print(
            f"media_relay: {rel['receivers']} receivers, {rel['hub_cpu_percent']}% of one core"
            f" ({rel['hub_cpu_percent_per_receiver']}% per receiver,"
            f" video ≥ {rel['video_fps_min']} fps)"
        )
    print(
        f"switch: p50 {fwd['switch']['p50_ms']} ms, p95 {fwd['switch']['p95_ms']} ms"
        f" over {fwd['switch']['samples']} receiver switches"
    )
    print(
        f"forwarding per receiver: {fwd['hub_cpu_percent_per_receiver']}% of one core;"
        f" every receiver at video ≥ {fwd['video_fps_min']} fps,"
        f" audio ≥ {fwd['audio_fps_min']} fps"
        f" (publisher {fwd['publisher_fps']} fps)"
    )
    print(f"forwarding: {n} receivers, {fwd['hub_cpu_percent']}% of one core")


if __name__ == "__main__":
    main()
