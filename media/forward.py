"""Forwarding encoded frames: a publisher's incoming tracks (``Source``) fanned out to
outgoing tracks (``OutTrack``) whose source switches in place.

A ``Source`` reads the ``av.Packet``s of one publishing endpoint (one audio and one video
track, see media/passthrough.py) and hands each to the out tracks attached to it, unless
it is silenced. When the publisher reconnects, the source is re-pointed at the new
connection's tracks: the out tracks attached to it stay attached.

An ``OutTrack`` is what one of the hub's senders reads: aiortc packetises the packets it
returns without encoding them. Its timestamps stay continuous whatever feeds it: when the
stream it forwards changes (a floor switch, a publisher that reconnected), the next packet
is placed after the last one sent by the wall-clock time between them. After such a change,
and after its bounded queue overflowed (it is flushed), a video track forwards nothing until
a keyframe and asks its source for one.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import fractions
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from media.routing import EndpointId

FROZEN_AFTER_S = 1.0  # a live source with no video frame for this long is frozen
RATE_WINDOW_S = 2.0  # the window the incoming bitrate is measured over
Clock = Callable[[], float]
Origin = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Encoded:
    """One encoded frame as the hub forwards it. aiortc's sender packetises anything that
    is not an ``av.Frame`` by its bytes, ``pts`` and ``time_base``, as it does ``av.Packet``;
    this is lighter to make once per receiver than a packet."""

    data: bytes
    pts: int
    time_base: fractions.Fraction
    keyframe: bool

    def __bytes__(self) -> bytes:
        return self.data

    @classmethod
    def of(cls, packet: av.Packet[Any]) -> Encoded:
        assert packet.pts is not None and packet.time_base is not None
        return cls(bytes(packet), packet.pts, packet.time_base, packet.is_keyframe)


class Source:
    """One publishing endpoint's incoming media, fanned out to the out tracks attached.

    ``request_pli`` is the hub's way to ask the publisher for a keyframe: a callable the
    link sets, None while no connection is up. Requests are rate-limited: at most one per
    ``pli_interval_s``; one asked for sooner is sent when the interval has passed.
    """

    def __init__(self, endpoint: EndpointId, pli_interval_s: float, clock: Clock = time.monotonic):
        self.endpoint = endpoint
        self.silenced = True  # the routing policy releases it
        self.forwarded = 0  # frames handed to an out track
        self.sinks: dict[str, set[OutTrack]] = {"audio": set(), "video": set()}
        self.request_pli: Callable[[], None] | None = None
        self.plis_sent = 0
        self._pli_interval = pli_interval_s
        self._last_pli = -float("inf")
        self._pli_timer: asyncio.TimerHandle | None = None
        self._clock = clock
        self._generation = 0
        self._pumps: list[asyncio.Task[None]] = []
        self._bytes: collections.deque[tuple[float, int]] = collections.deque()
        self.last_video: float | None = None
        self.keyframes_in: collections.deque[float] = collections.deque(maxlen=8)  # wall clock

    @property
    def generation(self) -> int:
        """Which connection's stream this is: changes when the publisher reconnects."""
        return self._generation

    def attach(self, track: OutTrack) -> None:
        self.sinks[track.kind].add(track)

    def detach(self, track: OutTrack) -> None:
        self.sinks[track.kind].discard(track)

    def set_input(self, tracks: list[MediaStreamTrack]) -> None:
        """Read ``tracks`` from now on (a new connection's): a new stream generation."""
        self.stop_input()
        self._generation += 1
        self.last_video = None
        self._pumps = [asyncio.ensure_future(self._pump(t, self._generation)) for t in tracks]

    def stop_input(self) -> None:
        for task in self._pumps:
            task.cancel()
        self._pumps = []

    async def drain(self) -> None:
        """Wait for the pumps stopped by ``stop_input`` or ``close`` to end."""
        tasks, self._pumps = self._pumps, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def close(self) -> None:
        if self._pli_timer is not None:
            self._pli_timer.cancel()
            self._pli_timer = None
        self.request_pli = None
        await self.drain()

    async def _pump(self, track: MediaStreamTrack, generation: int) -> None:
        while True:
            try:
                packet = await track.recv()
            except MediaStreamError:
                return
            if isinstance(packet, av.Packet):
                self.push(track.kind, Encoded.of(packet), generation)

    def push(self, kind: str, frame: Encoded, generation: int | None = None) -> None:
        """One encoded frame from the publisher."""
        now = self._clock()
        self._bytes.append((now, len(frame.data)))
        while self._bytes and self._bytes[0][0] < now - RATE_WINDOW_S:
            self._bytes.popleft()
        if kind == "video":
            self.last_video = now
            if frame.keyframe:
                self.keyframes_in.append(time.time())
        if self.silenced:
            return
        origin = (id(self), self._generation if generation is None else generation)
        for sink in self.sinks[kind]:
            if sink.offer(frame, origin):
                self.forwarded += 1

    def kbps(self) -> float:
        """Incoming bitrate over the last couple of seconds."""
        now = self._clock()
        total = sum(size for t, size in self._bytes if t >= now - RATE_WINDOW_S)
        return total * 8 / RATE_WINDOW_S / 1000

    def frozen(self) -> bool:
        """No video frame for more than a second (or none at all since it connected)."""
        return self.last_video is None or self._clock() - self.last_video > FROZEN_AFTER_S

    def request_keyframe(self) -> None:
        """Ask the publisher for a keyframe, rate-limited."""
        if self._pli_timer is not None:
            return  # one is already due
        wait = self._last_pli + self._pli_interval - self._clock()
        if wait <= 0:
            self._send_pli()
        else:
            self._pli_timer = asyncio.get_running_loop().call_later(wait, self._send_pli)

    def _send_pli(self) -> None:
        self._pli_timer = None
        if self.request_pli is not None:
            self._last_pli = self._clock()
            self.plis_sent += 1
            self.request_pli()


