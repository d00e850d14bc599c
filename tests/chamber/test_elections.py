"""Elections (bầu cử) and confidence polls (lấy phiếu tín nhiệm): secret ballots with one
line per candidate or official."""

from __future__ import annotations

import msgspec
import pytest

from chamber import ChamberError
from chamber import commands as c
from chamber import events as e
from chamber.ids import (
    APPROVE,
    CONFIDENT,
    HIGH,
    LOW,
    STRIKE,
    Base,
    Comparison,
    Unreachable,
    VoteForm,
    VoteId,
    VoteKind,
)
from chamber.model import Question, Result, Vote
from chamber.rules import MORE_THAN_HALF_OF_SEATS, TWO_THIRDS_OF_SEATS, Rules, Threshold
from tests.chamber.play import Play, m


def setup(n: int = 30, present: int = 30, rules: Rules | None = None) -> Play:
    p = Play(n=n, rules=rules)
    p.open_and_start(present)
    return p


def lines(names: str) -> tuple[Question, ...]:
    return tuple(Question(id=x, label=x.upper()) for x in names)


def last(p: Play) -> Vote:
    return list(p.s.votes.values())[-1]


def refused(p: Play, act, code: str, params: dict[str, object] | None = None) -> None:  # type: ignore[no-untyped-def]
    before, count = msgspec.msgpack.encode(p.s), len(p.records)
    with pytest.raises(ChamberError) as caught:
        act()
    assert caught.value.code == code
    if params is not None:
        assert caught.value.params == params
    assert (msgspec.msgpack.encode(p.s), len(p.records)) == (before, count)


def elect(p: Play, positions: int, names: str, **kw: int) -> None:
    p.do(c.OpenElection(title="Bầu Ủy viên", positions=positions, candidates=lines(names), **kw))


def ballots(p: Play, groups: list[tuple[int, str]], names: str) -> None:
    """``groups``: (how many members, whom they approve); the others are struck."""
    i = 1
    for count, approved in groups:
        for _ in range(count):
            answers = {x: APPROVE if x in approved else STRIKE for x in names}
            p.as_delegate(i, c.CastBallot(vote=last(p).id, answers=answers))
            i += 1


def close(p: Play) -> Result:
    p.do(c.CloseVote(vote=last(p).id))
    r = last(p).result
    assert r is not None
    return r


def test_an_election_opens_secret_with_approve_or_strike() -> None:
    p = setup()
    vid = VoteId(f"v{p.s.seq + 1}")
    elect(p, 2, "abc")
    v = last(p)
    assert (v.id, v.kind, v.form, v.options, v.positions, v.allow_change) == (
        vid,
        VoteKind.ELECTION,
        VoteForm.SECRET,
        (APPROVE, STRIKE),
        2,
        False,
    )
    assert (v.rule.threshold, v.rule.option, v.duration_s, v.deadline) == (
        MORE_THAN_HALF_OF_SEATS,
        APPROVE,
        300,
        p.now + 300_000,
    )
    assert v.counts == {x: {APPROVE: 0, STRIKE: 0} for x in "abc"}
    elect_again = setup()
    elect(elect_again, 1, "ab", duration_s=90)
    assert last(elect_again).duration_s == 90


# (positions, candidates, ballot groups) -> (elected, tied, statuses, passed); 30 seats, 16 needed
ELECTIONS = [
    (2, "abc", [(18, "ab"), (9, "ac")], ("ab", "", "elected elected not_elected", True)),
    (2, "abc", [(20, "bc"), (10, "ab")], ("bc", "", "not_elected elected elected", True)),
    # Highest first within the positions: c 24, b 20, a 16 all qualify; two seats.
    (
        2,
        "abc",
        [(14, "bc"), (10, "ac"), (6, "ab")],
        ("cb", "", "not_elected elected elected", True),
    ),
    # A tie at the boundary: b 20, a 17, c 17, two seats: b elected, a and c tied.
    (
        2,
        "abc",
        [(10, "bc"), (10, "ab"), (7, "ac"), (3, "")],
        ("b", "ac", "tied elected tied", False),
    ),
    (1, "ab", [(17, "a"), (13, "b")], ("a", "", "elected not_elected", True)),
    (1, "ab", [(15, "a"), (15, "b")], ("", "", "not_elected not_elected", False)),  # nobody
    (1, "ab", [(30, "")], ("", "", "not_elected not_elected", False)),
    (2, "ab", [(16, "ab"), (14, "a")], ("ab", "", "elected elected", True)),
]


