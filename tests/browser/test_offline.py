"""A delegate's link drops mid-vote: the ballot cast offline goes out on reconnect, once."""

from __future__ import annotations

import itertools
import json
import re
import time
from typing import Any

import msgspec
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Hub, ms

pytestmark = pytest.mark.browser


def open_a_vote(hub: Hub) -> None:
    """21 delegates checked in, the sitting started and a named vote open for 10 minutes."""
    hub.check_in(*[f"db{i:02d}" for i in range(1, 22)])
    for cmd in ({"type": "sitting.open"}, {"type": "sitting.start"}):
        assert hub.command("db01", cmd).get("ok")
    motion = next(iter(hub.http("GET", f"/api/sittings/{hub.sitting}")["motions"]))
    opened = hub.command("db01", {"type": "vote.open", "motion": motion, "duration_s": 600})
    assert opened.get("ok"), opened


def test_ballot_cast_offline_is_counted_exactly_once(browser: Any, hub: Hub, shots: Any) -> None:
    open_a_vote(hub)

    ctx = browser.new_context(viewport={"width": 1024, "height": 1366})
    try:
        page = ctx.new_page()
        page.set_default_timeout(ms(8))
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(hub.url(f"/delegate/?sitting={hub.sitting}"))
        page.fill("input[name=username]", "db04")
        page.fill("input[name=password]", hub.passwords["db04"])
        page.click("button[type=submit]")
        expect(page.locator("[data-testid=vote-approve]")).to_be_visible()

        # Cut the link: the network goes away and the open socket with it.
        ctx.set_offline(True)
        page.evaluate("window.__nt.ws && window.__nt.ws.close()")
        banner = page.locator("[data-testid=link-banner]")
        expect(banner).to_contain_text("Mất kết nối — đang kết nối lại…")

        page.locator("[data-testid=vote-approve]").click()
        page.locator("[data-testid=confirm-ballot]").click()
        expect(page.locator("[data-testid=ballot-sending]")).to_contain_text(
            "sẽ gửi ngay khi có kết nối"
        )
        expect(banner).to_contain_text("1 thao tác")
        page.wait_for_timeout(ms(1.5))  # reconnect attempts fail meanwhile
        shots(page, "delegate-vi-offline", full=True)

        ctx.set_offline(False)
        expect(page.locator("[data-testid=my-ballot]")).to_contain_text(
            "Bạn đã biểu quyết", timeout=ms(15)
        )
        expect(page.locator("[data-testid=my-ballot]")).to_contain_text("Tán thành")
        expect(banner).to_have_count(0)

        # The page reloads: the same state comes back from the hub, no second ballot.
        page.reload()
        expect(page.locator("[data-testid=my-ballot]")).to_contain_text("Tán thành")
        assert not errors, errors
    finally:
        ctx.close()

    log = hub.log()
    ballots = [
        r["event"]
        for r in log["records"]
        if r["event"]["type"] == "ballot.cast" and r["event"]["member"] == "db04"
    ]
    assert len(ballots) == 1, json.dumps(ballots)
    assert ballots[0]["answers"] == {next(iter(ballots[0]["answers"])): "approve"}


def test_ballot_resent_after_a_lost_ack_is_applied_once(browser: Any, hub: Hub) -> None:
    """The ballot reaches the hub but the link dies before the ack: the client re-sends it
    with the same id after reconnecting, and the hub answers without applying it again."""
    open_a_vote(hub)

    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.set_default_timeout(ms(8))
        sent: list[dict[str, Any]] = []

        def watch(ws: Any) -> None:
            def on_frame(payload: Any) -> None:
                raw = payload if isinstance(payload, bytes) else payload.encode()
                frame = msgspec.msgpack.decode(raw)
                if frame.get("t") == "cmd":
                    sent.append(frame)

            ws.on("framesent", on_frame)

        page.on("websocket", watch)
        page.goto(hub.url(f"/delegate/?sitting={hub.sitting}"))
        page.fill("input[name=username]", "db05")
        page.fill("input[name=password]", hub.passwords["db05"])
        page.click("button[type=submit]")
        expect(page.locator("[data-testid=vote-reject]")).to_be_visible()
        # The next frame goes out, then the socket is cut at once: the ack cannot arrive.
        page.evaluate(
            """() => { const ws = window.__nt.ws; const send = ws.send.bind(ws);
                       ws.send = (d) => { send(d); ws.close(); }; }"""
        )
        page.locator("[data-testid=vote-reject]").click()
        page.locator("[data-testid=confirm-ballot]").click()
        expect(page.locator("[data-testid=my-ballot]")).to_contain_text(
            "Không tán thành", timeout=ms(15)
        )
    finally:
        ctx.close()

    ballots = [f for f in sent if f["cmd"]["type"] == "vote.cast"]
    assert len(ballots) >= 2, ballots  # sent, then re-sent after the reconnect
    assert len({f["id"] for f in ballots}) == 1  # with the same id
    cast = [
        r
        for r in hub.log()["records"]
        if r["event"]["type"] == "ballot.cast" and r["event"]["member"] == "db05"
    ]
    assert len(cast) == 1, cast


