"""The consoles' side of the video links (issue 8) that does not depend on media reaching
anyone: what each console offers (the agreed transceivers, ICE gathered, no trickle), the
gallery never asking for a camera, the delegate's self-view, device picker and mute, the
catalogue, and the operator's linked halls with the room console they log into.

Whether media flows through the hub is tested in tests/media (a network namespace of the
test's own); here Chromium runs with fake devices on the hub of the other browser tests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, Hub, Watched, ms, open_page

pytestmark = pytest.mark.browser

MEDIA_ARGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium with fake camera and microphone (and no autoplay flag: the gallery must
    cope with a browser that refuses sound without a click)."""
    from playwright import sync_api

    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *MEDIA_ARGS])
        yield Watched(b)
        b.close()


class Frames:
    """The JSON frames a page sends on its /ws (the page runs with ?json=1)."""

    def __init__(self, page: Any) -> None:
        self.sent: list[dict[str, Any]] = []
        page.on("websocket", self.socket)

    def socket(self, ws: Any) -> None:
        ws.on("framesent", self.frame)

    def frame(self, payload: str | bytes) -> None:
        if isinstance(payload, str):
            self.sent.append(json.loads(payload))

    def offers(self) -> list[dict[str, Any]]:
        return [f for f in self.sent if f.get("t") == "media.offer"]


def m_lines(sdp: str) -> list[tuple[str, str]]:
    """(kind, direction) of each media section, in order."""
    sections = re.split(r"\r?\n(?=m=)", sdp)[1:]
    out = []
    for s in sections:
        kind = s[2 : s.index(" ")]
        direction = re.search(r"^a=(sendrecv|recvonly|sendonly|inactive)", s, re.M)
        out.append((kind, direction.group(1) if direction else "?"))
    return out


def watch(seen: list[Frames], errors: list[str]) -> Any:
    """A page set-up hook: record its frames (appended to ``seen``) and its errors."""

    def setup(page: Any) -> None:
        seen.append(Frames(page))
        page.on("pageerror", lambda e: errors.append(str(e)))

    return setup


def offers_after(frames: Frames, page: Any, count: int) -> list[dict[str, Any]]:
    """The media.offer frames the page sent, once there are ``count`` (Playwright's wait
    lets the frame events arrive)."""
    waited = 0.0
    while len(frames.offers()) < count and waited < ms(10):
        page.wait_for_timeout(100)
        waited += 100
    assert len(frames.offers()) >= count, f"{len(frames.offers())} media.offer sent"
    return frames.offers()


def first_offer(frames: Frames, page: Any) -> dict[str, Any]:
    return offers_after(frames, page, 1)[0]


