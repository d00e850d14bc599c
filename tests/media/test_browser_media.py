"""Video links end to end (issue 8): the consoles in real Chromium with fake cameras of
distinct solid colours, the hub forwarding their media, all inside a network namespace of
the module's own with only ``lo`` up (netns.py, harness.py). Every test asserts on the
receivers' getStats() (frames decoded, audio samples played) and on the colour their floor
video shows; the chair gives the floor over HTTP, as the chair console does over /ws.

Participants: A (db05, red camera) and B (db06, blue) are remote delegates, C (db07,
green) a remote delegate without the floor, the linked hall (yellow) a room endpoint; the
gallery screen receives only.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCALE, SITTING, ms
from tests.demo_data import copy_demo
from tests.media import harness, netns
from tests.media.conftest import NsHub, start_hub
from tests.media.harness import Meter, camera_file, colours, growing, launch, nearest, wait_for

pytestmark = pytest.mark.media

CHAIR = "db01"
A, B, C = "db05", "db06", "db07"
ROOM = "diem-cau-khu-pho-3"  # the demo's linked hall (server/seed.py)
IN_HALL = [CHAIR, "db02", "db03", "db04", *(f"db{i:02d}" for i in range(8, 26))]
FLOOR_VIDEO = "[data-testid=floor-video]"
SWITCH_S = 1.0  # issue 8: every receiver sees a new speaker within 1 s


# ---- Fixtures ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def template(ns: netns.Netns, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run's demo data folder (tests/demo_data.py); every test's hub starts from a copy
    of it in half a second."""
    folder = tmp_path_factory.mktemp("template") / "data"
    copy_demo(folder)
    return folder


def sitting_hub(space: netns.Netns, template: Path, folder: Path, **env: str) -> NsHub:
    """A hub in ``space`` whose demo sitting is in session with a quorum in the hall."""
    shutil.copytree(template, folder)
    hub = start_hub(space, folder, **env)
    try:
        hub.check_in(*IN_HALL)
        for cmd in ({"type": "sitting.open"}, {"type": "sitting.start"}):
            answer = hub.command(CHAIR, cmd)
            assert answer.get("ok"), answer
    except BaseException:
        hub.close()
        raise
    return hub


@pytest.fixture
def hub(ns: netns.Netns, template: Path, tmp_path: Path) -> Iterator[NsHub]:
    h = sitting_hub(ns, template, tmp_path / "data")
    try:
        yield h
    finally:
        h.close()
        print("the hub's output (last lines):\n" + "".join(h.lines[-80:]))  # shown on failure


class Cameras:
    """One Chromium per fake camera colour (the file is a process-wide flag), started on
    first use and kept for the module; ``screens`` has no camera of its own."""

    def __init__(self, pw: Any, space: netns.Netns, folder: Path) -> None:
        self.pw, self.ns, self.folder = pw, space, folder
        self.browsers: dict[str, Any] = {}

    def __getitem__(self, colour: str) -> Any:
        if colour not in self.browsers:
            camera = None if colour == "screens" else camera_file(self.folder, colour)
            self.browsers[colour] = launch(self.pw, self.ns, self.folder, camera)
        return self.browsers[colour]

    def close(self) -> None:
        for browser in self.browsers.values():
            browser.close()


@pytest.fixture(scope="module")
def cams(pw: Any, ns: netns.Netns, media_dir: Path) -> Iterator[Cameras]:
    c = Cameras(pw, ns, media_dir)
    try:
        yield c
    finally:
        c.close()


class Consoles:
    """The pages of one test, each in a browser context of its own; page errors are
    collected and fail the test."""

    def __init__(self) -> None:
        self.contexts: list[Any] = []
        self.errors: list[str] = []

    def open(
        self,
        browser: Any,
        base: str,
        path: str,
        user: str | None = None,
        password: str | None = None,
        ready: str = "[data-testid=phase]",
    ) -> Any:
        ctx = browser.new_context(viewport={"width": 1024, "height": 768}, locale="vi-VN")
        self.contexts.append(ctx)
        ctx.add_init_script(harness.TRACK_PCS)
        page = ctx.new_page()
        page.set_default_timeout(ms(20))
        page.on("pageerror", lambda e: self.errors.append(f"{path}: {e}"))
        page.goto(f"{base}{path}?sitting={SITTING}")
        if user is not None:
            page.fill("input[name=username]", user)
            page.fill("input[name=password]", password or "")
            page.click("button[type=submit]")
        expect(page.locator(ready).first).to_be_visible()
        return page

    def close(self) -> None:
        for ctx in self.contexts:
            ctx.close()


