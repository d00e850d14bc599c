"""What each audience sees: the public gallery, a delegate, the chair. Nobody sees an
open secret tally; only the chair sees an open named tally; a delegate sees their own
ballot only."""

from __future__ import annotations

import msgspec
import pytest

from chamber import commands as c
from chamber import events as e
from chamber.ids import ABSTAIN, APPROVE, REJECT, MemberId, VoteForm, VoteId
from chamber.log import apply
from chamber.model import Sitting, Vote
from chamber.projection import (
    Audience,
    VoteView,
    counts_shown,
    project_event,
    project_state,
    vote_view,
)
from chamber.rules import Rules
from tests.chamber.play import Play, m

PUBLIC, DELEGATE, CHAIR = Audience.PUBLIC, Audience.DELEGATE, Audience.CHAIR
DOC = "d" * 64


def voting(
    form: VoteForm, finish: str = "", rules: Rules | None = None
) -> tuple[Play, VoteId, str]:
    """25 present; m04 approves, m05 rejects; then the vote is closed or cancelled."""
    p = Play(rules=rules)
    p.open_and_start(25)
    p.do(c.RegisterDocument(hash=DOC, title="Dự thảo"))
    p.do(c.ProposeMotion(title="Nghị quyết", doc=DOC))
    q = next(iter(p.s.motions))
    p.do(c.OpenVote(motion=q, form=form))
    vid = next(iter(p.s.votes))
    p.as_delegate(4, c.CastBallot(vote=vid, choice=APPROVE))
    p.as_delegate(5, c.CastBallot(vote=vid, choice=REJECT))
    if finish == "closed":
        p.do(c.CloseVote(vote=vid))
    if finish == "cancelled":
        p.do(c.CancelVote(vote=vid))
    return p, vid, q


FULL, ZERO, HIDDEN = "full", "zero", "hidden"
OPEN, SECRET = VoteForm.OPEN, VoteForm.SECRET

# (form, finish, audience, member) -> (counts, voted, own ballots)
VIEWS = [
    (OPEN, "", PUBLIC, None, HIDDEN, set(), set()),
    (OPEN, "", DELEGATE, 4, HIDDEN, {4}, {4}),
    (OPEN, "", DELEGATE, 9, HIDDEN, set(), set()),  # has not voted
    (OPEN, "", CHAIR, None, FULL, {4, 5}, {4, 5}),
    (SECRET, "", PUBLIC, None, HIDDEN, set(), set()),
    (SECRET, "", DELEGATE, 4, HIDDEN, {4}, set()),  # knows they voted, no choice anywhere
    (SECRET, "", CHAIR, None, HIDDEN, {4, 5}, set()),  # never an open secret tally
    (OPEN, "closed", PUBLIC, None, FULL, set(), set()),
    (OPEN, "closed", DELEGATE, 5, FULL, {5}, {5}),
    (OPEN, "closed", CHAIR, None, FULL, {4, 5}, {4, 5}),
    (SECRET, "closed", PUBLIC, None, FULL, set(), set()),
    (SECRET, "closed", CHAIR, None, FULL, {4, 5}, set()),
    # A void named vote: the chair keeps its counts; the hall is not told how it stood
    # (its ballot events are held back from it until the sitting closes: project_log).
    (OPEN, "cancelled", PUBLIC, None, HIDDEN, set(), set()),
    (OPEN, "cancelled", DELEGATE, 4, HIDDEN, {4}, {4}),
    (OPEN, "cancelled", CHAIR, None, FULL, {4, 5}, {4, 5}),
    (SECRET, "cancelled", PUBLIC, None, HIDDEN, set(), set()),  # the void box, discarded
    (SECRET, "cancelled", CHAIR, None, HIDDEN, {4, 5}, set()),
]


