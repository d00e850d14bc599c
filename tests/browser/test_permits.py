"""The chair console shows only the controls the core permits (chamber/permissions.py, as
the welcome carries it): the secretary (thư ký) keeps the attendance, the agenda, the
motions and the documents, and sees none of the presiding officer's controls (the floor,
the sitting's phases, questioning rounds, moving to an item, votes); the vice-chair
presides and sees them. Every button either names the command it issues
(`data-command`, and `data-about` the member it concerns), which the core must permit
for that console's roles in the sitting's phase, or is one of the few that issue none."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from playwright.sync_api import Page, expect

from chamber.ids import Phase, Role
from chamber.permissions import FOR_ANOTHER, NotPermitted, check, permits
from tests.browser.conftest import ROOT, Hub, Screens

pytestmark = pytest.mark.browser

CHAIR, VICE, SECRETARY = "db01", "db02", "db03"
ROLES = {VICE: {Role.VICE_CHAIR, Role.DELEGATE}, SECRETARY: {Role.SECRETARY, Role.DELEGATE}}
PRESENT = [f"db{i:02d}" for i in range(1, 22)]  # 21 of 30: the roll call has 9 to offer
SPEAKER, ASKING = "db05", "db07"

#: What the secretary may not issue, by the control that would issue it.
PRESIDING_CONTROLS = [
    "give-floor",
    "give-submit",
    "next-speaker",
    "grant",
    "pause-turn",
    "resume-turn",
    "extend-1",
    "extend-3",
    "end-turn",
    "withdraw",
    "round-open",
    "round-answer",
    "round-close",
    "sitting.open",
    "sitting.start",
    "sitting.suspend",
    "sitting.resume",
    "sitting.close",
    "move-bao-cao",
    "move-nghi-quyet",
    "move-bau-cu",
    "open-vote",
    "open-election",
    "open-confidence",
    "close-vote",
    "cancel-vote",
    "revote",
    "tile-grant",
]
#: What the secretary may issue, and sees.
SECRETARY_CONTROLS = [
    "check-in-all",
    "item-add",
    "item-up",
    "item-down",
    "item-remove",
    "motion-new",
    "motion-amend",
    "present-doc",
    "doc-next",
    "doc-stop",
]
#: Buttons that issue no command, by the catalogue key of their text or label.
NO_COMMAND = (
    "web.lang.vi",
    "web.lang.en",
    "web.logout",
    "web.keys.button",
    "web.attendance.show",
    "web.attendance.hide",
    "video.chair.start",
    "video.chair.stop",
    "web.close",  # a notice's ×
)


def catalogue() -> dict[str, str]:
    words: dict[str, str] = {}
    for path in sorted(Path(ROOT, "server", "locale", "vi").glob("*.json")):
        words.update(json.loads(path.read_text(encoding="utf-8")))
    return words


def ok(answer: Any) -> Any:
    assert answer.get("ok"), answer
    return answer


def state(hub: Hub) -> dict[str, Any]:
    result: dict[str, Any] = hub.http("GET", f"/api/sittings/{hub.sitting}")
    return result


def in_session(hub: Hub) -> None:
    """The sitting in session on the resolutions item: a speaker, a request waiting, a
    questioning round, the draft resolution presented."""
    hub.check_in(*PRESENT)
    for cmd in (
        {"type": "sitting.open"},
        {"type": "sitting.start"},
        {"type": "agenda.move", "item": "thao-luan"},
        {"type": "floor.grant", "speaker": SPEAKER, "kind": "contribution"},
        {"type": "floor.round_open", "respondent": "kh-ubnd"},
    ):
        ok(hub.command(CHAIR, cmd))
    ok(hub.command(ASKING, {"type": "floor.request", "kind": "contribution"}))
    doc = next(iter(state(hub)["documents"]))
    ok(hub.command(CHAIR, {"type": "doc.present", "doc": doc, "page": 1}))


def keep_welcome(page: Page, into: list[dict[str, Any]]) -> None:
    """Keep every welcome the page receives (JSON frames, `?json=1`)."""

    def on_frame(payload: Any) -> None:
        if isinstance(payload, str):
            frame = json.loads(payload)
            if frame.get("t") == "welcome":
                into.append(frame)

    page.on("websocket", lambda ws: ws.on("framereceived", on_frame))


def buttons(page: Page) -> list[dict[str, Any]]:
    """Every button the page shows now: its test id, command(s), member, text."""
    found: list[dict[str, Any]] = page.evaluate(
        """() => [...document.querySelectorAll("button")]
            .filter((b) => b.checkVisibility())
            .map((b) => ({
              testid: b.dataset.testid ?? null,
              command: b.dataset.command ?? null,
              about: b.dataset.about ?? null,
              text: (b.getAttribute("aria-label") || b.textContent || "").trim(),
            }))"""
    )
    return found


def core_permits(roles: set[Role], command: str, phase: Phase, another: bool) -> bool:
    """Whether the core lets a member holding ``roles`` issue ``command`` in ``phase``
    (about another member when ``another``): the table, then the deciders' rule."""
    for role in roles:
        try:
            check(command, role, phase)
        except NotPermitted:
            continue
        if not another or role in FOR_ANOTHER.get(command, frozenset()):
            return True
    return False


