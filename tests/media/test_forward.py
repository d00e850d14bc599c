"""Forwarding encoded frames: aiortc peers on 127.0.0.1 play the browsers, the hub is the
real ``SittingMedia``. Publishers encode small grey pictures to VP8 (and silence to Opus)
with aiortc's own encoders; receivers count, and where it matters decode, what arrives."""

from __future__ import annotations

import asyncio
import fractions
import itertools
import threading
import time
from collections.abc import AsyncIterator

import aiortc.clock
import aiortc.rtcrtpreceiver
import pytest

from chamber import commands as c
from chamber.ids import Occupied
from chamber.model import Sitting
from chamber.rules import Rules
from media import passthrough
from media.forward import Encoded, OutTrack, Source
from media.peers import MediaConfig, SittingMedia
from media.routing import Endpoint, EndpointId, Kind
from media.sdp import filter_offer
from tests.chamber.play import Play, m
from tests.media.clients import Client, Counter, until

A = Endpoint(id=EndpointId("m:m05"), kind=Kind.REMOTE, member=m(5))
B = Endpoint(id=EndpointId("m:m06"), kind=Kind.REMOTE, member=m(6))
GAL = Endpoint(id=EndpointId("g:1"), kind=Kind.GALLERY)
GAL2 = Endpoint(id=EndpointId("g:2"), kind=Kind.GALLERY)
CHAIR = Endpoint(id=EndpointId("c:m01:1"), kind=Kind.CONSOLE)
DARK, LIGHT = 40, 210  # A's and B's grey
pytestmark = pytest.mark.timeout(120)


def sitting() -> Play:
    p = Play(n=12, rules=Rules(max_open_mics=2))
    p.check_in(1, 2, 3, 4, 7, 8)
    for i in (5, 6):
        p.as_delegate(i, c.JoinRemote())
    p.do(c.OpenSitting())
    p.do(c.StartSitting())
    return p


def grant(p: Play, endpoint: Endpoint) -> Sitting:
    assert endpoint.member is not None
    p.tick(1)
    p.do(c.GrantFloor(speaker=endpoint.member, occupied=Occupied.SECOND_MIC))
    return p.s


class Hub:
    def __init__(self, config: MediaConfig) -> None:
        self.links: list[tuple[EndpointId, bool]] = []
        self.changes = 0
        self.sm = SittingMedia("s1", config, on_link=self._link, on_change=self._change)
        self.clients: list[Client] = []

    def _link(self, endpoint: Endpoint, up: bool) -> None:
        self.links.append((endpoint.id, up))

    def _change(self) -> None:
        self.changes += 1

    def up(self, eid: EndpointId) -> bool:
        return (eid, True) in self.links

    async def join(self, client: Client, endpoint: Endpoint, mode: str, state: Sitting) -> str:
        self.clients.append(client)
        answer = await self.sm.join(endpoint, await client.offer(), mode, state)  # type: ignore[arg-type]
        await client.accept(answer)
        return answer


@pytest.fixture
async def hub() -> AsyncIterator[Hub]:
    h = Hub(MediaConfig(host_addresses=("127.0.0.1",), pli_interval_s=0.5, queue_frames=30))
    try:
        yield h
    finally:
        for client in h.clients:
            await client.close()
        await h.sm.close()


def is_dark(luma: int | None) -> bool:
    return luma is not None and abs(luma - DARK) < 25


def is_light(luma: int | None) -> bool:
    return luma is not None and abs(luma - LIGHT) < 25


def assert_continuous(counter: Counter, rate: int, start: int = 0) -> None:
    """Timestamps rise at every frame, by no more than the wall time between arrivals
    allows (plus half a second of slack for the jitter buffers)."""
    for i in range(max(start, 1), counter.frames):
        step = counter.pts[i] - counter.pts[i - 1]
        gap = counter.arrived[i] - counter.arrived[i - 1]
        assert 0 < step <= (gap + 0.5) * rate, (i, step, gap)


# -- the decoder swap ------------------------------------------------------------------


def test_the_aiortc_internals_the_swap_needs_are_still_there() -> None:
    """Fails loudly when an aiortc upgrade moves what media/passthrough.py patches."""
    passthrough.install()
    assert passthrough._check()  # the installed aiortc passes the guard