@pytest.mark.parametrize(("form", "finish", "audience", "who", "counts", "voted", "own"), VIEWS)
def test_what_each_audience_sees_of_a_vote(
    form: VoteForm,
    finish: str,
    audience: Audience,
    who: int | None,
    counts: str,
    voted: set[int],
    own: set[int],
) -> None:
    p, vid, q = voting(form, finish)
    before = msgspec.msgpack.encode(p.s)
    member = None if who is None else m(who)
    view = project_state(p.s, audience, member).votes[vid]
    expected_counts = {
        FULL: {q: {APPROVE: 1, REJECT: 1, ABSTAIN: 0}},
        ZERO: {q: {APPROVE: 0, REJECT: 0, ABSTAIN: 0}},
        HIDDEN: {},
    }[counts]
    choice = {4: APPROVE, 5: REJECT}
    assert view.counts == expected_counts
    assert view.voted == {m(i) for i in voted}
    assert view.ballots == {m(i): {q: choice[i]} for i in own}
    assert msgspec.msgpack.encode(p.s) == before  # projecting changes nothing


def test_a_secret_ballot_goes_to_the_box_not_the_log() -> None:
    p, vid, q = voting(SECRET)
    step = p.as_delegate(6, c.CastBallot(vote=vid, choice=REJECT))
    assert [r.event for r in step.records] == [e.BallotCast(vote=vid, member=m(6))]
    assert step.secret is not None
    assert (step.secret.vote, step.secret.answers) == (vid, {q: REJECT})
    assert (p.s.votes[vid].ballots, p.s.votes[vid].counts[q][REJECT]) == ({}, 2)
    assert b"reject" not in msgspec.json.encode(step.records[0])  # no choice in the log


def test_the_named_roll_call_is_published_with_the_result() -> None:
    p, vid, q = voting(OPEN, "closed")
    result = project_state(p.s, PUBLIC).votes[vid].result
    assert result is not None
    assert result.roll_call == {m(4): {q: APPROVE}, m(5): {q: REJECT}}
    p2, vid2, _ = voting(SECRET, "closed")
    secret = project_state(p2.s, PUBLIC).votes[vid2].result
    assert secret is not None and secret.roll_call is None


def ballot_event(p: Play, i: int) -> e.BallotCast:
    found = [r.event for r in p.records if isinstance(r.event, e.BallotCast)]
    return next(x for x in found if x.member == m(i))


@pytest.mark.parametrize(
    ("form", "audience", "who", "sees"),
    [
        (OPEN, PUBLIC, None, False),
        (OPEN, DELEGATE, 9, False),  # another member's ballot
        (OPEN, DELEGATE, 4, True),  # their own
        (OPEN, CHAIR, None, True),
        (SECRET, PUBLIC, None, False),
        (SECRET, DELEGATE, 5, False),
        (SECRET, DELEGATE, 4, True),
        (SECRET, CHAIR, None, True),
    ],
)
def test_a_ballot_event_reaches_the_chair_and_its_voter_only(
    form: VoteForm, audience: Audience, who: int | None, sees: bool
) -> None:
    p, _, q = voting(form)
    event = ballot_event(p, 4)
    projected = project_event(event, p.s, audience, None if who is None else m(who))
    assert projected == (event if sees else None)
    expected_answers = {q: APPROVE} if form is OPEN else None
    assert event.answers == expected_answers  # a secret ballot event never carries a choice


@pytest.mark.parametrize("form", [OPEN, SECRET])
@pytest.mark.parametrize(("audience", "who"), [(PUBLIC, None), (DELEGATE, 4), (CHAIR, None)])
def test_the_vote_opened_event_carries_no_counts_but_the_chairs_named_ones(
    form: VoteForm, audience: Audience, who: int | None
) -> None:
    p, vid, q = voting(form)
    opened = next(r.event for r in p.records if isinstance(r.event, e.VoteOpened))
    projected = project_event(opened, p.s, audience, None if who is None else m(who))
    assert isinstance(projected, e.VoteOpened) and projected.warning == opened.warning
    zero = {q: {APPROVE: 0, REJECT: 0, ABSTAIN: 0}}
    shows = audience is CHAIR and form is OPEN
    assert projected.vote.counts == (zero if shows else {})
    assert projected.vote.id == vid


def test_other_events_pass_unchanged() -> None:
    p, _, _ = voting(OPEN, "closed")
    for record in p.records:
        if not isinstance(record.event, e.BallotCast | e.VoteOpened):
            for audience in Audience:
                assert project_event(record.event, p.s, audience, m(9)) is record.event


