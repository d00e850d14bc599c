"""The sitting's lifecycle (scheduled → opened → in_session ⇄ suspended → closed), the
quorum at the opening, and the agenda."""

from __future__ import annotations

import msgspec
import pytest

from chamber import ChamberError, NotPermitted, execute
from chamber import commands as c
from chamber import events as e
from chamber.ids import CouncilId, ItemId, MemberId, Occupied, Phase, Role, TurnStatus
from chamber.model import AgendaItem, Council, Guest, Member
from chamber.rules import DEFAULT_RULES, Rules
from chamber.sitting import schedule
from tests.chamber.play import T0, Play, council, m

SCH, OPN, SES, SUS, CLO = (
    Phase.SCHEDULED,
    Phase.OPENED,
    Phase.IN_SESSION,
    Phase.SUSPENDED,
    Phase.CLOSED,
)


def at(phase: Phase, present: int = 25) -> Play:
    p = Play()
    p.check_in(*range(1, present + 1))
    if phase is SCH:
        return p
    p.do(c.OpenSitting())
    if phase is OPN:
        return p
    p.do(c.StartSitting())
    if phase is SUS:
        p.do(c.SuspendSitting())
    if phase is CLO:
        p.do(c.CloseSitting())
    return p


def events(step: object) -> list[e.AnyEvent]:
    return [r.event for r in step.records]  # type: ignore[attr-defined]


def refused(p: Play, cmd: c.AnyCommand, code: str, params: dict[str, object] | None = None):  # type: ignore[no-untyped-def]
    before, count = msgspec.msgpack.encode(p.s), len(p.records)
    with pytest.raises(ChamberError) as caught:
        p.do(cmd)
    assert caught.value.code == code
    if params is not None:
        assert caught.value.params == params
    assert (msgspec.msgpack.encode(p.s), len(p.records)) == (before, count)
    return caught.value


@pytest.mark.parametrize(
    ("phase", "cmd", "expected", "after"),
    [
        (SCH, c.OpenSitting(), [e.PhaseChanged(phase=OPN)], OPN),
        (
            OPN,
            c.StartSitting(),
            [e.PhaseChanged(phase=SES), e.CurrentItemChanged(item=ItemId("i-report"))],
            SES,
        ),
        (
            SES,
            c.SuspendSitting(reason="Giải lao"),
            [e.PhaseChanged(phase=SUS, reason="Giải lao")],
            SUS,
        ),
        (SUS, c.ResumeSitting(), [e.PhaseChanged(phase=SES)], SES),
        (OPN, c.CloseSitting(), [e.PhaseChanged(phase=CLO)], CLO),
        (SES, c.CloseSitting(), [e.PhaseChanged(phase=CLO)], CLO),
        (SUS, c.CloseSitting(), [e.PhaseChanged(phase=CLO)], CLO),
    ],
)
def test_legal_transitions(
    phase: Phase, cmd: c.AnyCommand, expected: list[e.AnyEvent], after: Phase
) -> None:
    p = at(phase)
    assert events(p.do(cmd)) == expected
    assert p.s.phase is after


def test_opening_and_closing_are_stamped() -> None:
    p = at(SCH)
    p.tick(5)
    p.do(c.OpenSitting())
    assert (p.s.opened_at, p.s.closed_at) == (T0 + 5000, None)
    p.tick(7)
    p.do(c.CloseSitting())
    assert (p.s.opened_at, p.s.closed_at) == (T0 + 5000, T0 + 12_000)


ILLEGAL = [
    (SCH, c.StartSitting()),
    (SCH, c.SuspendSitting()),
    (SCH, c.ResumeSitting()),
    (SCH, c.CloseSitting()),
    (OPN, c.OpenSitting()),
    (OPN, c.SuspendSitting()),
    (OPN, c.ResumeSitting()),
    (SES, c.OpenSitting()),
    (SES, c.StartSitting()),
    (SES, c.ResumeSitting()),
    (SUS, c.StartSitting()),
    (SUS, c.SuspendSitting()),
    (CLO, c.OpenSitting()),
    (CLO, c.StartSitting()),
    (CLO, c.ResumeSitting()),
    (CLO, c.CloseSitting()),
    (CLO, c.AddItem(title="Sau bế mạc")),
]


@pytest.mark.parametrize(("phase", "cmd"), ILLEGAL)
def test_illegal_transitions_name_the_state(phase: Phase, cmd: c.AnyCommand) -> None:
    p = at(phase)
    err = refused(p, cmd, "permission.denied")
    assert isinstance(err, NotPermitted)
    assert (err.command, err.role, err.state) == (
        type(cmd).__struct_config__.tag,
        "chair",
        phase.value,
    )