@pytest.fixture
def consoles() -> Iterator[Consoles]:
    c = Consoles()
    try:
        yield c
        assert not c.errors, "page errors:\n" + "\n".join(c.errors)
    finally:
        c.close()


# ---- Steps ---------------------------------------------------------------------------


def delegate(consoles: Consoles, cams: Cameras, hub: NsHub, member: str, colour: str) -> Any:
    """``member``'s console on the camera of ``colour``, joined to video: remote."""
    page = consoles.open(cams[colour], hub.base, "/delegate/", member, hub.passwords[member])
    join(page)
    wait_for(
        lambda: hub.http("GET", f"/api/sittings/{hub.sitting}")["attendance"][member],
        lambda presence: presence == "remote",
        20,
        f"{member}'s live link to count as remote presence",
    )
    return page


def join(page: Any) -> None:
    page.locator("[data-testid=video-join]").click()
    connected(page)


def connected(page: Any) -> None:
    """Wait until ``page``'s video link is up (its phase line may be folded away)."""
    expect(page.locator("[data-testid=video-phase]")).to_have_attribute(
        "data-phase", "connected", timeout=ms(30)
    )


def gallery(consoles: Consoles, cams: Cameras, base: str) -> Any:
    """A gallery screen whose (receive-only) link is up."""
    page = consoles.open(cams["screens"], base, "/gallery/")
    wait_for(Meter(page).connected, bool, 30, "the gallery's video link to connect")
    return page


def grant(hub: NsHub, speaker: str) -> float:
    """The chair gives ``speaker`` the floor, a second microphone if someone speaks (both
    stay on the air); the wall-clock time just before (ms)."""
    at = time.time() * 1000
    cmd = {"type": "floor.grant", "speaker": speaker, "occupied": "second_mic"}
    answer = hub.command(CHAIR, cmd)
    assert answer.get("ok"), answer
    return at


def shows(page: Any, colour: str, hub: NsHub, timeout: float = 30) -> None:
    """Wait until ``page``'s floor video shows ``colour``."""
    try:
        wait_for(
            lambda: [nearest(c) for c in colours(page, FLOOR_VIDEO)],
            lambda seen: seen[:1] == [colour],
            timeout,
            f"the floor video of {page.url} to show {colour}",
        )
    except AssertionError as err:
        state = hub.http("GET", f"/api/sittings/{hub.sitting}")
        speaking = [t for t in state["turns"].values() if t.get("status") == "speaking"]
        raise AssertionError(
            f"{err}\nits media link: {link_state(page)}"
            f"\nthe hub's links: {media_report(hub)}"
            f"\nturns speaking: {speaking}"
        ) from None


def link_state(page: Any) -> Any:
    """What the console's media link knows (the UI keeps the last one in window.__media)."""
    return page.evaluate(
        """() => { const m = window.__media; if (!m) return null;
          const {phase, endpoint, status, error, restarts, quality} = m.state;
          return {phase, endpoint, status, error, restarts, quality}; }"""
    )


def decodes(page: Any, what: str) -> None:
    """``page`` decodes video and plays audio: framesDecoded and the audio samples
    received (not concealed) grow: 20 frames, a second of audio at 48 kHz."""
    meter = Meter(page)
    growing(meter.frames, 20, by=20, describe=f"{what}: frames decoded")
    growing(meter.samples, 20, by=48000, describe=f"{what}: audio samples played")
    (pc,) = meter.read()
    assert pc["pair"] is not None, pc
    assert (pc["pair"]["local"], pc["pair"]["remote"]) == ("127.0.0.1", "127.0.0.1"), pc


def media_report(hub: NsHub) -> dict[str, Any]:
    """The sitting's video links and forwarded packets, as the operator may read them."""
    path = f"/api/sittings/{hub.sitting}/media"
    report: dict[str, Any] = hub.http("GET", path, token=hub.token("vanhanh"))
    return report


