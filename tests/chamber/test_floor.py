"""The floor: the queue, speaking turns (speaking ⇄ paused → ended) and questioning
rounds. Deadlines and speaking time are exact in ms."""

from __future__ import annotations

import msgspec
import pytest
from msgspec.structs import replace

from chamber import ChamberError
from chamber import commands as c
from chamber import events as e
from chamber.ids import (
    ItemId,
    MemberId,
    Occupied,
    RequestId,
    Role,
    RoundId,
    TurnId,
    TurnKind,
    TurnStatus,
    Withdrawal,
)
from chamber.model import Guest, Request, Turn
from chamber.rules import Rules
from tests.chamber.play import Play, m

S = 1000
MIN = 60 * S
REPORT, BUDGET = ItemId("i-report"), ItemId("i-budget")
GUEST = MemberId("g-gd")


@pytest.fixture
def p() -> Play:
    play = Play()
    play.open_and_start(25)
    return play


def ev(step: object) -> list[e.AnyEvent]:
    return [r.event for r in step.records]  # type: ignore[attr-defined]


def turn_of(p: Play, i: int | MemberId) -> TurnId:
    who = m(i) if isinstance(i, int) else i
    return next(t.id for t in p.s.turns.values() if t.speaker == who)


def refused(p: Play, act, code: str, params: dict[str, object] | None = None) -> ChamberError:  # type: ignore[no-untyped-def]
    before, count = msgspec.msgpack.encode(p.s), len(p.records)
    with pytest.raises(ChamberError) as caught:
        act()
    assert caught.value.code == code
    if params is not None:
        assert caught.value.params == params
    assert (msgspec.msgpack.encode(p.s), len(p.records)) == (before, count)
    return caught.value


def new_id(p: Play, prefix: str, index: int = 0) -> str:
    return f"{prefix}{p.s.seq + 1 + index}"


def turn(p: Play, who: MemberId, kind: TurnKind, limit_s: int, rnd: str | None = None) -> Turn:
    return Turn(
        id=TurnId(new_id(p, "t")),
        speaker=who,
        kind=kind,
        item=REPORT,
        status=TurnStatus.SPEAKING,
        started_at=p.now,
        since=p.now,
        elapsed_ms=0,
        limit_ms=limit_s * S,
        deadline=p.now + limit_s * S,
        remaining_ms=limit_s * S,
        round=RoundId(rnd) if rnd else None,
    )


# The queue


@pytest.mark.parametrize(
    "kind",
    [TurnKind.CONTRIBUTION, TurnKind.DEBATE_REPLY, TurnKind.POINT_OF_ORDER, TurnKind.EXPLANATION],
)
def test_request_the_floor_by_kind(p: Play, kind: TurnKind) -> None:
    p.tick(3)
    rid = RequestId(new_id(p, "r"))
    step = p.as_delegate(5, c.RequestFloor(kind=kind, note="Về ngân sách"))
    request = Request(id=rid, member=m(5), kind=kind, item=REPORT, at=p.now, note="Về ngân sách")
    assert ev(step) == [e.FloorRequested(request=request)]
    assert p.s.queue == (request,)
    # Another kind is another request; the same kind again is refused.
    other = TurnKind.POINT_OF_ORDER if kind is not TurnKind.POINT_OF_ORDER else TurnKind.EXPLANATION
    p.as_delegate(5, c.RequestFloor(kind=other))
    refused(
        p,
        lambda: p.as_delegate(5, c.RequestFloor(kind=kind)),
        "floor.already_requested",
        {"kind": kind.value},
    )


@pytest.mark.parametrize(
    ("who", "kind", "code", "params"),
    [
        (28, TurnKind.CONTRIBUTION, "member.not_present", {"member": "m28"}),
        (5, TurnKind.ANSWER, "floor.kind_not_requestable", {"kind": "answer"}),
        (5, TurnKind.QUESTION, "floor.no_question_round", {}),
    ],
)
def test_request_refusals(p: Play, who: int, kind: TurnKind, code: str, params: dict) -> None:  # type: ignore[type-arg]
    refused(p, lambda: p.as_delegate(who, c.RequestFloor(kind=kind)), code, params)


