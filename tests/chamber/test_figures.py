"""The figures the consoles show (chamber/figures.py): computed by the core, per audience."""

from __future__ import annotations

import msgspec
import pytest

from chamber import commands as c
from chamber.figures import Figures, Need, VoteFigures, figures, latest_vote, share_bp
from chamber.ids import ABSTAIN, APPROVE, LOW, REJECT, STRIKE, Base, Comparison, VoteForm
from chamber.model import Question
from chamber.projection import Audience
from chamber.rules import (
    FRACTIONS,
    MORE_THAN_HALF_OF_CAST,
    PRESETS,
    PassRule,
    Rules,
    Threshold,
    VotePreset,
)
from tests.chamber.play import Play, m

PUBLIC, DELEGATE, CHAIR = Audience.PUBLIC, Audience.DELEGATE, Audience.CHAIR
DOC = "d" * 64


def motion(p: Play) -> str:
    p.do(c.RegisterDocument(hash=DOC, title="Dự thảo"))
    p.do(c.ProposeMotion(title="Nghị quyết", doc=DOC))
    return next(iter(p.s.motions))


def named(
    present: int = 25, rules: Rules | None = None, preset: str = "resolution", **kw: object
) -> tuple[Play, str]:
    """``present`` of 30 present; m04 and m06 approve, m05 rejects, m07 abstains."""
    p = Play(rules=rules)
    p.open_and_start(present)
    q = motion(p)
    p.do(c.OpenVote(motion=q, preset=preset, **kw))  # type: ignore[arg-type]
    vid = p.s.votes[next(iter(p.s.votes))].id
    for i, choice in ((4, APPROVE), (5, REJECT), (6, APPROVE), (7, ABSTAIN)):
        p.as_delegate(i, c.CastBallot(vote=vid, choice=choice))
    return p, q


def vote_of(p: Play, audience: Audience) -> VoteFigures:
    f = figures(p.s, audience)
    assert f.vote is not None
    return f.vote


def tally(v: VoteFigures, question: int = 0) -> dict[str, tuple[int, int, int]]:
    return {
        o.option: (o.count, o.of_seats_bp, o.of_present_bp) for o in v.questions[question].options
    }


@pytest.mark.parametrize(
    ("count", "whole", "bp"),
    [(32, 60, 5333), (1, 3, 3333), (2, 3, 6667), (1, 8, 1250), (1, 20_000, 1), (0, 7, 0)],
)
def test_a_share_is_in_basis_points_rounded_half_up(count: int, whole: int, bp: int) -> None:
    assert share_bp(count, whole) == bp


def test_a_share_of_nothing_is_nothing() -> None:
    assert share_bp(3, 0) == 0


def test_the_sitting_figures_state_the_quorum() -> None:
    p = Play()
    p.check_in(*range(1, 20))
    f = figures(p.s, PUBLIC)
    assert (f.total_seats, f.present, f.absent, f.quorum_needed, f.quorate) == (
        30,
        19,
        11,
        20,
        False,
    )
    assert (f.vote, f.setup, f.running_count) == (None, None, True)
    p.check_in(20)
    assert figures(p.s, PUBLIC).quorate


def test_vacant_seats_count_as_absent() -> None:
    p = Play(n=10, seats=12)
    p.check_in(*range(1, 11))
    f = figures(p.s, DELEGATE)
    assert (f.total_seats, f.present, f.absent, f.quorum_needed) == (12, 10, 2, 8)


@pytest.mark.parametrize("audience", list(Audience))
def test_an_open_named_vote_shows_the_running_count_to_all_by_default(
    audience: Audience,
) -> None:
    p, q = named()
    v = vote_of(p, audience)
    assert (v.status, v.verdict, v.closed_at, v.counts) == ("open", "open", None, True)
    assert (v.total_seats, v.present, v.voted, v.not_voted, v.absent) == (30, 25, 4, 21, 5)
    assert (v.voted_of_seats_bp, v.voted_of_present_bp) == (1333, 1600)
    assert (v.base_count, v.needed, v.short) == (30, 16, None)  # more than half of 30
    assert v.questions[0].question == q
    assert tally(v) == {
        APPROVE: (2, 667, 800),
        REJECT: (1, 333, 400),
        ABSTAIN: (1, 333, 400),
    }


@pytest.mark.parametrize(("audience", "shown"), [(PUBLIC, False), (DELEGATE, False), (CHAIR, True)])
def test_with_the_running_count_off_the_hall_sees_only_how_many_voted(
    audience: Audience, shown: bool
) -> None:
    p, _ = named(rules=Rules(hall_running_count=False))
    f = figures(p.s, audience)
    assert f.running_count is False
    assert f.vote is not None
    assert (f.vote.voted, f.vote.counts, bool(f.vote.questions[0].options)) == (4, shown, shown)