@pytest.mark.parametrize(
    ("present", "remote", "rules", "opens"),
    [
        (0, 0, None, False),
        (19, 0, None, False),
        (20, 0, None, True),  # at least two thirds of 30
        (15, 5, None, True),  # remote members count
        (0, 0, Rules(quorum_to_open=False), True),
        (30, 0, None, True),
    ],
)
def test_the_quorum_at_the_opening(
    present: int, remote: int, rules: Rules | None, opens: bool
) -> None:
    p = Play(rules=rules)
    p.check_in(*range(1, present + 1))
    for i in range(present + 1, present + remote + 1):
        p.as_delegate(i, c.JoinRemote())
    if opens:
        assert events(p.do(c.OpenSitting())) == [e.PhaseChanged(phase=OPN)]
    else:
        refused(p, c.OpenSitting(), "quorum.not_met", {"present": present + remote, "needed": 20})


def turn_of(p: Play, i: int) -> c.TurnId:
    return next(t.id for t in p.s.turns.values() if t.speaker == m(i))


def test_suspending_pauses_the_speaking_turns_only() -> None:
    p = at(SES)
    p.do(c.GrantFloor(speaker=m(5)))
    p.tick(20)
    p.do(c.GrantFloor(speaker=m(6), occupied=Occupied.SECOND_MIC))
    p.tick(10)
    p.do(c.PauseTurn(turn=turn_of(p, 6)))
    p.tick(30)
    step = p.do(c.SuspendSitting(reason="Sự cố"))
    assert events(step) == [
        e.TurnPaused(turn=turn_of(p, 5), elapsed_ms=60_000, remaining_ms=360_000),
        e.PhaseChanged(phase=SUS, reason="Sự cố"),
    ]
    assert {t.speaker: t.status for t in p.s.turns.values()} == {
        m(5): TurnStatus.PAUSED,
        m(6): TurnStatus.PAUSED,
    }
    # Resuming the sitting does not resume the turns: the chair does, by hand.
    assert events(p.do(c.ResumeSitting())) == [e.PhaseChanged(phase=SES)]
    assert all(t.status is TurnStatus.PAUSED for t in p.s.turns.values())


def test_close_is_refused_while_a_vote_is_open() -> None:
    p = at(SES)
    p.do(c.RegisterDocument(hash="d" * 64, title="Dự thảo"))
    p.do(c.ProposeMotion(title="Nghị quyết", doc="d" * 64))
    p.do(c.OpenVote(motion=next(iter(p.s.motions))))
    refused(p, c.CloseSitting(), "vote.still_open", {})
    p.do(c.SuspendSitting())
    refused(p, c.CloseSitting(), "vote.still_open", {})
    p.do(c.CancelVote(vote=next(iter(p.s.votes))))
    assert p.do(c.CloseSitting()).records[-1].event == e.PhaseChanged(phase=CLO)


def test_close_ends_every_turn_and_accumulates_speaking_time() -> None:
    p = at(SES)
    p.do(c.GrantFloor(speaker=m(5)))
    p.tick(40)
    p.do(c.GrantFloor(speaker=m(6), occupied=Occupied.SECOND_MIC))
    p.tick(25)
    p.do(c.PauseTurn(turn=turn_of(p, 6)))
    p.tick(100)
    p.as_delegate(7, c.RequestFloor())
    p.do(c.RegisterDocument(hash="d" * 64, title="Dự thảo", pages=2))
    p.do(c.PresentDocument(doc="d" * 64, page=2))
    t5, t6 = turn_of(p, 5), turn_of(p, 6)
    assert events(p.do(c.CloseSitting())) == [
        e.TurnEnded(turn=t5, speaker=m(5), elapsed_ms=165_000, reason="closed"),
        e.TurnEnded(turn=t6, speaker=m(6), elapsed_ms=25_000, reason="closed"),
        e.PhaseChanged(phase=CLO),
    ]
    assert (p.s.turns, p.s.queue, p.s.presentation) == ({}, (), None)
    assert p.s.speaking_ms == {m(5): 165_000, m(6): 25_000}


# The agenda


def titles(p: Play) -> list[str]:
    return [i.title for i in p.s.agenda]


REPORT, BUDGET = "Báo cáo kinh tế - xã hội", "Dự toán ngân sách"


@pytest.mark.parametrize(
    ("phase", "position", "expected"),
    [
        (SCH, None, [REPORT, BUDGET, "Mới"]),
        (OPN, 0, ["Mới", REPORT, BUDGET]),
        (SES, 1, [REPORT, "Mới", BUDGET]),
        (SUS, 2, [REPORT, BUDGET, "Mới"]),
    ],
)
def test_add_an_item(phase: Phase, position: int | None, expected: list[str]) -> None:
    p = at(phase)
    seq = p.s.seq
    step = p.do(c.AddItem(title="Mới", presenter="UBND", position=position), m(3), Role.SECRETARY)
    item = AgendaItem(id=ItemId(f"i{seq + 1}"), title="Mới", presenter="UBND")
    assert events(step) == [e.ItemAdded(item=item, position=expected.index("Mới"))]
    assert titles(p) == expected


