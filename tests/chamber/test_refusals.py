"""Table-driven refusals: every command a state refuses gets a typed error with a stable
code and changes nothing."""

from __future__ import annotations

from collections.abc import Callable

import msgspec
import pytest

from chamber import ChamberError, NotPermitted, replay
from chamber import commands as c
from chamber.ids import (
    APPROVE,
    ItemId,
    MemberId,
    Role,
    TurnKind,
)
from chamber.model import AgendaItem, Council, Guest, Member, Question
from tests.chamber.play import T0, Play, council, m

DOC = "d" * 64


def in_session() -> Play:
    p = Play()
    p.open_and_start(25)
    return p


def with_motion() -> Play:
    p = in_session()
    p.do(c.RegisterDocument(hash=DOC, title="Dự thảo", pages=3))
    p.do(c.ProposeMotion(title="Nghị quyết", doc=DOC))
    return p


def with_vote(preset: str = "resolution") -> Play:
    p = with_motion()
    p.do(c.OpenVote(motion=next(iter(p.s.motions)), preset=preset))
    return p


def vote_id(p: Play) -> c.VoteId:
    v = p.s.open_vote() or list(p.s.votes.values())[-1]
    return v.id


def turn_id(p: Play) -> c.TurnId:
    return next(iter(p.s.turns))


def speaking() -> Play:
    p = in_session()
    p.as_delegate(5, c.RequestFloor())
    p.do(c.GrantNext())
    return p


Setup = Callable[[], Play]
Act = Callable[[Play], object]