def test_a_share_of_votes_cast_counts_what_the_audience_may_count() -> None:
    p, _ = named(preset="majority_cast")
    v = vote_of(p, PUBLIC)
    assert (v.base_count, v.needed) == (3, 2)  # approve + reject: the abstention is not cast
    quiet, _ = named(preset="majority_cast", rules=Rules(hall_running_count=False))
    hidden = vote_of(quiet, PUBLIC)
    assert (hidden.base_count, hidden.needed) == (None, None)  # not a figure it may know
    assert (vote_of(quiet, CHAIR).base_count, vote_of(quiet, CHAIR).needed) == (3, 2)


def test_a_secret_vote_shows_no_count_to_anyone_while_open() -> None:
    p, _ = named(form=VoteForm.SECRET)
    for audience in Audience:
        v = vote_of(p, audience)
        assert (v.voted, v.counts, v.questions[0].options) == (4, False, ())


def test_who_voted_and_left_is_not_counted_as_present_and_not_voting() -> None:
    p, _ = named()
    p.as_delegate(4, c.Leave())
    v = vote_of(p, PUBLIC)
    assert (v.present, v.voted, v.not_voted, v.absent) == (24, 4, 21, 6)


def test_an_unreachable_open_vote_says_what_it_needs() -> None:
    p, _ = named(present=20, preset="dismissal")  # at least two thirds of 30: 20 of 20
    p.as_delegate(20, c.Leave())
    v = vote_of(p, CHAIR)
    assert (v.needed, v.short) == (20, 20)


def test_a_closed_vote_states_the_result_at_its_close() -> None:
    p, _ = named()
    p.tick(3)
    p.do(c.CloseVote(vote=latest(p)))
    p.check_in(26)  # after the close: the figures stay those of the close
    for audience in Audience:
        v = vote_of(p, audience)
        assert (v.status, v.verdict, v.closed_at, v.counts) == ("closed", "failed", p.now, True)
        assert (v.present, v.voted, v.not_voted, v.absent) == (25, 4, 21, 5)
        assert (v.base_count, v.needed, v.short) == (30, 16, None)
        assert v.questions[0].status == "failed"
        assert tally(v)[APPROVE] == (2, 667, 800)


def latest(p: Play) -> str:
    vote = latest_vote(p.s)
    assert vote is not None
    return vote.id


def test_a_passed_motion_says_so() -> None:
    p = Play(n=5)
    p.open_and_start(5)
    q = motion(p)
    p.do(c.OpenVote(motion=q))
    for i in range(1, 4):
        p.as_delegate(i, c.CastBallot(vote=latest(p), choice=APPROVE))
    p.do(c.CloseVote(vote=latest(p)))
    v = vote_of(p, PUBLIC)
    assert (v.verdict, v.needed, v.not_voted, tally(v)[APPROVE]) == (
        "passed",
        3,
        2,
        (3, 6000, 6000),
    )


@pytest.mark.parametrize(
    ("form", "audience", "shown"),
    [
        (VoteForm.OPEN, CHAIR, True),
        (VoteForm.OPEN, PUBLIC, False),
        (VoteForm.OPEN, DELEGATE, False),
        (VoteForm.SECRET, CHAIR, False),
    ],
)
def test_a_cancelled_vote_shows_its_counts_to_the_chair_only(
    form: VoteForm, audience: Audience, shown: bool
) -> None:
    p, _ = named(form=form)
    p.tick(1)
    p.do(c.CancelVote(vote=latest(p)))
    v = vote_of(p, audience)
    assert (v.status, v.verdict, v.closed_at, v.short) == ("cancelled", "cancelled", p.now, None)
    assert (v.voted, v.counts, bool(v.questions[0].options)) == (4, shown, shown)


def test_the_latest_vote_is_the_one_opened_last() -> None:
    p, _ = named()
    first = latest(p)
    p.do(c.CloseVote(vote=first))
    p.tick(5)
    p.do(c.Revote(vote=first))
    assert latest(p) != first
    assert vote_of(p, PUBLIC).vote == latest(p)
    assert vote_of(p, PUBLIC).status == "open"


def candidates(names: str) -> tuple[Question, ...]:
    return tuple(Question(id=x, label=x.upper()) for x in names)


def election(groups: list[tuple[int, str]], positions: int, rules: Rules | None = None) -> Play:
    """Five present of five; ``groups``: (how many members, whom they approve)."""
    p = Play(n=5, rules=rules)
    p.open_and_start(5)
    p.do(c.OpenElection(title="Bầu", positions=positions, candidates=candidates("abc")))
    i = 1
    for count, approved in groups:
        for _ in range(count):
            answers = {x: APPROVE if x in approved else STRIKE for x in "abc"}
            p.as_delegate(i, c.CastBallot(vote=latest(p), answers=answers))
            i += 1
    return p


@pytest.mark.parametrize(
    ("groups", "positions", "verdict"),
    [
        ([(5, "a")], 1, "elected"),
        ([(2, "ab"), (2, "ac"), (1, "bc")], 2, "tied"),
        ([(2, "a"), (3, "")], 1, "none"),
        ([(3, "a"), (2, "")], 2, "unfilled"),
    ],
)
def test_an_election_states_its_verdict(
    groups: list[tuple[int, str]], positions: int, verdict: str
) -> None:
    p = election(groups, positions)
    p.do(c.CloseVote(vote=latest(p)))
    v = vote_of(p, PUBLIC)
    assert (v.verdict, v.needed, len(v.questions)) == (verdict, 3, 3)


