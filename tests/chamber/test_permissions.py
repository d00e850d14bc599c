"""Who may issue which command in which phase: the table, and the checks the deciders add
(a role actually held, acting for another member, another member's turn or request)."""

from __future__ import annotations

import msgspec
import pytest

from chamber import NotPermitted, execute
from chamber import commands as c
from chamber.ids import MemberId, Phase, Role, TurnKind
from chamber.permissions import PERMISSIONS, check
from tests.chamber.play import T0, Play, council, m

C, VC, S, D, G, OP, SYS = (
    Role.CHAIR,
    Role.VICE_CHAIR,
    Role.SECRETARY,
    Role.DELEGATE,
    Role.GUEST,
    Role.OPERATOR,
    Role.SYSTEM,
)
SCH, OPN, SES, SUS, CLO = (
    Phase.SCHEDULED,
    Phase.OPENED,
    Phase.IN_SESSION,
    Phase.SUSPENDED,
    Phase.CLOSED,
)

ALLOWED = [
    ("sitting.schedule", OP, None),
    ("sitting.open", C, SCH),
    ("sitting.open", VC, SCH),
    ("sitting.start", C, OPN),
    ("sitting.suspend", VC, SES),
    ("sitting.resume", C, SUS),
    ("sitting.close", C, OPN),
    ("sitting.close", C, SUS),
    ("agenda.add", OP, SCH),
    ("agenda.reorder", S, SUS),
    ("agenda.move", C, OPN),
    ("roster.add_guest", OP, SCH),
    ("attendance.check_in", D, SCH),
    ("attendance.check_in", SYS, SES),
    ("attendance.leave", D, SUS),
    ("attendance.excuse", S, OPN),
    ("attendance.excuse", D, SES),  # a member excuses themself
    ("attendance.check_in_many", S, SCH),
    ("attendance.check_in_many", OP, SUS),
    ("floor.request", D, SES),
    ("floor.withdraw", D, SUS),
    ("floor.grant", VC, SES),
    ("floor.end", D, SUS),
    ("floor.end", SYS, SES),
    ("turn.expire", SYS, SUS),
    ("doc.register", OP, SCH),
    ("doc.present", S, OPN),
    ("motion.propose", OP, SCH),
    ("vote.open", C, SES),
    ("vote.cast", D, SES),
    ("vote.cast", C, SES),
    ("vote.close", SYS, SUS),
    ("vote.cancel", VC, SUS),
]

DENIED = [
    ("sitting.schedule", OP, SCH),  # scheduling twice
    ("sitting.schedule", C, None),
    ("sitting.open", C, None),  # no sitting yet
    ("sitting.open", OP, SCH),
    ("sitting.open", C, OPN),
    ("sitting.start", C, SCH),
    ("sitting.start", C, SES),
    ("sitting.suspend", C, OPN),
    ("sitting.suspend", C, SUS),
    ("sitting.resume", C, SES),
    ("sitting.close", C, SCH),
    ("sitting.close", C, CLO),
    ("sitting.close", S, SES),
    ("agenda.add", D, SES),
    ("agenda.add", C, CLO),
    ("agenda.move", S, SES),
    ("agenda.move", C, SCH),
    ("attendance.check_in", G, SES),
    ("attendance.check_in", D, CLO),
    ("attendance.excuse", G, SES),
    ("attendance.excuse", D, CLO),
    ("attendance.check_in_many", D, SES),
    ("attendance.check_in_many", S, CLO),
    ("floor.request", D, OPN),
    ("floor.request", D, SUS),
    ("floor.request", OP, SES),
    ("floor.request", G, SES),
    ("floor.withdraw", D, OPN),
    ("floor.grant", D, SES),  # a delegate granting the floor
    ("floor.grant", S, SES),
    ("floor.grant", C, SUS),
    ("floor.next", D, SES),
    ("floor.pause", C, SUS),
    ("floor.end", OP, SES),
    ("turn.expire", C, SES),
    ("floor.round_open", D, SES),
    ("doc.present", OP, SES),
    ("doc.present", C, SCH),
    ("motion.amend", D, SES),
    ("vote.open", C, SUS),
    ("vote.open", S, SES),
    ("election.open", D, SES),
    ("vote.cast", G, SES),
    ("vote.cast", OP, SES),
    ("vote.cast", SYS, SES),
    ("vote.cast", D, SUS),
    ("vote.close", D, SES),
    ("vote.cancel", SYS, SES),
    ("vote.revote", C, SUS),
    ("no.such.command", C, SES),
]