def test_each_console_offers_the_agreed_transceivers_with_ice_gathered(
    browser: Any, hub: Hub, shots: Any
) -> None:
    errors: list[str] = []
    contexts = []
    try:
        # The delegate publishes: audio then video, both sendrecv, own tracks attached.
        seen: list[Frames] = []
        ctx, page = open_page(
            browser,
            hub,
            "/delegate/",
            user="db02",
            query="&json=1",
            ready=None,
            setup=watch(seen, errors),
        )
        contexts.append(ctx)
        frames = seen[-1]
        expect(page.locator("[data-testid=video-join]")).to_be_visible()
        expect(page.locator("[data-testid=d-video]")).to_contain_text(
            "chỉ đến được với người khác khi bạn đang được phát biểu"
        )
        page.locator("[data-testid=video-join]").click()
        offer = first_offer(frames, page)
        assert offer["mode"] == "publish"
        assert m_lines(offer["sdp"]) == [("audio", "sendrecv"), ("video", "sendrecv")]
        assert "a=candidate:" in offer["sdp"], "the offer went out before ICE gathering"
        assert len(re.findall(r"^a=msid:", offer["sdp"], re.M)) == 2  # both own tracks
        # Self-view plays the fake camera; the picker lists the fake devices.
        page.wait_for_function(
            "() => document.querySelector('[data-testid=self-video]').videoWidth > 0",
            timeout=ms(10),
        )
        mics = page.locator("[data-testid=device-audio] option")
        assert mics.count() >= 2
        expect(page.locator("[data-testid=device-video] option").first).to_have_text(
            re.compile("fake", re.I)
        )
        # Switching the microphone replaces the sender's track in place.
        chosen = mics.nth(1).get_attribute("value")
        label = mics.nth(1).inner_text()
        assert chosen
        page.select_option("[data-testid=device-audio]", chosen)
        page.wait_for_function(
            "label => __media.pc.getSenders().some(s => s.track && s.track.label === label)",
            arg=label,
            timeout=ms(10),
        )
        # Mute is local: the sender's audio track is disabled.
        page.locator("[data-testid=mic-toggle]").click()
        enabled = page.evaluate(
            "() => __media.pc.getSenders().filter(s => s.track && s.track.kind === 'audio')"
            ".map(s => s.track.enabled)"
        )
        assert enabled == [False]
        expect(page.locator("[data-testid=mic-toggle]")).to_have_attribute("aria-pressed", "true")
        shots(page, "video-delegate-joined", full=True)
        # A reload rejoins (the tab remembers that the delegate had not left).
        page.reload()
        page.wait_for_function(
            "() => window.__media && __media.state.local !== null", timeout=ms(10)
        )
        offers_after(frames, page, 2)
        page.locator("[data-testid=video-leave]").click()
        expect(page.locator("[data-testid=video-join]")).to_be_visible()
        assert page.evaluate("() => __media.state.local") is None
        assert any(f.get("t") == "media.leave" for f in frames.sent)

        # The gallery receives only, and never asks for a camera or microphone.
        ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
        contexts.append(ctx)
        gallery = ctx.new_page()
        gallery.on("pageerror", lambda e: errors.append(str(e)))
        gallery.add_init_script(
            "window.__gum = 0; const g = navigator.mediaDevices.getUserMedia.bind("
            "navigator.mediaDevices); navigator.mediaDevices.getUserMedia = (c) => "
            "(window.__gum++, g(c));"
        )
        gframes = Frames(gallery)
        gallery.goto(hub.url(f"/gallery/?sitting={hub.sitting}&json=1"))
        offer = first_offer(gframes, gallery)
        assert offer["mode"] == "receive"
        assert m_lines(offer["sdp"]) == [("audio", "recvonly"), ("video", "recvonly")]
        assert "a=candidate:" in offer["sdp"]
        assert gallery.evaluate("window.__gum") == 0
        expect(gallery.locator("[data-testid=g-video]")).to_have_count(0)  # nobody remote
        # Without the autoplay flag Chromium may refuse sound until a click: then the
        # screen offers one button; either way the floor's audio element ends up playing.
        playing = "() => !document.querySelector('audio[data-testid=floor-audio]').paused"
        sound = gallery.locator("[data-testid=sound-on]")
        gallery.wait_for_function(
            f"() => ({playing})() || document.querySelector('[data-testid=sound-on]')",
            timeout=ms(15),
        )
        if sound.count():
            sound.click()
            expect(sound).to_have_count(0)
        gallery.wait_for_function(playing, timeout=ms(5))

        # The chair's console: three slots of (audio, video), receive only.
        ctx, chair = open_page(
            browser,
            hub,
            "/chair/",
            user="db01",
            query="&json=1",
            ready=None,
            setup=watch(seen, errors),
        )
        contexts.append(ctx)
        cframes = seen[-1]
        chair.locator("[data-testid=console-video]").click()
        offer = first_offer(cframes, chair)
        assert offer["mode"] == "console"
        assert m_lines(offer["sdp"]) == [("audio", "recvonly"), ("video", "recvonly")] * 3
        assert errors == []
    finally:
        for c in contexts:
            c.close()


