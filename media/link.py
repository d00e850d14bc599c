"""One video link: an aiortc peer connection between a client and the hub, built from the
client's offer for one of the three modes of docs/protocol.md.

* ``publish``: audio + video in both directions. The incoming tracks feed the endpoint's
  ``Source``; the outgoing pair is the endpoint's floor track.
* ``receive``: the floor track pair only.
* ``console``: ``console_slots`` pairs, each carrying one live source (a slot, named by
  its video m-line's mid).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Literal

from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamTrack

from media import passthrough
from media.forward import OutTrack, Source
from media.routing import Endpoint, EndpointId
from media.sdp import Section

Mode = Literal["publish", "receive", "console"]
log = logging.getLogger(__name__)
Spawn = Callable[[Coroutine[Any, Any, None]], None]


class Slot:
    """One of a chair console's track pairs."""

    def __init__(self, mid: str, audio: OutTrack, video: OutTrack) -> None:
        self.mid = mid
        self.audio = audio
        self.video = video
        self.source: EndpointId | None = None

    def show(self, source: Source | None) -> None:
        self.source = None if source is None else source.endpoint
        self.audio.set_source(source)
        self.video.set_source(source)


class Link:
    """A peer connection and the hub's tracks on it."""

    def __init__(self, endpoint: Endpoint, mode: Mode, ice: list[RTCIceServer]) -> None:
        self.endpoint = endpoint
        self.mode = mode
        # One transport for every m-line (the offer must bundle them all: media/sdp.py).
        # aiortc's default, "balanced", gives the third and later m-lines of a kind the
        # transport the bundle then discards, so a console's later slots never start.
        config = RTCConfiguration(iceServers=ice, bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        self.pc = RTCPeerConnection(config)
        self.floor: tuple[OutTrack, OutTrack] | None = None  # audio, video
        self.slots: list[Slot] = []
        self.inputs: list[MediaStreamTrack] = []
        self.up = False
        self.retired = False  # replaced or closing: its events no longer count
        self.loss = 0.0
        self._video_in: tuple[RTCRtpReceiver, int | None] | None = None
        self._loss_seen: dict[int, tuple[int, int]] = {}

    async def answer(
        self,
        offer: str,
        sections: tuple[Section, ...],
        queue_frames: int,
        host_addresses: tuple[str, ...] | None,
        on_pli: Callable[[OutTrack], None],
    ) -> str:
        """Apply ``offer`` (filtered) and return the hub's answer, ICE gathered."""
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        transceivers = self.pc.getTransceivers()
        if [t.kind for t in transceivers] != [s.kind for s in sections]:
            raise ValueError("transceivers do not follow the offer's m-lines")
        pairs = list(zip(transceivers, sections, strict=True))
        outs: list[OutTrack] = []
        for transceiver, section in pairs:
            outs.append(self._setup(transceiver, section, queue_frames, on_pli))
        if self.mode == "console":
            for i in range(0, len(outs), 2):
                self.slots.append(Slot(sections[i + 1].mid, outs[i], outs[i + 1]))
        elif all(s.receives for s in sections):
            self.floor = (outs[0], outs[1])
        answer = await self.pc.createAnswer()
        with passthrough.host_addresses(host_addresses):
            await self.pc.setLocalDescription(answer)
        return str(self.pc.localDescription.sdp)

    def _setup(
        self,
        transceiver: RTCRtpTransceiver,
        section: Section,
        queue_frames: int,
        on_pli: Callable[[OutTrack], None],
    ) -> OutTrack:
        publish = self.mode == "publish" and section.sends
        out = OutTrack(section.kind, queue_frames)
        if section.receives:
            transceiver.sender.replaceTrack(out)
            if section.kind == "video":
                passthrough.on_keyframe_request(transceiver.sender, lambda: on_pli(out))
        transceiver.direction = {
            (True, True): "sendrecv",
            (True, False): "recvonly",
            (False, True): "sendonly",
            (False, False): "inactive",
        }[(publish, section.receives)]
        if publish:
            passthrough.forward_encoded(transceiver.receiver)
            self.inputs.append(transceiver.receiver.track)
            if section.kind == "video":
                self._video_in = (transceiver.receiver, section.media_ssrc)
        return out

    def request_pli(self, spawn: Spawn) -> None:
        """Ask the publisher for a keyframe, aimed at its media SSRC (Chromium pads on its
        RTX SSRC, so the first SSRC seen may not be the one to ask)."""
        if self._video_in is None or not self.up:
            return
        receiver, ssrc = self._video_in
        ssrcs = (
            [ssrc] if ssrc is not None else [s.source for s in receiver.getSynchronizationSources()]
        )
        for each in ssrcs:
            spawn(passthrough.send_pli(receiver, each))

    def out_tracks(self) -> list[OutTrack]:
        tracks = list(self.floor or ())
        for slot in self.slots:
            tracks += [slot.audio, slot.video]
        return tracks

    async def refresh_loss(self) -> float:
        """Packet loss on this link: incoming for a publisher, reported by the client for
        what the hub sends otherwise (fraction, 0..1)."""
        lost = received = 0
        fractions: list[float] = []
        for transceiver in self.pc.getTransceivers():
            if self.mode == "publish" and transceiver.receiver.track is not None:
                report = await transceiver.receiver.getStats()
                for stat in report.values():
                    if getattr(stat, "type", "") == "inbound-rtp":
                        before = self._loss_seen.get(stat.ssrc, (0, 0))
                        self._loss_seen[stat.ssrc] = (stat.packetsLost, stat.packetsReceived)
                        lost += max(0, stat.packetsLost - before[0])
                        received += max(0, stat.packetsReceived - before[1])
            elif transceiver.sender.track is not None:
                report = await transceiver.sender.getStats()
                for stat in report.values():
                    if getattr(stat, "type", "") == "remote-inbound-rtp":
                        fractions.append(stat.fractionLost / 256)
        if self.mode == "publish":
            self.loss = lost / (lost + received) if lost + received else 0.0
        else:
            self.loss = max(fractions, default=0.0)
        return self.loss

    async def close(self) -> None:
        self.retired = True
        for track in self.out_tracks():
            track.stop()
        with contextlib.suppress(Exception):
            await self.pc.close()


def ice_servers(
    servers: list[tuple[tuple[str, ...], str | None, str | None]],
) -> list[RTCIceServer]:
    """aiortc's form of the configured servers (an empty list: none, not Google's)."""
    return [RTCIceServer(urls=list(u), username=n, credential=c) for u, n, c in servers]


async def settle(tasks: set[asyncio.Task[None]]) -> None:
    """Cancel and await ``tasks``."""
    for task in list(tasks):
        task.cancel()
    for task in list(tasks):
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