@pytest.mark.parametrize(("command", "role", "phase"), ALLOWED)
def test_the_table_allows(command: str, role: Role, phase: Phase | None) -> None:
    check(command, role, phase)


@pytest.mark.parametrize(("command", "role", "phase"), DENIED)
def test_the_table_refuses_naming_command_role_and_state(
    command: str, role: Role, phase: Phase | None
) -> None:
    with pytest.raises(NotPermitted) as caught:
        check(command, role, phase)
    state = "none" if phase is None else phase.value
    err = caught.value
    assert (err.code, err.command, err.role, err.state) == (
        "permission.denied",
        command,
        role.value,
        state,
    )
    assert err.params == {"command": command, "role": role.value, "state": state}


@pytest.mark.parametrize("command", sorted(PERMISSIONS))
@pytest.mark.parametrize("phase", [None, *Phase])
def test_a_guest_may_issue_nothing(command: str, phase: Phase | None) -> None:
    with pytest.raises(NotPermitted):
        check(command, G, phase)


def test_no_command_is_permitted_once_closed() -> None:
    assert [k for k, v in PERMISSIONS.items() if CLO in v.phases] == []


# Through the core: the table, then the deciders' own checks.


def at(phase: Phase) -> Play:
    p = Play()
    if phase is SCH:
        return p
    p.check_in(*range(1, 26))
    p.do(c.OpenSitting())
    if phase is not OPN:
        p.do(c.StartSitting())
    if phase is SUS:
        p.do(c.SuspendSitting())
    if phase is CLO:
        p.do(c.CloseSitting())
    return p


def speaking(phase: Phase = SES) -> Play:
    p = at(SES)
    p.do(c.GrantFloor(speaker=m(5)))
    if phase is SUS:
        p.do(c.SuspendSitting())
    return p


def requested() -> Play:
    p = at(SES)
    p.as_delegate(5, c.RequestFloor())
    return p


def turn(p: Play) -> c.TurnId:
    return next(iter(p.s.turns))


ROWS = [
    # (name, setup, command, actor, role, state named)
    ("a delegate grants the floor", lambda: at(SES), c.GrantNext(), 5, D, "in_session"),
    ("a guest role", lambda: at(SES), c.RequestFloor(), 5, G, "in_session"),
    ("the public cast a ballot", lambda: at(SES), c.CastBallot(vote="v1"), None, G, "in_session"),
    (
        "operator schedules twice",
        lambda: at(OPN),
        c.ScheduleSitting(sitting="s1", council=council(), title="x", scheduled_at=T0),
        None,
        OP,
        "opened",
    ),
    ("a role not held", lambda: at(SES), c.GrantNext(), 9, C, "in_session: role not held"),
    ("a secretary not held", lambda: at(OPN), c.AddItem(title="x"), 9, S, "opened: role not held"),
    (
        "not on the roster",
        lambda: at(SES),
        c.RequestFloor(),
        "ghost",
        D,
        "in_session: role not held",
    ),
    (
        "a member role with no actor",
        lambda: at(SES),
        c.RequestFloor(),
        None,
        D,
        "in_session: role not held",
    ),
    (
        "a delegate checks someone else in",
        lambda: at(SCH),
        c.CheckIn(member=m(6)),
        5,
        D,
        "scheduled: for another member",
    ),
    (
        "a delegate makes another remote",
        lambda: at(SES),
        c.JoinRemote(member=m(26)),
        5,
        D,
        "in_session: for another member",
    ),
    (
        "a delegate signs another out",
        lambda: at(SUS),
        c.Leave(member=m(6)),
        5,
        D,
        "suspended: for another member",
    ),
    (
        "a delegate ends another's turn",
        speaking,
        c.EndTurn(turn="t0"),
        6,
        D,
        "turn of another member",
    ),
    (
        "a secretary ends another's turn",
        speaking,
        c.EndTurn(turn="t0"),
        3,
        S,
        "turn of another member",
    ),
    (
        "the hub ends a turn",
        lambda: speaking(SUS),
        c.EndTurn(turn="t0"),
        None,
        SYS,
        "turn of another member",
    ),
    (
        "withdrawing another's request",
        requested,
        c.WithdrawRequest(request="r0"),
        6,
        D,
        "request of another member",
    ),
    ("starting from closed", lambda: at(CLO), c.StartSitting(), 1, C, "closed"),
    (
        "a question while suspended",
        lambda: at(SUS),
        c.RequestFloor(kind=TurnKind.QUESTION),
        5,
        D,
        "suspended",
    ),
]