ROWS: list[tuple[str, Setup, Act, str]] = [
    # lifecycle
    (
        "schedule twice",
        in_session,
        lambda p: p.do(
            c.ScheduleSitting(sitting="s1", council=council(), title="x", scheduled_at=T0),
            None,
            Role.OPERATOR,
        ),
        "permission.denied",
    ),
    ("open without quorum", Play, lambda p: p.do(c.OpenSitting()), "quorum.not_met"),
    ("close with a vote open", with_vote, lambda p: p.do(c.CloseSitting()), "vote.still_open"),
    ("start twice", in_session, lambda p: p.do(c.StartSitting()), "permission.denied"),
    # agenda
    (
        "add at a bad position",
        in_session,
        lambda p: p.do(c.AddItem(title="X", position=9)),
        "agenda.bad_position",
    ),
    (
        "add without a title",
        in_session,
        lambda p: p.do(c.AddItem(title="  ")),
        "agenda.empty_title",
    ),
    (
        "reorder with a missing item",
        in_session,
        lambda p: p.do(c.ReorderAgenda(order=(ItemId("i-report"),))),
        "agenda.bad_order",
    ),
    (
        "reorder with a duplicate",
        in_session,
        lambda p: p.do(c.ReorderAgenda(order=(ItemId("i-report"), ItemId("i-report")))),
        "agenda.bad_order",
    ),
    (
        "move to an unknown item",
        in_session,
        lambda p: p.do(c.MoveToItem(item=ItemId("zz"))),
        "agenda.unknown_item",
    ),
    (
        "a guest twice",
        in_session,
        lambda p: [p.do(c.AddGuest(guest=Guest(id=MemberId("g1"), name="Khách"))) for _ in "ab"],
        "guest.exists",
    ),
    (
        "a guest with a member's id",
        in_session,
        lambda p: p.do(c.AddGuest(guest=Guest(id=m(4), name="Khách"))),
        "guest.exists",
    ),
    # attendance
    (
        "check in an unknown member",
        in_session,
        lambda p: p.do(c.CheckIn(member=MemberId("nobody")), m(3), Role.SECRETARY),
        "member.unknown",
    ),
    (
        "a delegate checks in another",
        in_session,
        lambda p: p.as_delegate(4, c.CheckIn(member=m(6))),
        "permission.denied",
    ),
    (
        "an actor not on the roster",
        in_session,
        lambda p: p.do(c.RequestFloor(), MemberId("ghost"), Role.DELEGATE),
        "permission.denied",
    ),
    (
        "a role not held",
        in_session,
        lambda p: p.do(c.GrantNext(), m(9), Role.CHAIR),
        "permission.denied",
    ),
    # documents and motions
    (
        "register twice",
        with_motion,
        lambda p: p.do(c.RegisterDocument(hash=DOC, title="x")),
        "doc.exists",
    ),
    (
        "register zero pages",
        in_session,
        lambda p: p.do(c.RegisterDocument(hash="e" * 64, title="x", pages=0)),
        "doc.bad_document",
    ),
    (
        "supersede an unknown doc",
        in_session,
        lambda p: p.do(c.RegisterDocument(hash="e" * 64, title="x", supersedes="f" * 64)),
        "doc.unknown",
    ),
    (
        "register for an unknown item",
        in_session,
        lambda p: p.do(c.RegisterDocument(hash="e" * 64, title="x", item=ItemId("zz"))),
        "agenda.unknown_item",
    ),
    (
        "present an unknown doc",
        in_session,
        lambda p: p.do(c.PresentDocument(doc="e" * 64)),
        "doc.unknown",
    ),
    (
        "present a page out of range",
        with_motion,
        lambda p: p.do(c.PresentDocument(doc=DOC, page=4)),
        "doc.bad_page",
    ),
    (
        "propose on an unknown doc",
        in_session,
        lambda p: p.do(c.ProposeMotion(title="x", doc="e" * 64)),
        "doc.unknown",
    ),
    (
        "amend an unknown motion",
        with_motion,
        lambda p: p.do(c.AmendMotion(motion="mo0", doc=DOC)),
        "motion.unknown",
    ),
    (
        "amend while voting",
        with_vote,
        lambda p: p.do(c.AmendMotion(motion=next(iter(p.s.motions)), doc=DOC)),
        "motion.vote_open",
    ),
    # the floor
    (
        "request while absent",
        in_session,
        lambda p: p.as_delegate(28, c.RequestFloor()),
        "member.not_present",
    ),
    (
        "request an answer",
        in_session,
        lambda p: p.as_delegate(5, c.RequestFloor(kind=TurnKind.ANSWER)),
        "floor.kind_not_requestable",
    ),
    (
        "question without a round",
        in_session,
        lambda p: p.as_delegate(5, c.RequestFloor(kind=TurnKind.QUESTION)),
        "floor.no_question_round",
    ),
    (
        "request twice",
        in_session,
        lambda p: [p.as_delegate(5, c.RequestFloor()) for _ in "ab"],
        "floor.already_requested",
    ),
    (
        "withdraw an unknown request",
        in_session,
        lambda p: p.as_delegate(5, c.WithdrawRequest(request="r0")),
        "floor.no_request",
    ),
    (
        "withdraw another's request",
        in_session,
        lambda p: (
            p.as_delegate(5, c.RequestFloor()),
            p.as_delegate(6, c.WithdrawRequest(request=p.s.queue[0].id)),
        ),
        "permission.denied",
    ),
    (
        "grant an unknown request",
        in_session,
        lambda p: p.do(c.GrantFloor(request="r0")),
        "floor.no_request",
    ),
    ("grant nobody", in_session, lambda p: p.do(c.GrantFloor()), "floor.no_speaker"),
    (
        "grant an unknown speaker",
        in_session,
        lambda p: p.do(c.GrantFloor(speaker=MemberId("x"))),
        "member.unknown",
    ),
    (
        "grant a question without a round",
        in_session,
        lambda p: p.do(c.GrantFloor(speaker=m(5), kind=TurnKind.QUESTION)),
        "floor.no_question_round",
    ),
    (
        "grant an answer directly",
        in_session,
        lambda p: p.do(c.GrantFloor(speaker=m(5), kind=TurnKind.ANSWER)),
        "floor.kind_not_requestable",
    ),
    (
        "grant a speaker twice",
        speaking,
        lambda p: p.do(c.GrantFloor(speaker=m(5))),
        "floor.already_speaking",
    ),
    ("next with an empty queue", in_session, lambda p: p.do(c.GrantNext()), "floor.queue_empty"),
    ("end an unknown turn", in_session, lambda p: p.do(c.EndTurn(turn="t0")), "turn.unknown"),
    (
        "end another's turn",
        speaking,
        lambda p: p.as_delegate(6, c.EndTurn(turn=turn_id(p))),
        "permission.denied",
    ),
    (
        "resume a speaking turn",
        speaking,
        lambda p: p.do(c.ResumeTurn(turn=turn_id(p))),
        "turn.bad_state",
    ),
    (
        "pause a paused turn",
        speaking,
        lambda p: [p.do(c.PauseTurn(turn=turn_id(p))) for _ in "ab"],
        "turn.bad_state",
    ),
    (
        "extend by nothing",
        speaking,
        lambda p: p.do(c.ExtendTurn(turn=turn_id(p), seconds=0)),
        "turn.bad_extension",
    ),
    (
        "extend by too much",
        speaking,
        lambda p: p.do(c.ExtendTurn(turn=turn_id(p), seconds=3601)),
        "turn.bad_extension",
    ),
    (
        "round for an unknown member",
        in_session,
        lambda p: p.do(c.OpenRound(respondent=MemberId("x"))),
        "member.unknown",
    ),
    (
        "two rounds at once",
        in_session,
        lambda p: [p.do(c.OpenRound(respondent=m(4))) for _ in "ab"],
        "round.already_open",
    ),
    (
        "answer an unknown round",
        in_session,
        lambda p: p.do(c.AnswerRound(round="q0")),
        "round.unknown",
    ),
    (
        "close an unknown round",
        in_session,
        lambda p: p.do(c.CloseRound(round="q0")),
        "round.unknown",
    ),
    (
        "no current item",
        Play,
        lambda p: (
            p.check_in(*range(1, 26)),
            p.do(c.OpenSitting()),
            p.s.__class__,
            p.do(c.OpenRound(respondent=m(4))),
        ),
        "permission.denied",
    ),
    # votes
    (
        "vote on an unknown motion",
        in_session,
        lambda p: p.do(c.OpenVote(motion="mo0")),
        "motion.unknown",
    ),
    (
        "an unknown preset",
        with_motion,
        lambda p: p.do(c.OpenVote(motion=next(iter(p.s.motions)), preset="nope")),
        "vote.unknown_preset",
    ),
    (
        "a rule option not offered",
        with_motion,
        lambda p: p.do(c.OpenVote(motion=next(iter(p.s.motions)), options=("reject", "abstain"))),
        "vote.bad_rule",
    ),
    (
        "two votes at once",
        with_vote,
        lambda p: p.do(c.OpenVote(motion=next(iter(p.s.motions)))),
        "vote.already_open",
    ),
    (
        "a negative duration",
        with_motion,
        lambda p: p.do(c.OpenVote(motion=next(iter(p.s.motions)), duration_s=-5)),
        "vote.bad_duration",
    ),
    (
        "cast on an unknown vote",
        with_vote,
        lambda p: p.as_delegate(4, c.CastBallot(vote="v0", choice=APPROVE)),
        "vote.unknown",
    ),
    (
        "cast a foreign choice",
        with_vote,
        lambda p: p.as_delegate(4, c.CastBallot(vote=vote_id(p), choice="maybe")),
        "ballot.bad_choice",
    ),
    (
        "cast twice",
        with_vote,
        lambda p: [p.as_delegate(4, c.CastBallot(vote=vote_id(p), choice=APPROVE)) for _ in "ab"],
        "vote.already_voted",
    ),
    (
        "cast while absent",
        with_vote,
        lambda p: p.as_delegate(29, c.CastBallot(vote=vote_id(p), choice=APPROVE)),
        "member.not_present",
    ),
    (
        "cast after close",
        with_vote,
        lambda p: (
            p.do(c.CloseVote(vote=vote_id(p))),
            p.as_delegate(4, c.CastBallot(vote=vote_id(p), choice=APPROVE)),
        ),
        "vote.closed",
    ),
    (
        "cast after the deadline",
        with_vote,
        lambda p: (p.tick(61), p.as_delegate(4, c.CastBallot(vote=vote_id(p), choice=APPROVE))),
        "vote.closed",
    ),
    (
        "close twice",
        with_vote,
        lambda p: [p.do(c.CloseVote(vote=vote_id(p))) for _ in "ab"],
        "vote.closed",
    ),
    (
        "cancel a closed vote",
        with_vote,
        lambda p: (p.do(c.CloseVote(vote=vote_id(p))), p.do(c.CancelVote(vote=vote_id(p)))),
        "vote.closed",
    ),
    (
        "election with no candidates",
        in_session,
        lambda p: p.do(c.OpenElection(title="x", positions=1, candidates=())),
        "vote.bad_ballot_lines",
    ),
    (
        "election with duplicate candidates",
        in_session,
        lambda p: p.do(
            c.OpenElection(
                title="x",
                positions=1,
                candidates=(Question(id="a", label="A"), Question(id="a", label="A")),
            )
        ),
        "vote.bad_ballot_lines",
    ),
    (
        "election for more positions than candidates",
        in_session,
        lambda p: p.do(
            c.OpenElection(title="x", positions=2, candidates=(Question(id="a", label="A"),))
        ),
        "election.bad_positions",
    ),
]