class OutTrack(MediaStreamTrack):
    """An outgoing track of the hub (one kind) whose source switches in place."""

    def __init__(self, kind: str, queue_frames: int, clock: Clock = time.monotonic) -> None:
        super().__init__()
        self.kind = kind
        self.source: Source | None = None
        self.dropped = 0  # frames flushed on overflow or skipped waiting for a keyframe
        self.flushes = 0
        self._limit = max(1, queue_frames)
        self._queue: collections.deque[Encoded] = collections.deque()
        self._ready = asyncio.Event()
        self._clock = clock
        self._origin: Origin | None = None
        self._offset = 0
        self._last_pts: int | None = None  # in the time base of the last packet queued
        self._last_at = 0.0
        self._need_key = kind == "video"

    def set_source(self, source: Source | None) -> None:
        """Forward ``source`` from now on (None: nothing). Video resumes at a keyframe."""
        if source is self.source:
            return
        if self.source is not None:
            self.source.detach(self)
        self.source = source
        if source is not None:
            source.attach(self)
        self._queue.clear()
        self._need_key = self.kind == "video"

    def offer(self, frame: Encoded, origin: Origin) -> bool:
        """Queue one frame from the source; False if it was dropped."""
        if self.readyState != "live":
            return False
        if origin != self._origin:  # a switch, or the publisher reconnected
            self._origin = origin
            self._need_key = self.kind == "video"
            self._rebase(frame)
        if self._need_key:
            if not frame.keyframe:
                self.dropped += 1
                if self.source is not None:
                    self.source.request_keyframe()
                return False
            self._need_key = False
        if len(self._queue) >= self._limit:
            self.flushes += 1
            self.dropped += len(self._queue) + 1
            self._queue.clear()
            if self.kind == "video":
                self._need_key = True
                if self.source is not None:
                    self.source.request_keyframe()
                return False
        out = Encoded(frame.data, frame.pts + self._offset, frame.time_base, frame.keyframe)
        self._last_pts = out.pts
        self._last_at = self._clock()
        self._queue.append(out)
        self._ready.set()
        return True

    def _rebase(self, frame: Encoded) -> None:
        if self._last_pts is None:
            self._offset = -frame.pts
            return
        elapsed = max(self._clock() - self._last_at, 0.001)
        target = self._last_pts + max(1, round(elapsed / frame.time_base))
        self._offset = target - frame.pts

    async def recv(self) -> Encoded:  # type: ignore[override]
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            if self._queue:
                return self._queue.popleft()
            self._ready.clear()
            await self._ready.wait()

    def stop(self) -> None:
        if self.source is not None:
            self.source.detach(self)
            self.source = None
        super().stop()
        self._ready.set()

    @property
    def queued(self) -> int:
        return len(self._queue)