def test_the_guard_refuses_a_changed_decoder_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    def decoder_worker(loop: object, input_q: object, output_q: object) -> None:
        """A hypothetical aiortc whose decoder thread is started differently."""

    monkeypatch.setattr(aiortc.rtcrtpreceiver, "decoder_worker", decoder_worker)
    with pytest.raises(passthrough.AiortcChanged):
        passthrough._check()


def test_the_fast_ntp_clock_tells_aiortcs_time() -> None:
    before = aiortc.clock.datetime_to_ntp(aiortc.clock.current_datetime())
    now = passthrough.ntp_now()
    after = aiortc.clock.datetime_to_ntp(aiortc.clock.current_datetime())
    assert before - (1 << 22) <= now <= after + (1 << 22)  # within a millisecond


def test_vp8_keyframe_bit() -> None:
    assert passthrough.is_vp8_keyframe(bytes([0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A]))
    assert not passthrough.is_vp8_keyframe(bytes([0x11, 0x02, 0x00]))
    assert not passthrough.is_vp8_keyframe(b"")


# -- over real peer connections ---------------------------------------------------------


async def test_the_floor_speaker_reaches_every_receiver(hub: Hub) -> None:
    p = sitting()
    pub, other, gallery, chair = (
        Client.publisher(DARK),
        Client.publisher(LIGHT),
        Client.receiver(),
        Client.receiver(pairs=3),
    )
    await hub.join(pub, A, "publish", p.s)
    await hub.join(other, B, "publish", p.s)
    await hub.join(gallery, GAL, "receive", p.s)
    await hub.join(chair, CHAIR, "console", p.s)
    await until(lambda: all(hub.up(e.id) for e in (A, B, GAL, CHAIR)), what="links up")
    hub.sm.update(grant(p, A))
    slot = next(mid for mid, src in hub.sm.slots(CHAIR.id).items() if src == A.id)
    chair_video = chair.counters[slot]
    chair_audio = chair.pair_audio(slot)
    for counter in (gallery.video(), other.video(), chair_video):
        await until(lambda c=counter: c.keyframes >= 1 and c.frames >= 15, what="video")
        assert counter.first_is_key, "the first forwarded video frame is a keyframe"
        assert is_dark(counter.lumas()[-1]), "and it is the speaker's picture"
        assert_continuous(counter, 90_000)
    for counter in (gallery.audio(), other.audio(), chair_audio):
        await until(lambda c=counter: c.frames >= 20, what="audio")
        assert_continuous(counter, 48_000)
    assert pub.counters and all(x.frames == 0 for x in pub.counters.values()), (
        "the speaker does not get their own feed back"
    )
    assert hub.sm.floor(GAL.id) == A.id and hub.sm.floor(A.id) is None
    assert hub.sm.forwarded[A.id] > 0
    status = {s.id: s for s in hub.sm.status()}
    assert status[A.id].live and not status[A.id].silenced and status[A.id].connected
    assert status[B.id].silenced and not status[B.id].live
    assert status[A.id].kbps > 0


async def test_a_floor_switch_reaches_receivers_at_a_keyframe(hub: Hub) -> None:
    p = sitting()
    a, b, gallery = Client.publisher(DARK), Client.publisher(LIGHT), Client.receiver()
    await hub.join(a, A, "publish", p.s)
    await hub.join(b, B, "publish", p.s)
    await hub.join(gallery, GAL, "receive", p.s)
    await until(lambda: all(hub.up(e.id) for e in (A, B, GAL)), what="links up")
    hub.sm.update(grant(p, A))
    video, audio = gallery.video(), gallery.audio()
    await until(lambda: video.frames >= 20, what="A's video")
    before = video.frames
    audio_before = audio.frames
    hub.sm.update(grant(p, B))
    switched = time.monotonic()
    assert hub.sm.floor(GAL.id) == B.id

    def b_arrived() -> bool:
        return any(is_light(x) for x in video.lumas()[before:]) and video.frames >= before + 20

    await until(b_arrived, what="B's video")
    lumas = video.lumas()
    first_b = next(i for i in range(before, len(lumas)) if is_light(lumas[i]))
    assert first_b in video.keys_at, "B starts with a keyframe"
    assert all(is_dark(x) for x in lumas[before:first_b]), "A's frames until the switch"
    assert all(is_light(x) for x in lumas[first_b:]), "then B's, all decodable"
    assert_continuous(video, 90_000)
    assert_continuous(audio, 48_000, start=audio_before)
    assert video.arrived[first_b] - switched < 10  # the bound is measured by the bench