def every_button_is_permitted(
    page: Page, user: str, welcome: dict[str, Any], phase: Phase, words: dict[str, str]
) -> int:
    """Each button shown issues a command the core permits for ``user`` now (and the
    welcome's table says so too), or is one that issues none. Returns how many commands."""
    roles = ROLES[user]
    table = welcome["permits"]
    plain = {words[key] for key in NO_COMMAND}
    issued = 0
    for button in buttons(page):
        if button["command"] is None:
            assert button["text"] in plain, f"{user}: a button with no command: {button}"
            continue
        another = button["about"] not in (None, user)
        for command in button["command"].split():
            issued += 1
            assert core_permits(roles, command, phase, another), (user, phase, button)
            assert phase.value in table["commands"].get(command, []), (user, button)
            assert not another or command in table["others"], (user, button)
        assert button["command"], f"{user}: a control with no permitted command: {button}"
    return issued


def test_the_secretary_sees_only_what_the_core_lets_her_do(browser: Any, hub: Hub) -> None:
    in_session(hub)
    words = catalogue()
    sc = Screens(browser, hub)
    try:
        welcomes: dict[str, list[dict[str, Any]]] = {SECRETARY: [], VICE: []}
        secretary = sc.open(
            "/chair/",
            user=SECRETARY,
            query="&json=1",
            setup=lambda page: keep_welcome(page, welcomes[SECRETARY]),
        )
        vice = sc.open(
            "/chair/", user=VICE, query="&json=1", setup=lambda p: keep_welcome(p, welcomes[VICE])
        )
        for user in (SECRETARY, VICE):
            expected = json.loads(msgspec.json.encode(permits(ROLES[user])))
            assert welcomes[user] and welcomes[user][-1]["permits"] == expected, user

        for page in (secretary, vice):
            expect(page.locator("[data-testid=turn]")).to_have_count(1)  # db05 speaks
            expect(page.locator("[data-testid=queued]")).to_have_count(1)  # db07 waits
            expect(page.locator("[data-testid=presented-page]")).to_be_visible()
            page.get_by_role("button", name=words["web.attendance.show"]).click()

        # The secretary: the floor, the round and the phase as they are, no control of them.
        for testid in PRESIDING_CONTROLS:
            expect(secretary.locator(f"[data-testid='{testid}']")).to_have_count(0)
        expect(secretary.get_by_test_id("floor-presiding-only")).to_have_text(
            words["web.permits.floor_presiding"]
        )
        expect(secretary.get_by_test_id("setup-presiding-only")).to_be_visible()
        for testid in SECRETARY_CONTROLS:
            expect(secretary.locator(f"[data-testid='{testid}']").first).to_be_visible()
        expect(secretary.get_by_test_id("check-in-db25")).to_be_visible()  # not yet in
        expect(secretary.get_by_test_id("more-db25")).to_be_visible()
        # The help lists only the keys whose command she may issue: none but "?".
        secretary.get_by_role("button", name=words["web.keys.button"]).click()
        help_rows = secretary.locator("dialog[open] tbody tr")
        expect(help_rows).to_have_count(1)
        secretary.keyboard.press("Escape")
        expect(secretary.locator("dialog[open]")).to_have_count(0)
        # Her keys do nothing either: N would give the floor to db07, E end db05's turn.
        secretary.keyboard.press("n")
        secretary.keyboard.press("e")
        expect(secretary.locator("dialog[open]")).to_have_count(0)
        assert every_button_is_permitted(
            secretary, SECRETARY, welcomes[SECRETARY][-1], Phase.IN_SESSION, words
        )

        # The vice-chair presides: the floor, the round, the phase, the agenda's moves.
        for testid in (
            "give-floor",
            "next-speaker",
            "grant",
            "withdraw",
            "pause-turn",
            "extend-1",
            "end-turn",
            "round-answer",
            "round-close",
            "sitting.suspend",
            "sitting.close",
            "move-bao-cao",
            "check-in-all",
            "present-doc",
        ):
            expect(vice.locator(f"[data-testid='{testid}']").first).to_be_visible()
        expect(vice.get_by_test_id("floor-presiding-only")).to_have_count(0)
        every_button_is_permitted(vice, VICE, welcomes[VICE][-1], Phase.IN_SESSION, words)

        # A vote open: the secretary casts her ballot, and neither closes nor cancels it.
        motion = next(iter(state(hub)["motions"]))
        ok(hub.command(CHAIR, {"type": "agenda.move", "item": "nghi-quyet"}))
        ok(hub.command(CHAIR, {"type": "vote.open", "motion": motion, "preset": "resolution"}))
        expect(secretary.get_by_test_id("c-ballots")).to_be_visible()
        expect(secretary.get_by_test_id("vote-approve")).to_be_visible()
        for testid in ("close-vote", "cancel-vote"):
            expect(secretary.get_by_test_id(testid)).to_have_count(0)
            expect(vice.get_by_test_id(testid)).to_be_visible()
        for page, user in ((secretary, SECRETARY), (vice, VICE)):
            every_button_is_permitted(page, user, welcomes[user][-1], Phase.IN_SESSION, words)

        # Suspended: the vice-chair may resume or close, and close the vote; nobody casts.
        ok(hub.command(CHAIR, {"type": "sitting.suspend"}))
        expect(vice.get_by_test_id("sitting.resume")).to_be_visible()
        expect(vice.get_by_test_id("sitting.suspend")).to_have_count(0)
        expect(vice.get_by_test_id("give-floor")).to_have_count(0)
        expect(vice.get_by_test_id("close-vote")).to_be_visible()
        expect(secretary.get_by_test_id("cast-not-now")).to_be_visible()
        expect(secretary.get_by_test_id("vote-approve")).to_have_count(0)
        expect(secretary.get_by_test_id("item-add")).to_be_visible()
        for page, user in ((secretary, SECRETARY), (vice, VICE)):
            every_button_is_permitted(page, user, welcomes[user][-1], Phase.SUSPENDED, words)
        assert not sc.errors, sc.errors
    finally:
        sc.close()