@pytest.mark.parametrize(
    ("cmd", "code", "params"),
    [
        (c.AddItem(title="X", position=-1), "agenda.bad_position", {"position": -1}),
        (c.AddItem(title="X", position=3), "agenda.bad_position", {"position": 3}),
        (c.AddItem(title=" \t"), "agenda.empty_title", {}),
        (c.ReorderAgenda(order=(ItemId("i-report"),)), "agenda.bad_order", {}),
        (c.ReorderAgenda(order=(ItemId("i-report"), ItemId("i-report"))), "agenda.bad_order", {}),
        (c.ReorderAgenda(order=(ItemId("i-report"), ItemId("zz"))), "agenda.bad_order", {}),
        (
            c.ReorderAgenda(order=(ItemId("i-budget"), ItemId("i-report"), ItemId("i-report"))),
            "agenda.bad_order",
            {},
        ),
        (c.MoveToItem(item=ItemId("zz")), "agenda.unknown_item", {"item": "zz"}),
        (
            c.AddGuest(guest=Guest(id=m(4), name="Khách")),
            "guest.exists",
            {"guest": "m04"},
        ),
    ],
)
def test_agenda_refusals(cmd: c.AnyCommand, code: str, params: dict[str, object]) -> None:
    refused(at(SES), cmd, code, params)


def test_reorder_and_move() -> None:
    p = at(OPN)
    assert events(p.do(c.MoveToItem(item=ItemId("i-budget")))) == [
        e.CurrentItemChanged(item=ItemId("i-budget"))
    ]
    order = (ItemId("i-budget"), ItemId("i-report"))
    assert events(p.do(c.ReorderAgenda(order=order))) == [e.AgendaReordered(order=order)]
    assert titles(p) == [BUDGET, REPORT]
    # Starting keeps the item the chair moved to; moving to the current item is a no-op.
    assert events(p.do(c.StartSitting())) == [e.PhaseChanged(phase=SES)]
    assert p.s.current_item == "i-budget"
    assert p.do(c.MoveToItem(item=ItemId("i-budget"))).records == ()


def test_a_guest_is_added_once() -> None:
    p = at(SCH)
    guest = Guest(id=MemberId("g1"), name="Giám đốc Sở", affiliation="Sở Tài chính")
    assert events(p.do(c.AddGuest(guest=guest), None, Role.OPERATOR)) == [e.GuestAdded(guest=guest)]
    assert p.s.guests == {"g1": guest}
    refused(p, c.AddGuest(guest=guest), "guest.exists", {"guest": "g1"})


# Scheduling


def custom(members: tuple[Member, ...], seats: int) -> Council:
    return Council(id=CouncilId("x"), name="x", total_seats=seats, members=members)


A, B = Member(id=m(1), name="A"), Member(id=m(2), name="B")
TWO_ITEMS = (AgendaItem(id=ItemId("a"), title="A"), AgendaItem(id=ItemId("a"), title="B"))


@pytest.mark.parametrize(
    ("council_", "agenda", "code", "params"),
    [
        (custom((A, A), 5), (), "council.duplicate_member", {}),
        (custom((A, B), 1), (), "council.bad_seats", {"members": 2, "seats": 1}),
        (custom((), 0), (), "council.bad_seats", {"members": 0, "seats": 0}),
        (custom((A,), 3), TWO_ITEMS, "agenda.duplicate_item", {}),
    ],
)
def test_schedule_refuses_a_malformed_council(
    council_: Council, agenda: tuple[AgendaItem, ...], code: str, params: dict[str, object]
) -> None:
    cmd = c.ScheduleSitting(
        sitting="s", council=council_, title="x", scheduled_at=T0, agenda=agenda
    )
    with pytest.raises(ChamberError) as caught:
        execute(None, cmd, c.Ctx(actor=None, role=Role.OPERATOR, now=T0))
    assert (caught.value.code, caught.value.params) == (code, params)


def test_schedule_with_default_rules_and_no_agenda() -> None:
    cmd = c.ScheduleSitting(sitting="s9", council=council(5, seats=7), title="x", scheduled_at=T0)
    step = execute(None, cmd, c.Ctx(actor=None, role=Role.OPERATOR, now=T0))
    s = step.state
    assert s is not None
    assert (s.id, s.phase, s.rules, s.agenda, s.seq) == ("s9", SCH, DEFAULT_RULES, (), 1)
    assert (s.quorum_needed(), len(s.roster), s.present_count()) == (5, 5, 0)
    # The decider itself refuses a second schedule (the table refuses it first).
    with pytest.raises(ChamberError) as caught:
        schedule(s, cmd, c.Ctx(actor=None, role=Role.OPERATOR, now=T0))
    assert (caught.value.code, caught.value.params) == ("sitting.exists", {"sitting": "s9"})
    # Without an agenda, starting sets no current item.
    ctx = c.Ctx(actor=m(1), role=Role.CHAIR, now=T0)
    for i in range(1, 6):
        s = execute(s, c.CheckIn(), c.Ctx(actor=m(i), role=Role.DELEGATE, now=T0)).state
    s = execute(s, c.OpenSitting(), ctx).state
    step = execute(s, c.StartSitting(), ctx)
    assert [r.event for r in step.records] == [e.PhaseChanged(phase=SES)]
    assert step.state is not None and step.state.current_item is None