async def test_a_silenced_publisher_is_forwarded_to_nobody(hub: Hub) -> None:
    p = sitting()
    a, b, gallery = Client.publisher(DARK), Client.publisher(LIGHT), Client.receiver()
    chair = Client.receiver(pairs=3)
    await hub.join(a, A, "publish", p.s)
    await hub.join(b, B, "publish", p.s)
    await hub.join(gallery, GAL, "receive", p.s)
    await hub.join(chair, CHAIR, "console", p.s)
    hub.sm.update(grant(p, A))
    await until(lambda: gallery.video().frames >= 30, what="A's video")
    status = {s.id: s for s in hub.sm.status()}
    assert status[B.id].kbps > 0, "B does send"
    assert status[B.id].silenced
    assert hub.sm.forwarded.get(B.id, 0) == 0
    assert all(is_dark(x) for x in gallery.video().lumas())
    # Muting the speaker silences them too, whatever the floor says.
    hub.sm.mute(A.id, True, p.s)
    assert hub.sm.floor(GAL.id) is None
    assert all(src is None for src in hub.sm.slots(CHAIR.id).values())
    assert {s.id: s for s in hub.sm.status()}[A.id].muted
    sent = hub.sm.forwarded[A.id]
    await asyncio.sleep(0.5)  # A keeps sending; nothing of it may be forwarded
    assert {s.id: s for s in hub.sm.status()}[A.id].kbps > 0
    assert hub.sm.forwarded[A.id] == sent
    assert hub.sm.forwarded.get(B.id, 0) == 0


async def test_a_receivers_pli_reaches_the_publisher_rate_limited(hub: Hub) -> None:
    p = sitting()
    pub, gallery = Client.publisher(DARK), Client.receiver()
    await hub.join(pub, A, "publish", p.s)
    answer = await hub.join(gallery, GAL, "receive", p.s)
    hub.sm.update(grant(p, A))
    await until(lambda: gallery.video().keyframes >= 1, what="first keyframe")
    requests: list[float] = []
    sender = pub.pc.getTransceivers()[1].sender
    encoder_flag = sender._send_keyframe

    def counting() -> None:
        requests.append(time.monotonic())
        encoder_flag()

    sender._send_keyframe = counting
    hub_video_ssrc = filter_offer(answer)[1][1].media_ssrc
    assert hub_video_ssrc is not None
    receiver = gallery.receivers[gallery.pc.getTransceivers()[1].mid or ""]
    keys = gallery.video().keyframes
    start = time.monotonic()
    while time.monotonic() - start < 1.5:  # a browser asking 20 times a second
        await receiver._send_rtcp_pli(hub_video_ssrc)
        await asyncio.sleep(0.05)
    burst = time.monotonic() - start
    await until(lambda: len(requests) >= 2, what="PLIs at the publisher")
    await asyncio.sleep(0.7)  # one request may be held back by the interval
    in_burst = [t for t in requests if t >= start]
    assert 2 <= len(in_burst) <= burst / 0.5 + 2, (len(in_burst), burst)
    gaps = [b - a for a, b in itertools.pairwise(in_burst)]
    assert all(g >= 0.4 for g in gaps), gaps  # 0.5 s apart, less the event loop's slack
    await until(lambda: gallery.video().keyframes > keys, what="a new keyframe")


async def test_a_publisher_that_reconnects_keeps_its_receivers(hub: Hub) -> None:
    p = sitting()
    first, gallery = Client.publisher(DARK), Client.receiver()
    await hub.join(first, A, "publish", p.s)
    await hub.join(gallery, GAL, "receive", p.s)
    hub.sm.update(grant(p, A))
    video = gallery.video()
    await until(lambda: video.frames >= 15, what="first connection's video")
    before = video.frames
    again = Client.publisher(LIGHT)  # same endpoint, new offer (ICE restart, new device)
    await hub.join(again, A, "publish", p.s)
    await until(lambda: any(is_light(x) for x in video.lumas()[before:]), what="new video")
    lumas = video.lumas()
    first_new = next(i for i in range(before, len(lumas)) if is_light(lumas[i]))
    assert first_new in video.keys_at
    assert hub.sm.floor(GAL.id) == A.id
    assert_continuous(video, 90_000)
    assert [s.id for s in hub.sm.status()].count(A.id) == 1
    assert (A.id, False) not in hub.links, "a replaced link is not a lost one"


