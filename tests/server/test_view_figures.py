"""The figures the consoles show travel in the conflated view, per audience
(chamber/figures.py): the hall's running count as the rules say, the chair's set-up
figures to the chair only, and nothing of a secret or void tally to anyone who may not
see it."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from chamber import commands as c
from chamber.ids import ABSTAIN, APPROVE, REJECT, VoteForm
from chamber.projection import Audience
from chamber.rules import Rules
from server.fanout import Room
from tests.chamber.play import Play
from tests.chamber.test_voting import last, motion, setup
from tests.server.test_fanout import conn

QUIET = Rules(hall_running_count=False)


def voting(form: VoteForm = VoteForm.OPEN, rules: Rules | None = None, finish: str = "") -> Play:
    """25 present of 30: m04, m06 approve, m05 rejects, m07 abstains."""
    p = setup(present=25, rules=rules)
    p.do(c.OpenVote(motion=motion(p), form=form))
    for i, choice in ((4, APPROVE), (5, REJECT), (6, APPROVE), (7, ABSTAIN)):
        p.as_delegate(i, c.CastBallot(vote=last(p).id, choice=choice))
    if finish == "closed":
        p.do(c.CloseVote(vote=last(p).id))
    if finish == "cancelled":
        p.do(c.CancelVote(vote=last(p).id))
    return p


async def view_of(p: Play, audience: Audience) -> tuple[dict[str, Any], bytes]:
    room = Room("s1", lambda: p.state, view_hz=4)
    screen = conn(audience)
    room.add(screen)
    await room.stop()
    assert screen.view is not None
    return msgspec.json.decode(screen.view), screen.view


async def test_the_view_carries_the_sitting_figures() -> None:
    view, _ = await view_of(setup(present=25), Audience.PUBLIC)
    f = view["figures"]
    assert (f["total_seats"], f["present"], f["absent"], f["quorum_needed"]) == (30, 25, 5, 20)
    assert (f["quorate"], f["running_count"], f["vote"], f["setup"]) == (True, True, None, None)


@pytest.mark.parametrize(
    ("rules", "audience", "shown"),
    [
        (None, Audience.PUBLIC, True),
        (None, Audience.DELEGATE, True),
        (QUIET, Audience.PUBLIC, False),
        (QUIET, Audience.DELEGATE, False),
        (QUIET, Audience.CHAIR, True),
    ],
)
async def test_the_hall_running_count_is_enforced_by_the_hub(
    rules: Rules | None, audience: Audience, shown: bool
) -> None:
    view, raw = await view_of(voting(rules=rules), audience)
    v = view["figures"]["vote"]
    assert (v["voted"], v["not_voted"], v["needed"], v["counts"]) == (4, 21, 16, shown)
    tally = {o["option"]: o["count"] for o in v["questions"][0]["options"]}
    assert tally == ({APPROVE: 2, REJECT: 1, ABSTAIN: 1} if shown else {})
    assert (view["vote"]["counts"] is not None) is shown
    if not shown:
        assert b'"approve"' not in raw  # no running count anywhere in the frame


@pytest.mark.parametrize("audience", list(Audience))
async def test_no_audience_is_sent_an_open_secret_tally(audience: Audience) -> None:
    view, raw = await view_of(voting(VoteForm.SECRET), audience)
    assert view["figures"]["vote"]["counts"] is False
    assert view["figures"]["vote"]["voted"] == 4
    assert b'"approve"' not in raw


@pytest.mark.parametrize(
    ("audience", "shown"),
    [(Audience.PUBLIC, False), (Audience.DELEGATE, False), (Audience.CHAIR, True)],
)
async def test_a_cancelled_vote_counts_reach_the_chair_only(
    audience: Audience, shown: bool
) -> None:
    view, raw = await view_of(voting(finish="cancelled"), audience)
    v = view["figures"]["vote"]
    assert (v["status"], v["verdict"], v["counts"]) == ("cancelled", "cancelled", shown)
    assert (b'"approve"' in raw) is shown


@pytest.mark.parametrize("audience", list(Audience))
async def test_a_closed_vote_figures_reach_everyone(audience: Audience) -> None:
    p = voting(finish="closed")
    view, _ = await view_of(p, audience)
    v = view["figures"]["vote"]
    assert (v["verdict"], v["present"], v["voted"], v["not_voted"], v["absent"]) == (
        "failed",
        25,
        4,
        21,
        5,
    )
    approve = v["questions"][0]["options"][0]
    assert approve == {"option": APPROVE, "count": 2, "of_seats_bp": 667, "of_present_bp": 800}
    assert v["closed_at"] == last(p).closed_at


@pytest.mark.parametrize(
    ("audience", "has"),
    [(Audience.PUBLIC, False), (Audience.DELEGATE, False), (Audience.CHAIR, True)],
)
async def test_the_setup_figures_reach_the_chair_only(audience: Audience, has: bool) -> None:
    view, _ = await view_of(setup(present=25), audience)
    s = view["figures"]["setup"]
    assert (s is not None) is has
    if has:
        assert s["presets"]["resolution"]["needed"] == 16
        assert s["election"] == {
            "threshold": {"base": "total_seats", "num": 1, "den": 2, "comparison": "more_than"},
            "needed": 16,
            "short": None,
            "refuses": True,
        }


async def test_a_tick_sends_the_changed_figures() -> None:
    p = voting()
    room = Room("s1", lambda: p.state, view_hz=4)
    screen = conn(Audience.PUBLIC)
    room.add(screen)
    room.send_views()
    before = screen.view
    p.do(c.CloseVote(vote=last(p).id))
    room.publish(p.records[-1:], p.s)
    room.send_views()
    await room.stop()
    assert screen.view is not None and screen.view != before
    assert msgspec.json.decode(screen.view)["figures"]["vote"]["verdict"] == "failed"
