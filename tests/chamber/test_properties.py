"""Properties that hold whatever the sequence of commands: hypothesis plays random
sittings and checks the invariants after every step."""

from __future__ import annotations

from collections import Counter

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chamber import ChamberError, Sitting, replay, verify, verify_export
from chamber import commands as c
from chamber import events as e
from chamber.ids import ABSTAIN, APPROVE, REJECT, Role, TurnKind, VoteForm
from chamber.log import export
from tests.chamber.play import Play, m

N = 9  # a small council keeps the search dense: quorum is 6 of 9

member = st.integers(min_value=1, max_value=N)
choice = st.sampled_from([APPROVE, REJECT, ABSTAIN])
cast = st.tuples(st.just("cast"), member, choice)
# Between a vote's opening and its end: ballots (most of all), presence changes, the floor.
during = st.one_of(
    cast,
    cast,
    cast,
    cast,
    cast,
    cast,
    cast,
    cast,
    st.tuples(st.just("check_in"), member),
    st.tuples(st.just("remote"), member),
    st.tuples(st.just("leave"), member),
    st.tuples(st.just("request"), member, st.sampled_from(list(TurnKind))),
    st.tuples(st.just("next")),
    st.tuples(st.just("end")),
    st.tuples(st.just("expire")),
    st.tuples(st.just("tick"), st.integers(min_value=1, max_value=400)),
)
ending = st.sampled_from(
    [
        ("close",),
        ("close",),
        ("close",),
        ("cancel",),
        ("revote",),
        ("tick", 700),
        ("suspend_resume",),
    ]
)
vote_round = st.tuples(
    st.tuples(st.just("open_vote"), st.sampled_from(["resolution", "dismissal", "majority_cast"])),
    st.lists(during, max_size=25),
    ending,
)


def _command(p: Play, a: tuple) -> tuple[c.Command, int | None, Role] | None:  # type: ignore[type-arg]
    s = p.s
    vote = s.open_vote()
    turn = next(iter(s.turns), None)
    match a:
        case ("check_in", i):
            return c.CheckIn(), i, Role.DELEGATE
        case ("remote", i):
            return c.JoinRemote(member=m(i)), None, Role.SYSTEM
        case ("leave", i):
            return c.Leave(), i, Role.DELEGATE
        case ("request", i, kind):
            return c.RequestFloor(kind=kind), i, Role.DELEGATE
        case ("next",):
            return c.GrantNext(), 1, Role.CHAIR
        case ("end",):
            return (c.EndTurn(turn=turn), 1, Role.CHAIR) if turn else None
        case ("open_vote", preset):
            return c.OpenVote(motion=next(iter(s.motions)), preset=preset), 1, Role.CHAIR
        case ("cast", i, option):
            return (c.CastBallot(vote=vote.id, choice=option), i, Role.DELEGATE) if vote else None
        case ("close",):
            return (c.CloseVote(vote=vote.id), 1, Role.CHAIR) if vote else None
        case ("cancel",):
            return (c.CancelVote(vote=vote.id), 1, Role.CHAIR) if vote else None
        case ("revote",):
            last = next(reversed(s.votes.values()), None)
            return (c.Revote(vote=last.id), 1, Role.CHAIR) if last else None
        case ("expire",):
            return (c.ExpireTurn(turn=turn), None, Role.SYSTEM) if turn else None
        case ("suspend_resume",):
            return (
                (c.ResumeSitting() if s.phase.value == "suspended" else c.SuspendSitting()),
                1,
                Role.CHAIR,
            )
    return None


def _encoded(state: Sitting) -> bytes:
    return msgspec.msgpack.encode(state)


def check_invariants(p: Play) -> None:
    s = p.s
    seats = s.council.total_seats
    assert 0 <= s.present_count() <= seats
    for vote in s.votes.values():
        # Counts sum to ballots cast, for every line of the ballot, in either form.
        for per in vote.counts.values():
            assert sum(per.values()) == len(vote.voted) or vote.status.value == "cancelled"
        assert len(vote.voted) <= seats
        assert vote.voted <= set(s.roster)
        if vote.result is not None:
            assert vote.result.ballots == len(vote.voted)
            assert vote.result.present <= seats
    # Nobody votes twice: a second ballot is only ever a permitted change.
    first_ballots = Counter(
        (r.event.vote, r.event.member)
        for r in p.records
        if isinstance(r.event, e.BallotCast) and not r.event.changed
    )
    assert max(first_ballots.values(), default=0) <= 1
    # No event of a secret vote carries a choice.
    secret = {v.id for v in s.votes.values() if v.form is VoteForm.SECRET}
    for r in p.records:
        if isinstance(r.event, e.BallotCast) and r.event.vote in secret:
            assert r.event.answers is None
    # The log rebuilds the live state, and proves it was not altered.
    assert replay(p.records, p.ballot_box()) == s
    assert verify(p.records).ok


def setup_play() -> Play:
    p = Play(n=N)
    p.check_in(*range(1, 7))
    p.do(c.OpenSitting())
    p.do(c.StartSitting())
    p.do(c.RegisterDocument(hash="f" * 64, title="Dự thảo", pages=1))
    p.do(c.ProposeMotion(title="Nghị quyết", doc="f" * 64))
    return p


def play_actions(p: Play, actions: list[tuple]) -> None:  # type: ignore[type-arg]
    for a in actions:
        if a[0] == "tick":
            p.tick(a[1])
            continue
        built = _command(p, a)
        if built is None:
            continue
        cmd, who, role = built
        before = _encoded(p.s)
        try:
            p.do(cmd, m(who) if who else None, role)  # type: ignore[arg-type]
        except ChamberError:
            # A refused command changes nothing.
            assert _encoded(p.s) == before


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(vote_round, min_size=1, max_size=4))
def test_random_sittings_keep_every_invariant(rounds: list[tuple]) -> None:  # type: ignore[type-arg]
    p = setup_play()
    for opening, middle, ending_action in rounds:
        play_actions(p, [opening, *middle, ending_action])
        check_invariants(p)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_one_changed_byte_fails_verification(data: st.DataObject) -> None:
    p = setup_play()
    vote_cmd = c.OpenVote(motion=next(iter(p.s.motions)), preset="resolution")
    p.do(vote_cmd)
    vote = p.s.open_vote()
    assert vote is not None
    for i in range(1, 7):
        p.as_delegate(i, c.CastBallot(vote=vote.id, choice=APPROVE))
    document = bytearray(export(p.records))
    start = document.index(b'"records"')
    index = data.draw(st.integers(min_value=start + 12, max_value=len(document) - 3))
    original = document[index]
    replacement = data.draw(
        st.integers(min_value=0x20, max_value=0x7E).filter(lambda b: b != original)
    )
    document[index] = replacement
    result = verify_export(bytes(document))
    assert not result.ok