def test_without_a_current_item_nothing_takes_the_floor(p: Play) -> None:
    p.state = replace(p.s, current_item=None)
    for act in (
        lambda: p.as_delegate(5, c.RequestFloor()),
        lambda: p.do(c.GrantFloor(speaker=m(5))),
        lambda: p.do(c.OpenRound(respondent=m(2))),
    ):
        refused(p, act, "agenda.no_item", {})


def test_withdraw_by_the_member_or_the_chair(p: Play) -> None:
    p.as_delegate(5, c.RequestFloor())
    p.as_delegate(6, c.RequestFloor())
    r5, r6 = (r.id for r in p.s.queue)
    assert ev(p.as_delegate(5, c.WithdrawRequest(request=r5))) == [
        e.RequestWithdrawn(request=r5, member=m(5), reason=Withdrawal.MEMBER)
    ]
    assert ev(p.do(c.WithdrawRequest(request=r6))) == [
        e.RequestWithdrawn(request=r6, member=m(6), reason=Withdrawal.CHAIR)
    ]
    assert p.s.queue == ()
    refused(
        p,
        lambda: p.as_delegate(5, c.WithdrawRequest(request=r5)),
        "floor.no_request",
        {"request": r5},
    )


def test_grant_in_any_order_then_next_takes_the_first_of_the_current_item(p: Play) -> None:
    for i in (5, 6, 7):
        p.as_delegate(i, c.RequestFloor())
    r5, r6, r7 = (r.id for r in p.s.queue)
    expected = turn(p, m(7), TurnKind.CONTRIBUTION, 420)
    assert ev(p.do(c.GrantFloor(request=r7))) == [e.TurnStarted(turn=expected, request=r7)]
    assert [r.id for r in p.s.queue] == [r5, r6]
    p.do(c.EndTurn(turn=expected.id))
    started = ev(p.do(c.GrantNext()))[0]
    assert isinstance(started, e.TurnStarted)
    assert (started.turn.speaker, started.request) == (m(5), r5)
    assert [r.member for r in p.s.item_queue()] == [m(6)]


@pytest.mark.parametrize(
    ("cmd", "code", "params"),
    [
        (c.GrantFloor(request=RequestId("r0")), "floor.no_request", {"request": "r0"}),
        (c.GrantFloor(), "floor.no_speaker", {}),
        (c.GrantFloor(speaker=MemberId("x")), "member.unknown", {"member": "x"}),
        (c.GrantFloor(speaker=m(5), kind=TurnKind.QUESTION), "floor.no_question_round", {}),
        (
            c.GrantFloor(speaker=m(5), kind=TurnKind.ANSWER),
            "floor.kind_not_requestable",
            {"kind": "answer"},
        ),
        (c.GrantNext(), "floor.queue_empty", {}),
        (c.EndTurn(turn=TurnId("t0")), "turn.unknown", {"turn": "t0"}),
        (c.PauseTurn(turn=TurnId("t0")), "turn.unknown", {"turn": "t0"}),
        (c.OpenRound(respondent=MemberId("x")), "member.unknown", {"member": "x"}),
        (c.AnswerRound(round=RoundId("q0")), "round.unknown", {"round": "q0"}),
        (c.CloseRound(round=RoundId("q0")), "round.unknown", {"round": "q0"}),
    ],
)
def test_floor_refusals(p: Play, cmd: c.AnyCommand, code: str, params: dict) -> None:  # type: ignore[type-arg]
    refused(p, lambda: p.do(cmd), code, params)