@pytest.mark.parametrize(("positions", "names", "groups", "verdict"), ELECTIONS)
def test_election_results(
    positions: int, names: str, groups: list[tuple[int, str]], verdict: tuple[str, str, str, bool]
) -> None:
    p = setup()
    elect(p, positions, names)
    ballots(p, groups, names)
    r = close(p)
    elected, tied, statuses, passed = verdict
    assert (r.elected, r.tied, r.passed) == (tuple(elected), tuple(tied), passed)
    assert [o.status for o in r.outcomes] == statuses.split()
    assert [o.passed for o in r.outcomes] == [o.question in elected for o in r.outcomes]
    assert (r.kind, r.base_count, r.needed, r.threshold, r.roll_call) == (
        VoteKind.ELECTION,
        30,
        16,
        MORE_THAN_HALF_OF_SEATS,
        None,
    )
    assert r.ballots == sum(n for n, _ in groups)
    for o in r.outcomes:
        approvals = sum(n for n, approved in groups if o.question in approved)
        assert (o.approvals, o.counts) == (
            approvals,
            {APPROVE: approvals, STRIKE: r.ballots - approvals},
        )


def test_an_election_on_the_ballots_cast() -> None:
    rule = Threshold(base=Base.CAST, num=1, den=2, comparison=Comparison.MORE_THAN)
    p = setup(present=25, rules=Rules(election=rule))
    elect(p, 1, "ab")
    ballots(p, [(6, "a"), (4, "b")], "ab")
    r = close(p)
    assert (r.base_count, r.needed, r.elected) == (10, 6, ("a",))


@pytest.mark.parametrize(
    ("answers", "code", "params"),
    [
        ({"a": APPROVE}, "ballot.incomplete", {}),
        ({"a": APPROVE, "b": STRIKE, "z": STRIKE}, "ballot.incomplete", {}),
        (None, "ballot.incomplete", {}),
        ({"a": APPROVE, "b": "maybe"}, "ballot.bad_choice", {}),
        ({"a": HIGH, "b": STRIKE}, "ballot.bad_choice", {}),
        ({"a": APPROVE, "b": APPROVE}, "ballot.too_many_approvals", {"positions": 1}),
    ],
)
def test_an_election_ballot_is_complete_and_within_the_positions(
    answers: dict[str, str] | None, code: str, params: dict[str, object]
) -> None:
    p = setup()
    elect(p, 1, "ab")
    refused(
        p, lambda: p.as_delegate(4, c.CastBallot(vote=last(p).id, answers=answers)), code, params
    )


def test_a_complete_election_ballot_counts_once() -> None:
    p = setup()
    elect(p, 2, "abc")
    vid = last(p).id
    step = p.as_delegate(
        4, c.CastBallot(vote=vid, answers={"a": APPROVE, "b": STRIKE, "c": STRIKE})
    )
    assert [r.event for r in step.records] == [e.BallotCast(vote=vid, member=m(4))]
    assert step.secret is not None and step.secret.answers == {
        "a": APPROVE,
        "b": STRIKE,
        "c": STRIKE,
    }
    answers = {"a": STRIKE, "b": STRIKE, "c": STRIKE}  # striking everyone is a valid ballot
    refused(
        p, lambda: p.as_delegate(4, c.CastBallot(vote=vid, answers=answers)), "vote.already_voted"
    )
    p.as_delegate(5, c.CastBallot(vote=vid, answers=answers))
    assert last(p).counts == {
        "a": {APPROVE: 1, STRIKE: 1},
        "b": {APPROVE: 0, STRIKE: 2},
        "c": {APPROVE: 0, STRIKE: 2},
    }


@pytest.mark.parametrize(
    ("cmd", "code", "params"),
    [
        (c.OpenElection(title="x", positions=1, candidates=()), "vote.bad_ballot_lines", {}),
        (
            c.OpenElection(title="x", positions=1, candidates=lines("aa")),
            "vote.bad_ballot_lines",
            {},
        ),
        (
            c.OpenElection(title="x", positions=0, candidates=lines("ab")),
            "election.bad_positions",
            {"positions": 0},
        ),
        (
            c.OpenElection(title="x", positions=3, candidates=lines("ab")),
            "election.bad_positions",
            {"positions": 3},
        ),
        (c.OpenConfidencePoll(title="x", officials=()), "vote.bad_ballot_lines", {}),
        (c.OpenConfidencePoll(title="x", officials=lines("bb")), "vote.bad_ballot_lines", {}),
    ],
)
def test_opening_refusals(cmd: c.AnyCommand, code: str, params: dict[str, object]) -> None:
    p = setup()
    refused(p, lambda: p.do(cmd), code, params)


