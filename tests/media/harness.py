"""Browser side of the media tests: Chromium in a namespace, fake cameras of one solid
colour each, the page's peer connections and their getStats(), and a receiver's pixels.

* Every Chromium that publishes is a process of its own, since the fake camera's file is a
  command-line flag (``--use-file-for-fake-video-capture``); receivers without a camera
  share one. ``launch()`` starts it inside a namespace (netns.py).
* ``TRACK_PCS`` runs before any page script and keeps every RTCPeerConnection the page
  makes in ``window.__pcs``, so ``stats()`` reads the product's own connections without the
  product exposing them.
* ``stats()`` sums getStats() per kind: inbound ``framesDecoded``, ``totalSamplesReceived``
  (grows only while the remote audio is played somewhere, MEDIA-NOTES.md; it includes
  ``concealedSamples``, made up while nothing arrives, so ``Meter.samples()`` takes those
  out), ``packetsLost``,
  ``freezeCount``; outbound ``pliCount``; and the addresses of the selected ICE pair and
  of every candidate.
* ``colours()`` draws each playing ``<video>`` on a canvas and averages its centre, and
  ``nearest()`` names the closest palette colour.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import av

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, SCALE
from tests.media.netns import Netns

T = TypeVar("T")
RGB = tuple[int, int, int]

# Distinct solid colours, far apart in RGB and still apart after YUV 4:2:0 and VP8.
PALETTE: dict[str, RGB] = {
    "red": (210, 40, 40),
    "green": (40, 190, 60),
    "blue": (40, 60, 210),
    "yellow": (230, 210, 40),
}
CAMERA_SIZE = (320, 180)  # small: the encoders run on a loaded 2-core machine
CAMERA_FPS = 20

MEDIA_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    # 127.0.0.1 is the namespace's only address: let WebRTC gather it, unobfuscated (a page
    # without a camera grant would otherwise show a .local mDNS name instead).
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    # Receivers play the floor's audio without a click, as a gallery screen does.
    "--autoplay-policy=no-user-gesture-required",
    # Several pages in one process all keep decoding at full rate.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]


def camera_file(folder: Path, name: str) -> Path:
    """A one-second looping .y4m of ``PALETTE[name]`` for Chromium's fake camera (PyAV does
    the RGB to YUV conversion and the container)."""
    path = folder / f"camera-{name}.y4m"
    if path.exists():
        return path
    width, height = CAMERA_SIZE
    rgb = av.VideoFrame(width, height, "rgb24")
    plane = rgb.planes[0]
    plane.update(bytes(PALETTE[name]) * (plane.line_size // 3) * height)
    frame = rgb.reformat(format="yuv420p")
    partial = path.with_suffix(".part")
    with av.open(str(partial), "w", format="yuv4mpegpipe") as container:
        stream = container.add_stream("rawvideo", rate=CAMERA_FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(CAMERA_FPS):
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    partial.rename(path)
    return path


def launch(
    playwright: Any, ns: Netns, folder: Path, camera: Path | None = None, extra: Sequence[str] = ()
) -> Any:
    """A Chromium inside ``ns`` with fake devices (``camera``: its video file)."""
    args = [*CHROMIUM_ARGS, *MEDIA_ARGS, *extra]
    if camera is not None:
        args.append(f"--use-file-for-fake-video-capture={camera}")
    executable = ns.chromium(folder, CHROMIUM)
    return playwright.chromium.launch(executable_path=str(executable), args=args)


TRACK_PCS = """
(() => {
  const Native = window.RTCPeerConnection;
  if (!Native || Native.__tracked) return;
  window.__pcs = [];
  class Tracked extends Native {
    constructor(...args) { super(...args); window.__pcs.push(this); }
  }
  Tracked.__tracked = true;
  window.RTCPeerConnection = Tracked;
})();
"""

STATS = """
async () => {
  const out = [];
  for (const [n, pc] of (window.__pcs || []).entries()) {
    if (pc.connectionState === 'closed') continue;
    const report = await pc.getStats();
    const byId = new Map();
    report.forEach(s => byId.set(s.id, s));
    const zero = () => ({framesDecoded: 0, totalSamplesReceived: 0, concealedSamples: 0,
                         packetsLost: 0,
                         packetsReceived: 0, freezeCount: 0, bytesReceived: 0});
    const one = {n, state: pc.connectionState, inbound: {audio: zero(), video: zero()},
                 outbound: {audio: {packetsSent: 0}, video: {packetsSent: 0, pliCount: 0,
                 framesEncoded: 0}}, pair: null, candidates: []};
    report.forEach(s => {
      if (s.type === 'inbound-rtp' && one.inbound[s.kind]) {
        const sum = one.inbound[s.kind];
        for (const k of Object.keys(sum)) sum[k] += s[k] || 0;
      } else if (s.type === 'outbound-rtp' && one.outbound[s.kind]) {
        const sum = one.outbound[s.kind];
        for (const k of Object.keys(sum)) sum[k] += s[k] || 0;
      } else if (s.type === 'local-candidate' || s.type === 'remote-candidate') {
        one.candidates.push({side: s.type, address: s.address, protocol: s.protocol,
                             kind: s.candidateType});
      } else if (s.type === 'transport' && s.selectedCandidatePairId) {
        const pair = byId.get(s.selectedCandidatePairId);
        const local = pair && byId.get(pair.localCandidateId);
        const remote = pair && byId.get(pair.remoteCandidateId);
        if (local && remote) {
          one.pair = {local: local.address, remote: remote.address, state: pair.state,
                      protocol: local.protocol};
        }
      }
    });
    out.push(one);
  }
  return out;
}
"""

COLOURS = """
(selector) => {
  const out = [];
  for (const video of document.querySelectorAll(selector || 'video')) {
    if (!video.videoWidth || video.readyState < 2) { out.push(null); continue; }
    const canvas = document.createElement('canvas');
    canvas.width = 32; canvas.height = 32;
    const ctx = canvas.getContext('2d', {willReadFrequently: true});
    // The middle half of the frame, scaled down: borders and letterboxing stay out.
    const w = video.videoWidth, h = video.videoHeight;
    ctx.drawImage(video, w / 4, h / 4, w / 2, h / 2, 0, 0, 32, 32);
    const px = ctx.getImageData(0, 0, 32, 32).data;
    let r = 0, g = 0, b = 0;
    for (let i = 0; i < px.length; i += 4) { r += px[i]; g += px[i + 1]; b += px[i + 2]; }
    const n = px.length / 4;
    out.push([Math.round(r / n), Math.round(g / n), Math.round(b / n)]);
  }
  return out;
}
"""


def stats(page: Any) -> list[dict[str, Any]]:
    """getStats() of every open peer connection of ``page``, summed per kind."""
    result: list[dict[str, Any]] = page.evaluate(STATS)
    return result


class Meter:
    """Counters of a page's inbound media that survive a new peer connection: a link that
    reconnects builds a new one (counting from 0 again) and closes the old, whose last
    seen values are kept."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.seen: dict[int, dict[str, Any]] = {}

    def read(self) -> list[dict[str, Any]]:
        """The open peer connections' stats now (and remember them)."""
        now = stats(self.page)
        for pc in now:
            self.seen[pc["n"]] = pc
        return now

    def total(self, kind: str, field: str, direction: str = "inbound") -> float:
        self.read()
        return float(sum(pc[direction][kind][field] for pc in self.seen.values()))

    def frames(self) -> float:
        return self.total("video", "framesDecoded")

    def samples(self) -> float:
        """Audio samples played that came from the network: totalSamplesReceived counts
        the samples the jitter buffer invents (concealment) too, and once a track has
        received one packet it keeps growing with nothing arriving."""
        received = self.total("audio", "totalSamplesReceived")
        return received - self.total("audio", "concealedSamples")

    def connected(self) -> bool:
        """The page has a peer connection and it is connected."""
        now = self.read()
        return bool(now) and now[-1]["state"] == "connected"

    def sent(self, kind: str = "video") -> float:
        return self.total(kind, "packetsSent", "outbound")