def forwarded(hub: NsHub) -> dict[str, int]:
    """Packets the hub forwarded from each source (GET /api/sittings/{id}/media)."""
    report = media_report(hub)
    assert report.get("enabled") is True, report
    counts: dict[str, int] = report["forwarded"]
    return counts


# Samples a page's floor video every 40 ms into window.__watch as [Date.now(), r, g, b].
WATCH = """
(selector) => {
  window.__watch = [];
  const canvas = document.createElement('canvas');
  canvas.width = 16; canvas.height = 16;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  window.__watchTimer = setInterval(() => {
    const v = document.querySelector(selector);
    if (!v || !v.videoWidth) return;
    const w = v.videoWidth, h = v.videoHeight;
    ctx.drawImage(v, w / 4, h / 4, w / 2, h / 2, 0, 0, 16, 16);
    const px = ctx.getImageData(0, 0, 16, 16).data;
    let r = 0, g = 0, b = 0;
    for (let i = 0; i < px.length; i += 4) { r += px[i]; g += px[i + 1]; b += px[i + 2]; }
    const n = px.length / 4;
    window.__watch.push([Date.now(), r / n, g / n, b / n]);
  }, 40);
}
"""
WATCHED = "() => { clearInterval(window.__watchTimer); return window.__watch; }"


# ---- Tests ---------------------------------------------------------------------------


def test_remote_speaker_is_decoded_on_the_gallery_and_by_another_delegate(
    hub: NsHub, cams: Cameras, consoles: Consoles
) -> None:
    a = delegate(consoles, cams, hub, A, "red")
    b = delegate(consoles, cams, hub, B, "blue")
    screen = gallery(consoles, cams, hub.base)
    grant(hub, A)
    for page, who in ((screen, "gallery"), (b, "delegate B")):
        shows(page, "red", hub)
        decodes(page, who)
    # The speaker's console says so, and gets no floor source (nobody else is on the air).
    expect(a.locator("[data-testid=on-air]")).to_have_attribute("data-on", "1")
    assert Meter(a).frames() == 0


def test_floor_switch_shows_the_new_speaker_within_a_second(
    hub: NsHub, cams: Cameras, consoles: Consoles
) -> None:
    delegate(consoles, cams, hub, A, "red")
    b = delegate(consoles, cams, hub, B, "blue")
    screen = gallery(consoles, cams, hub.base)
    grant(hub, A)
    shows(screen, "red", hub)
    growing(Meter(screen).frames, 20, by=20, describe="the gallery decoding A")

    b_meter = Meter(b)
    plis = b_meter.total("video", "pliCount", "outbound")
    screen.evaluate(WATCH, FLOOR_VIDEO)
    sent = grant(hub, B)
    shows(screen, "blue", hub, timeout=10)
    seen_ms = time.time() * 1000  # an upper bound, if the page's sampler was held back
    # The hub asked B's browser for a keyframe (a PLI) when B's feed went on the air.
    wait_for(
        lambda: b_meter.total("video", "pliCount", "outbound"),
        lambda n: n > plis,
        5,
        "a keyframe request (PLI) to reach B",
    )
    samples = [(t, (round(r), round(g), round(b))) for t, r, g, b in screen.evaluate(WATCHED)]
    first = next((t for t, rgb in samples if t >= sent and nearest(rgb) == "blue"), None)
    if first is None:
        # The page's 40 ms sampler can be starved on a loaded machine (one run saw three
        # samples in all); the moment this test's own poll saw B is a later bound.
        print(f"the page sampled {len(samples)} times; timing the switch by the poll")
        first = seen_ms
    took = (first - sent) / 1000
    print(f"floor switch A -> B: the gallery showed B after {took:.3f} s")
    assert took <= SWITCH_S * SCALE, f"the gallery showed B {took:.2f} s after the grant"
    decodes(screen, "gallery after the switch")