def test_open_microphones_are_limited_paused_turns_are_not_open() -> None:
    p = Play(rules=Rules(max_open_mics=3))
    p.open_and_start(25)
    second = Occupied.SECOND_MIC
    p.do(c.GrantFloor(speaker=m(5)))
    for i in (6, 7):
        p.do(c.GrantFloor(speaker=m(i), occupied=second))
    refused(
        p,
        lambda: p.do(c.GrantFloor(speaker=m(8), occupied=second)),
        "floor.mics_full",
        {"limit": 3},
    )
    refused(
        p,
        lambda: p.do(c.GrantFloor(speaker=m(5), occupied=second)),
        "floor.already_speaking",
        {"member": "m05"},
    )
    p.do(c.PauseTurn(turn=turn_of(p, 6)))  # a paused speaker's microphone is off
    p.do(c.GrantFloor(speaker=m(8), occupied=second))
    assert {t.speaker for t in p.s.turns.values()} == {m(5), m(6), m(7), m(8)}
    refused(
        p,
        lambda: p.do(c.ResumeTurn(turn=turn_of(p, 6), occupied=second)),
        "floor.mics_full",
        {"limit": 3},
    )


# Turns: limits and the clock


@pytest.mark.parametrize(
    ("kinds", "limits_min"),
    [
        ([TurnKind.CONTRIBUTION] * 3, [7, 3, 3]),  # first speech 7 min, then 3 min
        ([TurnKind.DEBATE_REPLY] * 2, [3, 3]),
        ([TurnKind.CONTRIBUTION, TurnKind.DEBATE_REPLY, TurnKind.CONTRIBUTION], [7, 3, 3]),
        ([TurnKind.DEBATE_REPLY, TurnKind.CONTRIBUTION], [3, 7]),  # counted per kind
        ([TurnKind.POINT_OF_ORDER, TurnKind.EXPLANATION], [1, 10]),
    ],
)
def test_limits_follow_the_members_earlier_turns(
    p: Play, kinds: list[TurnKind], limits_min: list[int]
) -> None:
    got = []
    for kind in kinds:
        p.do(c.GrantFloor(speaker=m(5), kind=kind))
        t = p.s.turns[turn_of(p, 5)]
        got.append(t.limit_ms)
        assert t.deadline == p.now + t.limit_ms
        p.do(c.EndTurn(turn=t.id))
    assert got == [x * MIN for x in limits_min]


def test_the_first_contribution_is_counted_per_item(p: Play) -> None:
    p.do(c.GrantFloor(speaker=m(5)))
    p.do(c.EndTurn(turn=turn_of(p, 5)))
    p.do(c.MoveToItem(item=BUDGET))
    p.do(c.GrantFloor(speaker=m(5)))
    assert p.s.turns[turn_of(p, 5)].limit_ms == 7 * MIN
    assert p.s.speeches == {"i-report|m05|contribution": 1, "i-budget|m05|contribution": 1}


@pytest.mark.parametrize(
    ("actor", "role"), [(m(1), Role.CHAIR), (m(2), Role.VICE_CHAIR), (m(5), Role.DELEGATE)]
)
def test_end_by_the_chair_or_the_speaker(p: Play, actor: MemberId, role: Role) -> None:
    p.do(c.GrantFloor(speaker=m(5)))
    t = turn_of(p, 5)
    p.tick(42.5)
    assert ev(p.do(c.EndTurn(turn=t), actor, role)) == [
        e.TurnEnded(turn=t, speaker=m(5), elapsed_ms=42_500, reason="ended")
    ]
    assert (p.s.turns, p.s.speaking_ms) == ({}, {m(5): 42_500})