def fill(p: Play, cmd: c.AnyCommand) -> c.AnyCommand:
    """Put the id of the turn or request the setup created into the command."""
    if isinstance(cmd, c.EndTurn):
        return c.EndTurn(turn=turn(p))
    if isinstance(cmd, c.WithdrawRequest):
        return c.WithdrawRequest(request=p.s.queue[0].id)
    return cmd


@pytest.mark.parametrize(
    ("setup", "cmd", "actor", "role", "state"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS]
)
def test_not_permitted_through_the_core(setup, cmd, actor, role, state) -> None:  # type: ignore[no-untyped-def]
    p = setup()
    cmd = fill(p, cmd)
    who = m(actor) if isinstance(actor, int) else None if actor is None else MemberId(actor)
    before = msgspec.msgpack.encode(p.s)
    with pytest.raises(NotPermitted) as caught:
        execute(p.s, cmd, c.Ctx(actor=who, role=role, now=p.now))
    err = caught.value
    name = type(cmd).__struct_config__.tag
    assert (err.command, err.role, err.state) == (name, role.value, state)
    assert (
        str(err)
        == f"permission.denied {{'command': '{name}', 'role': '{role.value}', 'state': '{state}'}}"
    )
    assert msgspec.msgpack.encode(p.s) == before


ACTS_FOR_ANOTHER = [
    (c.CheckIn(member=m(27)), S, "in_hall"),
    (c.JoinRemote(member=m(27)), OP, "remote"),
    (c.JoinRemote(member=m(27)), SYS, "remote"),
    (c.Leave(member=m(25)), VC, "left"),
    (c.Excuse(member=m(27), reason="Công tác"), C, "excused"),
]


@pytest.mark.parametrize(("cmd", "role", "presence"), ACTS_FOR_ANOTHER)
def test_clerks_act_for_another_member(cmd: c.AnyCommand, role: Role, presence: str) -> None:
    p = at(SES)
    actor = {S: m(3), VC: m(2), C: m(1)}.get(role)
    step = p.do(cmd, actor, role)
    [record] = step.records
    assert (record.event.member, record.event.presence) == (cmd.member, presence)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("cmd", "actor", "role"),
    [
        (c.EndTurn(turn="t0"), 5, D),  # the speaker ends their own turn
        (c.EndTurn(turn="t0"), 2, VC),  # the vice-chair presides
        (c.WithdrawRequest(request="r0"), 5, D),  # their own request
        (c.WithdrawRequest(request="r0"), 2, VC),  # the presiding officer
    ],
)
def test_own_turn_and_request_or_the_presiding_officer(
    cmd: c.AnyCommand, actor: int, role: Role
) -> None:
    p = speaking() if isinstance(cmd, c.EndTurn) else requested()
    p.do(fill(p, cmd), m(actor), role)
    assert (p.s.turns, p.s.queue) == ({}, ())


def test_the_chair_acts_as_a_delegate_when_voting_or_speaking() -> None:
    p = at(SES)
    p.do(c.RequestFloor(), m(1), D)
    assert [r.member for r in p.s.queue] == [m(1)]