def test_an_open_election_of_a_share_of_ballots_counts_the_ballots() -> None:
    p = election([(2, "a")], 1, rules=Rules(election=MORE_THAN_HALF_OF_CAST))
    v = vote_of(p, PUBLIC)
    assert (v.base_count, v.needed, v.counts) == (2, 2, False)


def test_a_confidence_poll_is_polled_with_a_status_per_official() -> None:
    p = Play(n=5)
    p.open_and_start(5)
    p.do(c.OpenConfidencePoll(title="Tín nhiệm", officials=candidates("xy")))
    for i in range(1, 6):
        p.as_delegate(i, c.CastBallot(vote=latest(p), answers={"x": LOW, "y": "high"}))
    p.do(c.CloseVote(vote=latest(p)))
    v = vote_of(p, DELEGATE)
    assert v.verdict == "polled"
    assert [q.status for q in v.questions] == ["no_confidence_vote", ""]


def test_the_chair_alone_gets_the_setup_figures() -> None:
    p = Play()
    p.open_and_start(20)
    p.as_delegate(19, c.Leave())
    p.as_delegate(20, c.Leave())
    assert figures(p.s, PUBLIC).setup is None
    assert figures(p.s, DELEGATE).setup is None
    setup = figures(p.s, CHAIR).setup
    assert setup is not None
    resolution = setup.presets["resolution"]
    assert (resolution.needed, resolution.short, resolution.refuses) == (16, None, True)
    dismissal = setup.presets["dismissal"]
    assert (dismissal.needed, dismissal.short, dismissal.refuses) == (20, 20, True)
    cast = setup.presets["majority_cast"]
    assert (cast.needed, cast.short, cast.refuses) == (None, None, False)
    assert (setup.election.needed, setup.election.refuses) == (16, True)
    assert (setup.confidence_resign.needed, setup.confidence_resign.refuses) == (16, False)
    assert setup.confidence_no_confidence.needed == 20
    # Every offered fraction, on every base, either way: 3 × 3 × 2.
    assert len(setup.choices) == len(FRACTIONS) * 3 * 2
    present = next(
        n
        for n in setup.choices
        if n.threshold == Threshold(base=Base.PRESENT, num=2, den=3, comparison=Comparison.AT_LEAST)
    )
    assert (present.needed, present.short) == (12, None)


def test_a_preset_of_another_fraction_is_offered_too() -> None:
    three_fifths = Threshold(base=Base.TOTAL_SEATS, num=3, den=5, comparison=Comparison.AT_LEAST)
    odd = VotePreset(
        id="budget",
        form=VoteForm.OPEN,
        options=(APPROVE, REJECT, ABSTAIN),
        rule=PassRule(threshold=three_fifths),
    )
    p = Play(rules=Rules(presets={**PRESETS, "budget": odd}))
    setup = figures(p.s, CHAIR).setup
    assert setup is not None
    assert len(setup.choices) == (len(FRACTIONS) + 1) * 3 * 2
    assert Need(threshold=three_fifths, needed=18, short=18, refuses=False) in setup.choices


def test_new_fields_leave_older_records_unchanged() -> None:
    """``hall_running_count`` and ``closed_at`` are left out of the canonical encoding
    unless set, so an older record re-encodes to the bytes it was hashed as."""
    assert b"hall_running_count" not in msgspec.json.encode(Rules())
    assert b'"hall_running_count":false' in msgspec.json.encode(Rules(hall_running_count=False))
    p, _ = named()
    opened = [r for r in p.records if r.event.__struct_config__.tag == "vote.opened"]
    assert b"closed_at" not in msgspec.json.encode(opened[0])


def test_figures_travel_as_plain_data() -> None:
    p, _ = named()
    f = figures(p.s, CHAIR)
    assert msgspec.json.decode(msgspec.json.encode(f), type=Figures) == f
    assert m(4) in p.s.votes[latest(p)].voted


def test_a_voter_who_leaves_before_the_close_is_not_counted_as_present_and_not_voting() -> None:
    """Before: not voting at the close was present - ballots, so m04 voting and then leaving
    made one present member who had not voted disappear from the figure."""
    p, _q = named(present=25)  # m04..m07 voted
    vid = next(iter(p.s.votes))
    p.as_delegate(4, c.Leave())
    p.do(c.CloseVote(vote=vid))
    result = p.s.votes[vid].result
    assert result is not None and (result.present, result.ballots) == (24, 4)
    assert result.not_voting == 21  # 24 present, of whom 3 voted
    assert vote_of(p, PUBLIC).not_voted == 21
    # A record from before the count was kept falls back to present - ballots.
    older = msgspec.structs.replace(result, not_voting=msgspec.UNSET)
    assert older.not_voting_count() == 20