def test_pause_resume_extend_arithmetic(p: Play) -> None:
    p.do(c.GrantFloor(speaker=m(5)))  # 7 min
    t, t0 = turn_of(p, 5), p.now
    p.tick(61.25)
    assert ev(p.do(c.PauseTurn(turn=t))) == [
        e.TurnPaused(turn=t, elapsed_ms=61_250, remaining_ms=7 * MIN - 61_250)
    ]
    refused(p, lambda: p.do(c.PauseTurn(turn=t)), "turn.bad_state")
    p.tick(600)  # the pause does not count
    assert ev(p.do(c.ExtendTurn(turn=t, seconds=30))) == [
        e.TurnExtended(turn=t, seconds=30, deadline=None, limit_ms=7 * MIN + 30 * S)
    ]
    assert p.s.turns[t].remaining_ms == 7 * MIN - 61_250 + 30 * S
    assert ev(p.do(c.ResumeTurn(turn=t))) == [
        e.TurnResumed(turn=t, deadline=p.now + 7 * MIN - 61_250 + 30 * S)
    ]
    refused(
        p,
        lambda: p.do(c.ResumeTurn(turn=t)),
        "turn.bad_state",
        {"turn": t, "state": "speaking", "command": "floor.resume"},
    )
    deadline = p.s.turns[t].deadline
    assert deadline is not None
    p.tick(10)
    assert ev(p.do(c.ExtendTurn(turn=t, seconds=3600))) == [
        e.TurnExtended(
            turn=t, seconds=3600, deadline=deadline + 3600 * S, limit_ms=67 * MIN + 30 * S
        )
    ]
    p.tick(20)
    p.do(c.EndTurn(turn=t))
    assert p.s.speaking_ms[m(5)] == 91_250  # 61.25 s + 10 s + 20 s
    assert p.now - t0 == 691_250


@pytest.mark.parametrize("seconds", [0, -5, 3601])
def test_an_extension_is_bounded(p: Play, seconds: int) -> None:
    p.do(c.GrantFloor(speaker=m(5)))
    t = turn_of(p, 5)
    refused(
        p,
        lambda: p.do(c.ExtendTurn(turn=t, seconds=seconds)),
        "turn.bad_extension",
        {"seconds": seconds},
    )


def test_expiry_against_the_current_state(p: Play) -> None:
    p.do(c.GrantFloor(speaker=m(5), kind=TurnKind.POINT_OF_ORDER))  # 60 s
    t = turn_of(p, 5)
    p.tick(59.999)
    assert p.system(c.ExpireTurn(turn=t)).records == ()  # before the deadline
    p.do(c.ExtendTurn(turn=t, seconds=30))
    p.tick(0.001)
    assert p.system(c.ExpireTurn(turn=t)).records == ()  # the old deadline: extended
    p.tick(29.999)
    assert p.system(c.ExpireTurn(turn=t)).records == ()
    p.tick(0.001)
    assert ev(p.system(c.ExpireTurn(turn=t))) == [
        e.TurnEnded(turn=t, speaker=m(5), elapsed_ms=90_000, reason="expired")
    ]
    assert p.system(c.ExpireTurn(turn=t)).records == ()  # after the end: nothing
    p.do(c.GrantFloor(speaker=m(6)))
    t6 = turn_of(p, 6)
    p.do(c.PauseTurn(turn=t6))
    p.tick(3600)
    assert p.system(c.ExpireTurn(turn=t6)).records == ()  # paused: no deadline
    assert p.s.speaking_ms == {m(5): 90_000}


def test_speaking_time_accumulates_per_member_across_turns(p: Play) -> None:
    spans = [(5, 12.5), (6, 100), (5, 30.25), (7, 1), (5, 0.001)]
    for i, seconds in spans:
        p.do(c.GrantFloor(speaker=m(i)))
        p.tick(seconds)
        p.do(c.EndTurn(turn=turn_of(p, i)))
    assert p.s.speaking_ms == {m(5): 42_751, m(6): 100_000, m(7): 1_000}


# Questioning rounds (chất vấn)