async def test_a_receiver_that_rejoins_gets_the_floor_again(hub: Hub) -> None:
    p = sitting()
    pub, gallery = Client.publisher(DARK), Client.receiver()
    await hub.join(pub, A, "publish", p.s)
    await hub.join(gallery, GAL, "receive", p.s)
    hub.sm.update(grant(p, A))
    await until(lambda: gallery.video().frames >= 5, what="video")
    again = Client.receiver()
    await hub.join(again, GAL, "receive", p.s)
    await until(lambda: again.video().keyframes >= 1 and again.audio().frames >= 5, what="again")
    assert again.video().first_is_key


async def test_leave_and_close_leave_nothing_running(hub: Hub) -> None:
    p = sitting()
    pub, gallery = Client.publisher(DARK), Client.receiver()
    await hub.join(pub, A, "publish", p.s)
    await hub.join(gallery, GAL, "receive", p.s)
    hub.sm.update(grant(p, A))
    await until(lambda: gallery.video().frames >= 5, what="video")
    await hub.sm.leave(A.id)
    assert (A.id, False) in hub.links
    assert hub.sm.floor(GAL.id) is None
    assert [s.id for s in hub.sm.status()] == [GAL.id]
    await hub.sm.leave(GAL.id)
    await hub.sm.leave(GAL.id)  # twice is harmless
    await hub.sm.close()
    for client in hub.clients:
        await client.close()
    hub.clients.clear()
    await asyncio.sleep(0.1)
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert [t for t in others if not t.done()] == []
    assert [t.name for t in threading.enumerate() if t.name.endswith("-decoder")] == []


# -- one outgoing track, without a connection -------------------------------------------


def frame(pts: int, key: bool) -> Encoded:
    return Encoded(b"\x10" if key else b"\x11", pts, fractions.Fraction(1, 90_000), key)


async def test_queue_overflow_drops_to_the_next_keyframe() -> None:
    now = [100.0]
    src = Source(A.id, pli_interval_s=0.5, clock=lambda: now[0])
    plis: list[float] = []
    src.request_pli = lambda: plis.append(now[0])
    src.silenced = False
    track = OutTrack("video", queue_frames=5, clock=lambda: now[0])
    track.set_source(src)
    src.push("video", frame(1000, key=False))  # waiting for a keyframe: dropped
    assert track.queued == 0 and plis == [100.0]
    for i in range(5):
        now[0] += 1 / 30
        src.push("video", frame(4000 + 3000 * i, key=i == 0))
    assert track.queued == 5
    now[0] += 1 / 30
    src.push("video", frame(19000, key=False))  # the receiver is behind: overflow
    assert track.queued == 0 and track.flushes == 1
    for i in range(3):
        now[0] += 0.1
        src.push("video", frame(22000 + 3000 * i, key=False))  # dropped, no new PLI yet
    assert track.queued == 0 and len(plis) == 1, "the next PLI waits for the interval"
    await until(lambda: len(plis) == 2, what="the PLI held back")  # the loop's timer
    now[0] += 1 / 30
    src.push("video", frame(31000, key=True))
    got = await track.recv()
    assert got.keyframe and got.pts == 31000 - 1000  # the source's clock, rebased once
    assert src.forwarded == 6
    track.stop()
    assert src.sinks["video"] == set()
    with pytest.raises(aiortc.mediastreams.MediaStreamError):
        await track.recv()
    await src.close()


async def test_a_switch_rebases_timestamps_by_the_wall_clock() -> None:
    now = [0.0]
    a = Source(A.id, pli_interval_s=0.5, clock=lambda: now[0])
    b = Source(B.id, pli_interval_s=0.5, clock=lambda: now[0])
    for s in (a, b):
        s.silenced = False
        s.request_pli = lambda: None
    track = OutTrack("audio", queue_frames=50, clock=lambda: now[0])
    track.set_source(a)
    a.push("audio", Encoded(b"x", 960_000, fractions.Fraction(1, 48_000), False))
    first = await track.recv()
    track.set_source(b)
    now[0] += 0.25
    b.push("audio", Encoded(b"y", 5, fractions.Fraction(1, 48_000), False))
    second = await track.recv()
    assert (first.pts, second.pts) == (0, 12_000)  # 0.25 s later on a 48 kHz clock
    assert second.data == b"y"
    await a.close()
    await b.close()