def test_one_vote_at_a_time() -> None:
    p = setup()
    elect(p, 1, "ab")
    for cmd in (
        c.OpenElection(title="x", positions=1, candidates=lines("cd")),
        c.OpenConfidencePoll(title="x", officials=lines("x")),
    ):
        refused(p, lambda cmd=cmd: p.do(cmd), "vote.already_open", {})


def test_an_election_out_of_reach_is_refused() -> None:
    p = setup(present=15, rules=Rules(quorum_to_open=False))
    refused(p, lambda: elect(p, 1, "ab"), "vote.unreachable", {"present": 15, "needed": 16})


# Confidence polls


def test_a_confidence_poll_opens_secret_and_warns_when_out_of_reach() -> None:
    p = setup(present=10, rules=Rules(quorum_to_open=False))
    step = p.do(
        c.OpenConfidencePoll(title="Lấy phiếu tín nhiệm", officials=lines("xy"), duration_s=120)
    )
    [opened] = [r.event for r in step.records]
    assert isinstance(opened, e.VoteOpened) and opened.warning == "vote.unreachable"
    v = opened.vote
    assert (v.kind, v.form, v.options, v.unreachable, v.duration_s) == (
        VoteKind.CONFIDENCE,
        VoteForm.SECRET,
        (HIGH, CONFIDENT, LOW),
        Unreachable.WARN,
        120,
    )
    assert (v.rule.threshold, v.rule.option) == (MORE_THAN_HALF_OF_SEATS, LOW)


# Lows among 30 ballots (30 seats): more than half (16) may resign; two thirds (20) a vote.
@pytest.mark.parametrize(
    ("low", "status"),
    [
        (0, ""),
        (15, ""),
        (16, "may_resign"),
        (19, "may_resign"),
        (20, "no_confidence_vote"),
        (30, "no_confidence_vote"),
    ],
)
def test_confidence_verdicts(low: int, status: str) -> None:
    p = setup()
    p.do(c.OpenConfidencePoll(title="Lấy phiếu tín nhiệm", officials=lines("xy")))
    for i in range(1, 31):
        rating = LOW if i <= low else HIGH if i % 2 else CONFIDENT
        p.as_delegate(i, c.CastBallot(vote=last(p).id, answers={"x": rating, "y": HIGH}))
    r = close(p)
    x, y = r.outcomes
    assert (x.status, x.passed, y.status, y.passed, r.passed) == (
        status,
        status == "",
        "",
        True,
        status == "",
    )
    high = sum(1 for i in range(low + 1, 31) if i % 2)
    assert x.counts == {HIGH: high, CONFIDENT: 30 - low - high, LOW: low}
    assert (x.approvals, y.approvals) == (high, 30)
    assert (r.threshold, r.base_count, r.needed, r.ballots) == (MORE_THAN_HALF_OF_SEATS, 30, 16, 30)


def test_confidence_thresholds_are_rules() -> None:
    cast_half = Threshold(base=Base.CAST, num=1, den=2, comparison=Comparison.AT_LEAST)
    rules = Rules(confidence_resign=cast_half, confidence_no_confidence=TWO_THIRDS_OF_SEATS)
    p = setup(present=30, rules=rules)
    p.do(c.OpenConfidencePoll(title="x", officials=lines("x")))
    for i in range(1, 11):  # 10 ballots, 5 low
        p.as_delegate(i, c.CastBallot(vote=last(p).id, answers={"x": LOW if i <= 5 else HIGH}))
    r = close(p)
    assert (r.base_count, r.needed, r.outcomes[0].status) == (10, 5, "may_resign")


def test_an_election_is_taken_again_with_the_same_candidates_and_positions() -> None:
    p = setup()
    elect(p, 2, "abc", duration_s=90)
    old = last(p)
    ballots(p, [(10, "ab")], "abc")
    step = p.do(c.Revote(vote=old.id))
    new = last(p)
    assert [r.event for r in step.records] == [
        e.VoteCancelled(vote=old.id, reason="revote"),
        e.VoteOpened(vote=new),
    ]
    assert (new.kind, new.questions, new.positions, new.duration_s, new.revote_of) == (
        VoteKind.ELECTION,
        lines("abc"),
        2,
        90,
        old.id,
    )
    assert (new.motion, new.text_hash, new.voted) == (None, None, frozenset())
    assert p.s.votes[old.id].counts == {x: {APPROVE: 0, STRIKE: 0} for x in "abc"}