@pytest.mark.parametrize("refused", [2, 6], ids=["then-taken", "always"])
def test_a_ballot_answered_unavailable_is_sent_again_by_itself(
    browser: Any, hub: Hub, refused: int
) -> None:
    """The hub answers `server.unavailable` (its journal could not take the ballot, or the
    sitting was moving to another node): the console sends it again with the same id after
    a growing pause, without the delegate clicking again and without an error shown, and
    the hub applies it once. Refused six times (the first try and five more), the console
    gives up and says so in the user's language."""
    open_a_vote(hub)

    ctx = browser.new_context()
    casts: list[tuple[float, str]] = []  # (when, id) of each vote.cast the page sent
    try:
        page = ctx.new_page()
        page.set_default_timeout(ms(8))

        def route(ws: Any) -> None:
            server = ws.connect_to_server()

            def from_page(message: str | bytes) -> None:
                raw = message if isinstance(message, bytes) else message.encode()
                frame = msgspec.msgpack.decode(raw)
                cmd = frame.get("cmd") if frame.get("t") == "cmd" else None
                if cmd is not None and cmd.get("type") == "vote.cast":
                    casts.append((time.monotonic(), frame["id"]))
                    if len(casts) <= refused:  # as a hub that cannot take them
                        unavailable = {
                            "t": "error",
                            "id": frame["id"],
                            "code": "server.unavailable",
                            "message": "the journal is unavailable",
                            "params": {},
                        }
                        ws.send(msgspec.msgpack.encode(unavailable))
                        return
                server.send(message)

            ws.on_message(from_page)
            server.on_message(lambda message: ws.send(message))

        page.route_web_socket(re.compile(r".*/ws$"), route)
        page.goto(hub.url(f"/delegate/?sitting={hub.sitting}"))
        page.fill("input[name=username]", "db06")
        page.fill("input[name=password]", hub.passwords["db06"])
        page.click("button[type=submit]")
        page.locator("[data-testid=vote-approve]").click()
        page.locator("[data-testid=confirm-ballot]").click()
        if refused < 6:
            expect(page.locator("[data-testid=my-ballot]")).to_contain_text(
                "Bạn đã biểu quyết", timeout=ms(15)
            )
            # No refusal was shown: the console waited and sent it again.
            expect(page.locator(".notice-error")).to_have_count(0)
        else:  # after 0.25 + 0.5 + 1 + 2 + 4 s of pauses
            expect(page.locator(".notice-error")).to_contain_text(
                "Máy chủ tạm thời không ghi được", timeout=ms(15)
            )
    finally:
        ctx.close()

    assert len(casts) == min(refused + 1, 6), casts
    assert len({cid for _, cid in casts}) == 1  # the same id each time: decided once
    pauses = [b - a for (a, _), (b, _) in itertools.pairwise(casts)]
    low = [0.2, 0.4, 0.8, 1.6, 3.2][: len(pauses)]  # 250 ms, 0.5, 1, 2, 4 s
    assert all(p >= lo for p, lo in zip(pauses, low, strict=True)), pauses
    ballots = [
        r["event"]
        for r in hub.log()["records"]
        if r["event"]["type"] == "ballot.cast" and r["event"]["member"] == "db06"
    ]
    assert len(ballots) == (1 if refused < 6 else 0), json.dumps(ballots)