def test_a_delegate_without_the_floor_reaches_nobody(
    hub: NsHub, cams: Cameras, consoles: Consoles
) -> None:
    a = delegate(consoles, cams, hub, A, "red")
    b = delegate(consoles, cams, hub, B, "blue")
    c = delegate(consoles, cams, hub, C, "green")
    screen = gallery(consoles, cams, hub.base)
    grant(hub, A)
    for page in (screen, b, c):
        shows(page, "red", hub)
    # C does send (its camera and microphone go out) ...
    c_meter = Meter(c)
    video, audio = c_meter.sent("video"), c_meter.sent("audio")
    wait_for(
        lambda: (c_meter.sent("video"), c_meter.sent("audio")),
        lambda sent: sent[0] >= video + 30 and sent[1] >= audio + 50,
        20,
        "C's outbound video and audio packets",
    )
    # ... while the hub forwards A's packets and not one of C's (nor B's, also off the air).
    start = forwarded(hub)
    later = wait_for(
        lambda: forwarded(hub),
        lambda f: f.get(f"m:{A}", 0) >= start.get(f"m:{A}", 0) + 200,
        20,
        "the hub to forward A's packets",
    )
    assert later.get(f"m:{C}", 0) == 0 and later.get(f"m:{B}", 0) == 0, later
    # Nobody shows green; A, the only one on the air, receives nothing.
    for page in (screen, b, c):
        assert [nearest(x) for x in colours(page, FLOOR_VIDEO)][:1] == ["red"]
    assert Meter(a).frames() == 0


def test_a_room_and_a_remote_delegate_see_and_hear_each_other(
    hub: NsHub, cams: Cameras, consoles: Consoles
) -> None:
    a = delegate(consoles, cams, hub, A, "red")
    # The hall's console sends its feed as soon as it is up (silenced until the floor).
    hall = consoles.open(
        cams["yellow"], hub.base, "/room/", ROOM, hub.passwords[ROOM], "[data-testid=quorum-count]"
    )
    connected(hall)
    screen = gallery(consoles, cams, hub.base)
    # A speaker in the hall, then the remote delegate answering: each receives the other.
    grant(hub, ROOM)
    shows(a, "yellow", hub)
    shows(screen, "yellow", hub)
    grant(hub, A)
    shows(hall, "red", hub)
    shows(a, "yellow", hub)
    decodes(hall, "the hall")
    decodes(a, "remote delegate A")
    shows(screen, "red", hub)


def test_a_receiver_cut_off_resumes_without_reload(
    ns: netns.Netns, template: Path, tmp_path: Path, cams: Cameras, pw: Any, media_dir: Path
) -> None:
    """The gallery screen in a namespace of its own, its only link a veth pair to the hub's
    namespace: that link down stops its video (and its /ws), up again the video comes
    back on the same page."""
    with contextlib.ExitStack() as stack:
        rx = stack.enter_context(netns.Netns("nt-gallery"))
        _, rx_dev = netns.veth(ns, "10.77.0.1/30", rx, "10.77.0.2/30")
        h = sitting_hub(
            ns,
            template,
            tmp_path / "data",
            NGHITRUONG_HOST="0.0.0.0",
            NGHITRUONG_MEDIA_HOSTS="127.0.0.1,10.77.0.1",
        )
        stack.callback(h.close)
        origin = f"http://10.77.0.1:{h.port}"
        # A hall screen reaches the hub over https in real life: a secure context here too.
        secure = f"--unsafely-treat-insecure-origin-as-secure={origin}"
        screen_browser = launch(pw, rx, media_dir, extra=[secure])
        stack.callback(screen_browser.close)
        consoles = Consoles()
        stack.callback(consoles.close)

        delegate(consoles, cams, h, A, "red")
        screen = consoles.open(screen_browser, origin, "/gallery/")
        wait_for(Meter(screen).connected, bool, 30, "the gallery's video link to connect")
        grant(h, A)
        shows(screen, "red", h)
        meter = Meter(screen)
        growing(meter.frames, 20, by=20, describe="the gallery decoding A")
        (pc,) = meter.read()
        assert pc["pair"]["local"] == "10.77.0.2", pc["pair"]
        screen.evaluate("window.__samePage = true")

        rx.link(rx_dev, up=False)
        frozen = harness.stalled(meter.frames, quiet=3, timeout=20)
        rx.link(rx_dev, up=True)
        growing(meter.frames, 45, by=40, describe="video to resume after the cut")
        shows(screen, "red", h)
        assert screen.evaluate("window.__samePage") is True, "the page was reloaded"
        assert frozen > 0
        assert not consoles.errors, consoles.errors