def test_every_video_string_is_in_both_languages() -> None:
    """Each `video.*` key the consoles use is in vi and en (Vietnamese with diacritics)."""
    vi = json.loads((ROOT / "server/locale/vi/video.json").read_text(encoding="utf-8"))
    en = json.loads((ROOT / "server/locale/en/video.json").read_text(encoding="utf-8"))
    assert vi.keys() == en.keys()
    used: set[str] = set()
    for path in Path(ROOT / "clients/web/src").rglob("*.ts*"):
        used |= set(re.findall(r"\"(video\.[a-z_.]+)\"", path.read_text(encoding="utf-8")))
    assert used, "no video.* key found in the consoles"
    assert used <= vi.keys(), sorted(used - vi.keys())


def test_operator_links_a_hall_whose_card_opens_the_room_console(
    browser: Any, hub: Hub, shots: Any
) -> None:
    from tests.browser.test_accessibility import Audit

    audit = Audit()
    errors: list[str] = []
    contexts = []
    try:
        ctx, op = open_page(browser, hub, "/operator/", user="vanhanh", ready=None)
        contexts.append(ctx)
        op.on("pageerror", lambda e: errors.append(str(e)))
        op.get_by_role("tab", name="Phòng họp liên kết").click()
        op.locator("[data-testid=room-name]").fill("Hội trường tổ dân phố 5")
        op.get_by_role("button", name="Tạo").click()
        card = op.locator("[data-testid=login-card]").first
        expect(card).to_contain_text("Hội trường tổ dân phố 5")
        expect(card.locator(".qr svg")).to_be_visible()
        username = card.locator("dd.mono").nth(0).inner_text()
        password = card.locator("dd.mono").nth(1).inner_text()
        url = card.locator(".lc-url").inner_text()
        assert url.endswith(f"/room/?user={username}")
        expect(op.locator("[data-testid=rooms]")).to_contain_text(username)
        audit.page(op, "operator, linked halls")
        shots(op, "video-operator-rooms", full=True)

        # The card's login is a room's: the room console takes it and publishes the hall.
        seen: list[Frames] = []
        ctx = browser.new_context(viewport={"width": 1280, "height": 720})
        contexts.append(ctx)
        room = ctx.new_page()
        room.set_default_timeout(ms(8))
        watch(seen, errors)(room)
        room.goto(url + "&json=1")
        expect(room.locator("input[name=username]")).to_have_value(username)
        room.fill("input[name=password]", password)
        room.click("button[type=submit]")
        expect(room.locator("[data-testid=current-item]")).to_be_visible()
        assert room.evaluate("() => __nt.live.role") == "room"
        offer = first_offer(seen[-1], room)
        assert offer["mode"] == "publish"
        assert m_lines(offer["sdp"]) == [("audio", "sendrecv"), ("video", "sendrecv")]
        room.get_by_role("button", name="Thiết bị").click()
        expect(room.locator("#r-devices")).to_be_visible()
        room.wait_for_function(
            "() => document.querySelector('#r-devices [data-testid=self-video]').videoWidth > 0",
            timeout=ms(10),
        )
        audit.page(room, "room console, devices")
        shots(room, "video-room-console")

        # A reset gives a new card; the old password no longer logs in.
        op.get_by_role("button", name="Cấp lại mật khẩu: Hội trường tổ dân phố 5").click()
        expect(op.locator("[data-testid=login-card]").first).not_to_contain_text(password)
        fresh = op.locator("[data-testid=login-card]").first.locator("dd.mono").nth(1).inner_text()
        assert hub.http("POST", "/api/login", {"username": username, "password": fresh})["token"]
        assert "token" not in hub.http(
            "POST", "/api/login", {"username": username, "password": password}
        )
        assert not (audit.contrast or audit.names), audit.contrast + audit.names
        assert errors == []
    finally:
        for c in contexts:
            c.close()


