"""The media test harness proves itself against an aiortc peer of its own (peer.py): inside
a namespace with only ``lo`` every ICE candidate and the selected pair are 127.0.0.1,
audio and video flow both ways between Chromium and aiortc, the fake cameras and the
pixel sampling tell colours apart, and one participant's veth link can be cut and restored
while its video resumes by itself."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ms
from tests.media import harness, netns
from tests.media.conftest import Peer
from tests.media.harness import PALETTE, camera_file, colours, launch, nearest, stats, wait_for

pytestmark = pytest.mark.media

PAGE = "http://localhost/harness"  # a secure context, served by page.route (no server)

# Publish the fake camera and microphone (audio then video, sendrecv, as a member's
# console will) and show the self view and whatever comes back, audio played.
OFFER = """
async () => {
  const pc = new RTCPeerConnection();
  const local = await navigator.mediaDevices.getUserMedia({audio: true, video: true});
  const remote = new MediaStream();
  const show = (id, tag, stream, muted) => {
    const el = document.createElement(tag);
    el.id = id; el.muted = muted; el.autoplay = true; el.srcObject = stream;
    document.body.append(el);
    el.play().catch(() => {});
  };
  show('self', 'video', local, true);
  show('remote', 'video', remote, true);
  show('remote-audio', 'audio', remote, false);
  pc.ontrack = e => remote.addTrack(e.track);
  pc.addTransceiver(local.getAudioTracks()[0], {direction: 'sendrecv', streams: [local]});
  pc.addTransceiver(local.getVideoTracks()[0], {direction: 'sendrecv', streams: [local]});
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise(done => {
    if (pc.iceGatheringState === 'complete') return done();
    pc.addEventListener('icegatheringstatechange',
                        () => pc.iceGatheringState === 'complete' && done());
  });
  window.__pc = pc;
  return pc.localDescription.sdp;
}
"""
ANSWER = "sdp => window.__pc.setRemoteDescription({type: 'answer', sdp})"


def connect(browser: Any, peer: Peer, colour: str) -> Any:
    """A page of ``browser`` connected to ``peer``, which sends ``colour`` back."""
    page = browser.new_page()
    page.set_default_timeout(ms(15))
    page.add_init_script(harness.TRACK_PCS)
    page.route(PAGE, lambda route: route.fulfill(body="<!doctype html><body>", status=200))
    page.goto(PAGE)
    offer = page.evaluate(OFFER)
    answer = peer.ask({"offer": offer, "colour": PALETTE[colour]})
    page.evaluate(ANSWER, answer["answer"])
    return page


def inbound(page: Any, kind: str, field: str) -> float:
    (pc,) = stats(page)
    return float(pc["inbound"][kind][field])


def test_loopback_only_and_media_both_ways(
    ns: netns.Netns, pw: Any, media_dir: Path, peers: list[Peer]
) -> None:
    links = ns.addresses().split()
    assert links[0] == "lo" and links.count("lo") == 1 and "UNKNOWN" in links, links
    assert len(ns.addresses().splitlines()) == 1, ns.addresses()  # nothing but lo

    peer = Peer(ns)
    peers.append(peer)
    browser = launch(pw, ns, media_dir, camera_file(media_dir, "red"))
    try:
        page = connect(browser, peer, "blue")
        harness.growing(lambda: inbound(page, "video", "framesDecoded"), 20, by=20)
        harness.growing(harness.Meter(page).samples, 20, by=48000)
        (pc,) = stats(page)
        assert pc["state"] == "connected"
        assert pc["pair"] is not None and pc["pair"]["state"] == "succeeded", pc["pair"]
        assert (pc["pair"]["local"], pc["pair"]["remote"]) == ("127.0.0.1", "127.0.0.1")
        addresses = {c["address"] for c in pc["candidates"]}
        assert addresses == {"127.0.0.1"}, pc["candidates"]
        assert pc["outbound"]["video"]["framesEncoded"] > 0

        # What the browser sent arrives at the aiortc peer, over loopback only.
        first = peer.ask({"stats": True})
        later = wait_for(
            lambda: peer.ask({"stats": True}),
            lambda s: s["video"] > first["video"] + 20 and s["audio"] > first["audio"] + 50,
            20,
            "the peer to receive audio and video",
        )
        assert later["local"] == ["127.0.0.1"] and later["remote"] == ["127.0.0.1"], later

        # The self view shows the fake camera's red, the remote video the peer's blue.
        shown = wait_for(
            lambda: colours(page, "#self, #remote"),
            lambda c: [nearest(x) for x in c] == ["red", "blue"],
            15,
            "red self view and blue remote video",
        )
        assert len(shown) == 2
    finally:
        browser.close()


def test_sampling_tells_every_camera_apart(ns: netns.Netns, pw: Any, media_dir: Path) -> None:
    """Each palette colour, as a fake camera, is recognised as itself and nothing else."""
    browsers = [launch(pw, ns, media_dir, camera_file(media_dir, name)) for name in PALETTE]
    try:
        for name, browser in zip(PALETTE, browsers, strict=True):
            page = browser.new_page()
            page.set_default_timeout(ms(15))
            page.route(PAGE, lambda route: route.fulfill(body="<!doctype html><body>"))
            page.goto(PAGE)
            page.evaluate(
                """async () => {
                  const v = document.createElement('video');
                  v.muted = true; v.id = 'self';
                  v.srcObject = await navigator.mediaDevices.getUserMedia({video: true});
                  document.body.append(v); await v.play();
                }"""
            )
            shown = wait_for(
                partial(colours, page, "#self"),
                lambda c: c[0] is not None,
                15,
                f"the {name} camera to show",
            )
            assert nearest(shown[0]) == name, (name, shown)
    finally:
        for browser in browsers:
            browser.close()


def test_one_participant_link_cut_and_restored(
    netns_usable: None, pw: Any, media_dir: Path, peers: list[Peer]
) -> None:
    """A receiver in a namespace of its own, joined to the sender's by a veth pair: its
    link down stops its video, up again resumes it without reload."""
    with netns.Netns("nt-tx") as tx, netns.Netns("nt-rx") as rx:
        _, rx_dev = netns.veth(tx, "10.77.0.1/30", rx, "10.77.0.2/30")
        peer = Peer(tx, ["10.77.0.1"])
        peers.append(peer)
        browser = launch(pw, rx, media_dir, camera_file(media_dir, "green"))
        try:
            page = connect(browser, peer, "yellow")
            decoded = partial(inbound, page, "video", "framesDecoded")
            harness.growing(decoded, 20, by=20)
            (pc,) = stats(page)
            assert (pc["pair"]["local"], pc["pair"]["remote"]) == ("10.77.0.2", "10.77.0.1")

            rx.link(rx_dev, up=False)
            frozen = harness.stalled(decoded, quiet=2, timeout=15)
            rx.link(rx_dev, up=True)
            harness.growing(decoded, 30, by=20, describe="video to resume after the cut")
            assert frozen > 0
            assert nearest(colours(page, "#remote")[0]) == "yellow"
        finally:
            browser.close()