@pytest.mark.parametrize(("setup", "act", "code"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_refused_with_a_typed_error_and_nothing_changes(setup: Setup, act: Act, code: str) -> None:
    p = setup()
    records = len(p.records)
    with pytest.raises(ChamberError) as caught:
        act(p)  # earlier steps of an act may be accepted; its last one is refused
    assert caught.value.code == code
    # The refused command left the state exactly as it was, and appended nothing.
    assert p.state is p.before
    assert msgspec.msgpack.encode(p.state) == p.before_bytes
    assert replay(p.records, p.ballot_box()) == p.s
    assert len(p.records) >= records


def test_not_permitted_names_the_command_the_role_and_the_state() -> None:
    p = in_session()
    with pytest.raises(NotPermitted) as caught:
        p.as_delegate(7, c.GrantNext())
    err = caught.value
    assert (err.command, err.role, err.state) == ("floor.next", "delegate", "in_session")
    assert "floor.next" in str(err) and "delegate" in str(err) and "in_session" in str(err)


def test_schedule_refuses_a_malformed_council() -> None:
    from chamber import execute
    from chamber.ids import CouncilId

    ctx = c.Ctx(actor=None, role=Role.OPERATOR, now=T0)
    dup = Council(
        id=CouncilId("x"),
        name="x",
        total_seats=5,
        members=(Member(id=m(1), name="A"), Member(id=m(1), name="B")),
    )
    too_many = Council(
        id=CouncilId("x"),
        name="x",
        total_seats=1,
        members=(Member(id=m(1), name="A"), Member(id=m(2), name="B")),
    )
    items = (AgendaItem(id=ItemId("a"), title="A"), AgendaItem(id=ItemId("a"), title="B"))
    for bad, code in ((dup, "council.duplicate_member"), (too_many, "council.bad_seats")):
        with pytest.raises(ChamberError) as caught:
            execute(
                None, c.ScheduleSitting(sitting="s", council=bad, title="x", scheduled_at=T0), ctx
            )
        assert caught.value.code == code
    with pytest.raises(ChamberError) as caught:
        execute(
            None,
            c.ScheduleSitting(
                sitting="s", council=council(), title="x", scheduled_at=T0, agenda=items
            ),
            ctx,
        )
    assert caught.value.code == "agenda.duplicate_item"
    with pytest.raises(NotPermitted):
        execute(None, c.OpenSitting(), c.Ctx(actor=m(1), role=Role.CHAIR, now=T0))