def test_a_questioning_round(p: Play) -> None:
    p.do(c.AddGuest(guest=Guest(id=GUEST, name="Giám đốc Sở", affiliation="Sở")))
    rid = RoundId(new_id(p, "q"))
    step = p.do(c.OpenRound(respondent=GUEST))
    assert [type(x) for x in ev(step)] == [e.RoundOpened]
    assert p.s.rounds[rid].respondent == GUEST
    refused(p, lambda: p.do(c.OpenRound(respondent=m(2))), "round.already_open", {})
    for i in (5, 6, 7):
        p.as_delegate(i, c.RequestFloor(kind=TurnKind.QUESTION))
    assert [(r.member, r.round) for r in p.s.queue] == [(m(5), rid), (m(6), rid), (m(7), rid)]
    asked = []
    for i in (5, 6):
        p.do(c.GrantNext())
        asked.append(turn_of(p, i))
        assert p.s.turns[asked[-1]].limit_ms == 2 * MIN
        p.tick(90)
        p.do(c.EndTurn(turn=asked[-1]))
    assert p.s.rounds[rid].questions == tuple(asked)
    expected = turn(p, GUEST, TurnKind.ANSWER, 300, rid)
    r7 = p.s.queue[0].id
    assert ev(p.do(c.AnswerRound(round=rid))) == [
        e.TurnStarted(turn=expected),
        e.RequestWithdrawn(request=r7, member=m(7), reason=Withdrawal.ROUND_CLOSED),
    ]
    # The answer has begun: no more questions; the one still waiting is dropped, and told.
    assert p.s.rounds[rid].answered and p.s.queue == ()
    refused(p, lambda: p.do(c.AnswerRound(round=rid)), "round.unknown", {"round": rid})
    refused(
        p,
        lambda: p.as_delegate(8, c.RequestFloor(kind=TurnKind.QUESTION)),
        "floor.no_question_round",
    )
    p.tick(200)
    assert ev(p.do(c.EndTurn(turn=expected.id))) == [
        e.TurnEnded(turn=expected.id, speaker=GUEST, elapsed_ms=200_000, reason="ended"),
        e.RoundClosed(round=rid),
    ]
    assert p.s.speaking_ms == {m(5): 90_000, m(6): 90_000, GUEST: 200_000}


def test_closing_a_round_drops_the_pending_questions(p: Play) -> None:
    p.do(c.OpenRound(respondent=m(2)))
    rid = next(iter(p.s.rounds))
    p.as_delegate(5, c.RequestFloor(kind=TurnKind.QUESTION))
    p.as_delegate(6, c.RequestFloor())  # not a question: stays
    p.do(c.GrantFloor(speaker=m(7), kind=TurnKind.QUESTION))  # directly, into the round
    assert p.s.rounds[rid].questions == (turn_of(p, 7),)
    r5 = p.s.queue[0].id
    assert ev(p.do(c.CloseRound(round=rid))) == [
        e.RequestWithdrawn(request=r5, member=m(5), reason=Withdrawal.ROUND_CLOSED),
        e.RoundClosed(round=rid),
    ]
    assert [r.member for r in p.s.queue] == [m(6)]
    assert p.s.rounds[rid].answered
    p.do(c.OpenRound(respondent=m(3)))  # a new round may open
    assert len(p.s.rounds) == 2


def test_a_guest_is_given_the_floor_directly(p: Play) -> None:
    p.do(c.AddGuest(guest=Guest(id=GUEST, name="Giám đốc Sở")))
    expected = turn(p, GUEST, TurnKind.EXPLANATION, 600)
    assert ev(p.do(c.GrantFloor(speaker=GUEST, kind=TurnKind.EXPLANATION))) == [
        e.TurnStarted(turn=expected)
    ]
    p.tick(5)
    p.do(c.EndTurn(turn=expected.id))
    assert p.s.speaking_ms == {GUEST: 5000}
    assert p.s.present_count() == 25


def test_turns_survive_a_suspension_and_end_while_suspended(p: Play) -> None:
    p.do(c.GrantFloor(speaker=m(5)))
    t = turn_of(p, 5)
    p.tick(10)
    p.do(c.SuspendSitting())
    p.tick(100)
    assert p.system(c.ExpireTurn(turn=t)).records == ()
    assert ev(p.as_delegate(5, c.EndTurn(turn=t))) == [
        e.TurnEnded(turn=t, speaker=m(5), elapsed_ms=10_000, reason="ended")
    ]
