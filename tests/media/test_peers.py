"""The sitting's media driver around the forwarding: offers (filtered, checked, refused),
modes, chair console slots, limits, status and the ICE address override."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from chamber import commands as c
from chamber.rules import Rules
from media.peers import EndpointStatus, MediaConfig, OfferError
from media.routing import Endpoint, EndpointId, Kind, RoomId
from media.sdp import BadOffer, check_shape, filter_offer
from tests.chamber.play import Play, m
from tests.media.clients import Client, until
from tests.media.test_forward import CHAIR, GAL, GAL2, A, B, Hub, grant, sitting

pytestmark = pytest.mark.timeout(120)

# What a browser offers for publish mode: Opus among other audio codecs, VP8 among VP9,
# H.264 and AV1, each with its RTX, plus RED and ULPFEC.
BROWSER_OFFER = "\r\n".join(
    [
        "v=0",
        "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0 1",
        "a=msid-semantic: WMS stream",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126",
        "c=IN IP4 0.0.0.0",
        "a=rtcp:9 IN IP4 0.0.0.0",
        "a=ice-ufrag:abcd",
        "a=ice-pwd:abcdefghijklmnopqrstuvwx",
        "a=fingerprint:sha-256 " + ":".join(["AB"] * 32),
        "a=setup:actpass",
        "a=mid:0",
        "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
        "a=sendrecv",
        "a=msid:stream audio-track",
        "a=rtcp-mux",
        "a=rtpmap:111 opus/48000/2",
        "a=rtcp-fb:111 transport-cc",
        "a=fmtp:111 minptime=10;useinbandfec=1",
        "a=rtpmap:63 red/48000/2",
        "a=fmtp:63 111/111",
        "a=rtpmap:9 G722/8000",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:13 CN/8000",
        "a=rtpmap:110 telephone-event/48000",
        "a=rtpmap:126 telephone-event/8000",
        "a=ssrc:1001 cname:abc",
        "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 45 46 102 103 116 117",
        "c=IN IP4 0.0.0.0",
        "a=rtcp:9 IN IP4 0.0.0.0",
        "a=ice-ufrag:abcd",
        "a=ice-pwd:abcdefghijklmnopqrstuvwx",
        "a=fingerprint:sha-256 " + ":".join(["AB"] * 32),
        "a=setup:actpass",
        "a=mid:1",
        "a=sendrecv",
        "a=msid:stream video-track",
        "a=rtcp-mux",
        "a=rtcp-rsize",
        "a=rtpmap:96 VP8/90000",
        "a=rtcp-fb:96 goog-remb",
        "a=rtcp-fb:96 nack",
        "a=rtcp-fb:96 nack pli",
        "a=rtpmap:97 rtx/90000",
        "a=fmtp:97 apt=96",
        "a=rtpmap:98 VP9/90000",
        "a=fmtp:98 profile-id=0",
        "a=rtpmap:99 rtx/90000",
        "a=fmtp:99 apt=98",
        "a=rtpmap:45 AV1/90000",
        "a=rtpmap:46 rtx/90000",
        "a=fmtp:46 apt=45",
        "a=rtpmap:102 H264/90000",
        "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f",
        "a=rtpmap:103 rtx/90000",
        "a=fmtp:103 apt=102",
        "a=rtpmap:116 red/90000",
        "a=rtpmap:117 ulpfec/90000",
        "a=ssrc-group:FID 2002 2003",
        "a=ssrc:2002 cname:abc",
        "a=ssrc:2003 cname:abc",
        "",
    ]
)


def test_the_offer_keeps_vp8_with_its_rtx_and_opus() -> None:
    sdp, sections = filter_offer(BROWSER_OFFER)
    lines = sdp.split("\r\n")
    assert "m=audio 9 UDP/TLS/RTP/SAVPF 111" in lines
    assert "m=video 9 UDP/TLS/RTP/SAVPF 96 97" in lines
    for gone in ("VP9", "H264", "AV1", "red", "ulpfec", "G722", "PCMU", "telephone-event"):
        assert f" {gone}/" not in sdp
    assert "a=fmtp:97 apt=96" in lines and "a=fmtp:99 apt=98" not in lines
    assert "a=rtcp-fb:96 nack pli" in lines
    assert "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level" in lines
    assert [(s.kind, s.mid, s.direction) for s in sections] == [
        ("audio", "0", "sendrecv"),
        ("video", "1", "sendrecv"),
    ]
    assert sections[1].media_ssrc == 2002, "the media SSRC, not the RTX one"
    assert sections[0].media_ssrc == 1001
    check_shape(sections, "publish", 3)


@pytest.mark.parametrize(
    ("offer", "mode"),
    [
        ("hello", "publish"),
        (BROWSER_OFFER.replace("VP8/90000", "VP7/90000"), "publish"),  # no VP8 left
        (BROWSER_OFFER.replace("opus/48000", "opux/48000"), "publish"),
        (BROWSER_OFFER.replace("a=mid:1\r\n", ""), "publish"),
        (BROWSER_OFFER.replace("a=sendrecv", "a=inactive"), "publish"),
        (BROWSER_OFFER.replace("a=sendrecv", "a=sendonly"), "receive"),  # must receive
        (BROWSER_OFFER, "console"),  # one pair, not three
        (BROWSER_OFFER.split("m=video")[0], "publish"),  # audio only
        (BROWSER_OFFER.replace("a=group:BUNDLE 0 1", "a=group:BUNDLE 0"), "publish"),
    ],
)
def test_offers_the_hub_does_not_answer(offer: str, mode: str) -> None:
    with pytest.raises(BadOffer):
        _, sections = filter_offer(offer)
        check_shape(sections, mode, 3)


@pytest.fixture
async def hub() -> AsyncIterator[Hub]:
    h = Hub(MediaConfig(host_addresses=("127.0.0.1",), max_endpoints=3, console_slots=3))
    try:
        yield h
    finally:
        for client in h.clients:
            await client.close()
        await h.sm.close()


async def test_offers_are_refused_with_the_wire_codes(hub: Hub) -> None:
    p = sitting()
    for endpoint, mode in ((GAL, "publish"), (A, "console"), (CHAIR, "receive")):
        client = Client.receiver()
        hub.clients.append(client)
        with pytest.raises(OfferError) as refused:
            await hub.sm.join(endpoint, await client.offer(), mode, p.s)  # type: ignore[arg-type]
        assert refused.value.code == "media.bad_offer"
    with pytest.raises(OfferError) as refused:
        await hub.sm.join(GAL, "v=0\r\nnonsense", "receive", p.s)
    assert refused.value.code == "media.bad_offer"
    await hub.join(Client.receiver(), GAL, "receive", p.s)
    await hub.join(Client.receiver(), GAL2, "receive", p.s)
    await hub.join(Client.publisher(), A, "publish", p.s)
    extra = Client.publisher()
    hub.clients.append(extra)
    with pytest.raises(OfferError) as refused:
        await hub.sm.join(B, await extra.offer(), "publish", p.s)
    assert refused.value.code == "media.full"
    await hub.join(Client.receiver(), GAL, "receive", p.s)  # a rejoin is not one more
    assert len(hub.sm.status()) == 3
    await hub.sm.leave(GAL2.id)
    twin = Endpoint(id=EndpointId("m:m05-phone"), kind=Kind.REMOTE, member=m(5))
    with pytest.raises(OfferError) as refused:  # one remote endpoint per member
        await hub.sm.join(twin, await extra.offer(), "publish", p.s)
    assert refused.value.code == "media.bad_offer"


async def test_the_answer_gathers_on_the_configured_address_only(hub: Hub) -> None:
    p = sitting()
    answer = await hub.join(Client.receiver(), GAL, "receive", p.s)
    candidates = [line for line in answer.split("\r\n") if line.startswith("a=candidate:")]
    assert candidates and all(" 127.0.0.1 " in line for line in candidates)
    video = answer.split("m=video")[1]
    assert "VP8/90000" in video and "H264" not in video
    assert "a=sendonly" in video


async def test_a_chair_console_gets_every_live_source_on_a_slot_of_its_own(hub: Hub) -> None:
    p = sitting()
    a, b, chair = Client.publisher(40), Client.publisher(210), Client.receiver(pairs=3)
    await hub.join(a, A, "publish", p.s)
    await hub.join(b, B, "publish", p.s)
    await hub.join(chair, CHAIR, "console", p.s)
    video_mids = [t.mid for t in chair.pc.getTransceivers() if t.kind == "video"]
    assert hub.sm.slots(CHAIR.id) == dict.fromkeys(video_mids)
    changes = hub.changes
    hub.sm.update(grant(p, A))
    assert hub.changes > changes
    hub.sm.update(grant(p, B))  # two open microphones
    slots = hub.sm.slots(CHAIR.id)
    assert slots[video_mids[0]] == A.id and slots[video_mids[1]] == B.id
    assert slots[video_mids[2]] is None
    for mid, light in ((video_mids[0], False), (video_mids[1], True)):
        counter = chair.counters[mid or ""]
        await until(lambda c=counter: c.keyframes >= 1 and c.frames >= 10, what="slot video")
        lumas = counter.lumas()
        assert all((x or 0) > 128 for x in lumas) if light else all((x or 255) < 128 for x in lumas)
    assert hub.sm.floor(CHAIR.id) is None  # consoles have slots, not a floor
    unchanged = hub.changes
    hub.sm.update(p.s)  # nothing happened: no work, no push
    assert hub.changes == unchanged


async def test_status_and_link_events(hub: Hub) -> None:
    p = sitting()
    pub = Client.publisher()
    await hub.join(pub, A, "publish", p.s)
    await until(lambda: hub.up(A.id), what="link up")
    (status,) = hub.sm.status()
    assert status == EndpointStatus(
        id=A.id,
        kind=Kind.REMOTE,
        member=m(5),
        room=None,
        connected=True,
        live=False,
        muted=False,
        silenced=True,
        loss=0.0,
        kbps=status.kbps,
        frozen=False,
    )
    hub.sm.update(grant(p, A))
    (status,) = hub.sm.status()
    assert status.live and not status.silenced
    await pub.pc.close()  # the browser goes away without a word
    await until(lambda: (A.id, False) in hub.links, timeout=60, what="link down")


async def test_a_room_is_the_feed_of_a_speaker_seated_in_its_hall(hub: Hub) -> None:
    p = Play(n=12, rules=Rules(max_open_mics=2))
    p.check_in(*range(1, 12))
    p.do(c.OpenSitting())
    p.do(c.StartSitting())
    room = Endpoint(id=EndpointId("r:ward-2"), kind=Kind.ROOM, room=RoomId("ward-2"))
    hall, gallery = Client.publisher(40), Client.receiver()
    await hub.join(hall, room, "publish", p.s)
    await hub.join(gallery, GAL, "receive", p.s)
    assert room.room is not None
    hub.sm.seat(m(9), room.room)
    p.tick(1)
    p.do(c.GrantFloor(speaker=m(9)))
    hub.sm.update(p.s)
    assert hub.sm.floor(GAL.id) == room.id
    await until(lambda: gallery.video().keyframes >= 1, what="the hall's video")
    hub.sm.seat(m(9), None)
    assert hub.sm.floor(GAL.id) is None


async def test_ice_sockets_read_every_waiting_datagram_per_wake_up() -> None:
    """asyncio reads one datagram per readiness event; aioice's sockets read them all."""
    import asyncio
    import socket

    import aioice.ice

    from media import passthrough

    passthrough.install()
    got: list[bytes] = []

    class Recorder(aioice.ice.StunProtocol):
        def __init__(self) -> None:  # no ICE connection behind it
            pass

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport  # type: ignore[assignment]

        def datagram_received(self, data: bytes | str, addr: tuple[object, ...]) -> None:
            got.append(data if isinstance(data, bytes) else data.encode())

    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(Recorder, local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as out:
        for i in range(5):
            out.sendto(bytes([i]), ("127.0.0.1", port))
        transport._read_ready()  # type: ignore[attr-defined]  # what one wake-up does
    transport.close()
    assert got == [bytes([i]) for i in range(5)]


async def test_a_live_source_without_video_is_frozen(hub: Hub) -> None:
    p = sitting()
    pub, gallery = Client.publisher(), Client.receiver()
    await hub.join(pub, A, "publish", p.s)
    await hub.join(gallery, GAL, "receive", p.s)
    hub.sm.update(grant(p, A))
    await until(lambda: gallery.video().frames >= 10, what="video")
    assert not {s.id: s for s in hub.sm.status()}[A.id].frozen
    changes = hub.changes
    pub.camera.stop()  # the camera dies; the connection and the audio go on
    await until(lambda: {s.id: s for s in hub.sm.status()}[A.id].frozen, what="frozen")
    await until(lambda: hub.changes > changes, what="a status push for it")
    status = {s.id: s for s in hub.sm.status()}[A.id]
    assert status.connected and status.live and status.kbps > 0


async def test_a_state_read_before_an_answer_never_undoes_a_newer_one(hub: Hub) -> None:
    """A join answers after an await: the state it was given may be older than what
    update() brought meanwhile (a floor grant), and must not undo it."""
    p = sitting()
    before = p.s
    pub = Client.publisher()
    await hub.join(pub, A, "publish", before)
    granted = grant(p, A)
    hub.sm.update(granted)
    assert [s.live for s in hub.sm.status()] == [True]
    # A second offer from the same endpoint, carrying the state read before the grant.
    again = Client.publisher()
    await hub.join(again, A, "publish", before)
    assert [s.live for s in hub.sm.status()] == [True]