def test_chair_sees_a_tile_per_remote_link_and_mutes_it_at_the_hub(
    browser: Any, hub: Hub, shots: Any
) -> None:
    """The tiles come from the hub's media.status (whether media flows is tests/media's)."""
    from tests.browser.test_accessibility import Audit

    hub.check_in(*[f"db{i:02d}" for i in range(1, 22) if i != 7])
    for cmd in (
        {"type": "sitting.open"},
        {"type": "sitting.start"},
        {"type": "agenda.move", "item": "thao-luan"},
    ):
        assert hub.command("db01", cmd).get("ok"), cmd
    audit = Audit()
    errors: list[str] = []
    seen: list[Frames] = []
    contexts = []
    try:
        ctx, chair = open_page(
            browser,
            hub,
            "/chair/",
            user="db01",
            query="&json=1",
            size=(1500, 1000),
            setup=watch(seen, errors),
        )
        contexts.append(ctx)
        frames = seen[-1]
        chair.locator("[data-testid=console-video]").click()
        expect(chair.locator("[data-testid=c-video]")).to_contain_text(
            "Chưa có đại biểu trực tuyến"
        )

        ctx, delegate = open_page(
            browser, hub, "/delegate/", user="db07", setup=watch(seen, errors)
        )
        contexts.append(ctx)
        delegate.locator("[data-testid=video-join]").click()
        tile = chair.locator("[data-testid=video-tile][data-endpoint='m:db07']")
        expect(tile).to_contain_text("Đặng Quốc Gia", timeout=ms(15))
        expect(tile).to_contain_text("Ghế 1-07")
        expect(tile).to_contain_text("Trực tuyến")

        # A request from a member with a video link carries the badge in the queue.
        expect(delegate.locator("[data-testid=request-contribution]")).to_be_enabled(timeout=ms(15))
        delegate.locator("[data-testid=request-contribution]").click()
        queue = chair.locator("[data-testid=queue]")
        expect(queue).to_contain_text("Đặng Quốc Gia")
        expect(queue.locator("[data-testid=remote-badge]")).to_have_count(1)

        # Server-side mute: the frame goes out, the hub's status says muted.
        tile.locator("[data-testid=tile-mute]").click()
        expect(tile.locator("[data-testid=tile-mute]")).to_have_attribute(
            "aria-pressed", "true", timeout=ms(10)
        )
        expect(tile).to_contain_text("Đã tắt tiếng")
        mutes = [f for f in frames.sent if f.get("t") == "media.mute"]
        assert mutes == [{"t": "media.mute", "endpoint": "m:db07", "muted": True}], mutes
        audit.page(chair, "chair, video links", "[data-testid=c-video]")
        audit.page(delegate, "delegate, video joined", "[data-testid=d-video]")
        shots(chair, "video-chair-tiles", full=True)
        tile.locator("[data-testid=tile-mute]").click()
        expect(tile.locator("[data-testid=tile-mute]")).to_have_attribute(
            "aria-pressed", "false", timeout=ms(10)
        )

        # Someone in the hall speaks: the tile's grant asks what becomes of them, as every
        # other way of giving the floor does (one speaker at a time).
        chair.locator("[data-testid=give-who]").select_option("db04")
        chair.locator("[data-testid=give-submit]").click()
        expect(chair.locator("[data-testid=turn][data-status=speaking]")).to_have_count(1)
        # The tile gives the floor (granting the member's own request, which leaves the
        # queue); then it offers no second grant.
        tile.locator("[data-testid=tile-grant]").click()
        chair.locator("[data-testid=occupied-pause]").click()
        speaking = chair.locator("[data-testid=turn][data-status=speaking]")
        expect(speaking).to_have_count(1)
        expect(speaking).to_contain_text("Đặng Quốc Gia")
        expect(chair.locator("[data-testid=turn][data-status=paused]")).to_have_count(1)
        expect(queue).not_to_contain_text("Đặng Quốc Gia")
        expect(tile.locator("[data-testid=tile-grant]")).to_have_count(0)
        assert not (audit.contrast or audit.names), audit.contrast + audit.names
        assert errors == []
    finally:
        for c in contexts:
            c.close()