RUNNING = {APPROVE: 1, REJECT: 1, ABSTAIN: 0}
QUIET = Rules(hall_running_count=False)


@pytest.mark.parametrize(
    ("form", "rules", "audience", "expected"),
    [
        (OPEN, None, PUBLIC, (2, 25, None, RUNNING)),  # the hall's running count: on
        (OPEN, None, DELEGATE, (2, 25, None, RUNNING)),
        (OPEN, None, CHAIR, (2, 25, (4, 5), RUNNING)),
        (OPEN, QUIET, PUBLIC, (2, 25, None, None)),  # off: only how many have voted
        (OPEN, QUIET, DELEGATE, (2, 25, None, None)),
        (OPEN, QUIET, CHAIR, (2, 25, (4, 5), RUNNING)),  # the chair still sees it
        (SECRET, None, PUBLIC, (2, 25, None, None)),
        (SECRET, None, DELEGATE, (2, 25, None, None)),
        (SECRET, None, CHAIR, (2, 25, (4, 5), None)),  # who voted, never how many for what
    ],
)
def test_vote_view_per_audience(
    form: VoteForm,
    rules: Rules | None,
    audience: Audience,
    expected: tuple[int, int, object, object],
) -> None:
    p, vid, q = voting(form, rules=rules)
    ballots, present, voted, counts = expected
    assert vote_view(p.s, audience) == VoteView(
        vote=vid,
        ballots=ballots,
        present=present,
        voted=None if voted is None else tuple(m(i) for i in voted),  # type: ignore[attr-defined]
        counts=None if counts is None else {q: counts},
    )


@pytest.mark.parametrize("finish", ["closed", "cancelled"])
def test_no_vote_view_without_an_open_vote(finish: str) -> None:
    p, _, _ = voting(OPEN, finish)
    assert [vote_view(p.s, a) for a in Audience] == [None, None, None]


def test_a_snapshot_projects_every_vote() -> None:
    p, first, q = voting(SECRET, "closed")
    p.do(c.OpenVote(motion=q))
    second = p.s.open_vote()
    assert second is not None
    p.as_delegate(7, c.CastBallot(vote=second.id, choice=ABSTAIN))
    view: Sitting = project_state(p.s, DELEGATE, m(7))
    votes: dict[VoteId, Vote] = view.votes
    assert set(votes) == {first, second.id}
    assert votes[first].voted == frozenset() and votes[first].counts[q][APPROVE] == 1
    assert votes[second.id].voted == {m(7)} and votes[second.id].counts == {}
    assert votes[second.id].ballots == {MemberId("m07"): {q: ABSTAIN}}
    assert view.attendance == p.s.attendance and view.seq == p.s.seq


@pytest.mark.parametrize(
    ("form", "finish", "audience", "rules", "shown"),
    [
        (OPEN, "closed", PUBLIC, QUIET, True),
        (SECRET, "closed", DELEGATE, None, True),
        (OPEN, "", PUBLIC, None, True),
        (OPEN, "", PUBLIC, QUIET, False),
        (OPEN, "", CHAIR, QUIET, True),
        (SECRET, "", CHAIR, None, False),
        (OPEN, "cancelled", CHAIR, None, True),
        (OPEN, "cancelled", DELEGATE, None, False),
        (SECRET, "cancelled", CHAIR, None, False),
    ],
)
def test_who_is_shown_the_counts(
    form: VoteForm, finish: str, audience: Audience, rules: Rules | None, shown: bool
) -> None:
    p, vid, _ = voting(form, finish, rules)
    assert counts_shown(p.s.votes[vid], p.s.rules, audience) is shown


def test_a_ballot_seen_where_the_counts_are_hidden_leaves_them_hidden() -> None:
    """A delegate is sent their own ballot but not the running count: applying the one
    must not make up the other."""
    p, vid, _ = voting(OPEN)
    mine = project_state(p.s, DELEGATE, m(6))
    step = p.as_delegate(6, c.CastBallot(vote=vid, choice=ABSTAIN))
    after = apply(mine, step.records[0])
    assert after.votes[vid].counts == {}
    assert m(6) in after.votes[vid].voted