def colours(page: Any, selector: str = "video") -> list[RGB | None]:
    """The average colour of the middle of each ``<video>`` matching ``selector`` (None for
    one that shows nothing yet)."""
    return [None if c is None else (c[0], c[1], c[2]) for c in page.evaluate(COLOURS, selector)]


def nearest(rgb: RGB | None, palette: Mapping[str, RGB] = PALETTE, within: int = 60) -> str | None:
    """The palette colour ``rgb`` is, if it is within ``within`` of one on every channel."""
    if rgb is None:
        return None

    def distance(ref: RGB) -> int:
        return sum((a - b) ** 2 for a, b in zip(ref, rgb, strict=True))

    name = min(palette, key=lambda n: distance(palette[n]))
    close = all(abs(a - b) <= within for a, b in zip(palette[name], rgb, strict=True))
    return name if close else None


def wait_for(
    what: Callable[[], T], ok: Callable[[T], bool], timeout: float, describe: str = ""
) -> T:
    """Poll ``what()`` until ``ok`` holds of its value; the last value. AssertionError
    naming ``describe`` and the last value after ``timeout`` seconds (scaled)."""
    deadline = time.monotonic() + timeout * SCALE
    while True:
        value = what()
        if ok(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {describe}: last {value!r}")
        time.sleep(0.1)


def growing(
    sample: Callable[[], float], timeout: float = 10, by: float = 1, describe: str = ""
) -> tuple[float, float]:
    """Wait until ``sample()`` rose by at least ``by`` from its first value: (first, last)."""
    first = sample()
    last = wait_for(sample, lambda v: v >= first + by, timeout, describe or "a counter to grow")
    return first, last


def stalled(sample: Callable[[], float], quiet: float = 2, timeout: float = 15) -> float:
    """Wait until ``sample()`` has not changed for ``quiet`` seconds; its value then."""
    deadline = time.monotonic() + timeout * SCALE
    value, since = sample(), time.monotonic()
    while time.monotonic() - since < quiet:
        if time.monotonic() > deadline:
            raise AssertionError(f"still changing after {timeout * SCALE:.0f} s: {value}")
        time.sleep(0.2)
        now = sample()
        if now != value:
            value, since = now, time.monotonic()
    return value
