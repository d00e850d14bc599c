"""The permission table as a client reads it (`permits`): for a set of roles, what they may
issue, in which phases, and what about another member; checked against `check` and the
deciders, so the consoles' table and the core's can never disagree."""

from __future__ import annotations

from itertools import combinations

import pytest

from chamber import NotPermitted, execute
from chamber import commands as c
from chamber.ids import MemberId, Phase, Role
from chamber.permissions import (
    FOR_ANOTHER,
    NO_PERMITS,
    PERMISSIONS,
    Permits,
    check,
    permits,
)
from tests.chamber.play import Play, m
from tests.chamber.test_permissions import at, requested, speaking, turn

C, VC, S, D, G, OP, SYS = (
    Role.CHAIR,
    Role.VICE_CHAIR,
    Role.SECRETARY,
    Role.DELEGATE,
    Role.GUEST,
    Role.OPERATOR,
    Role.SYSTEM,
)
#: Every set of roles a principal can hold (members hold several; operator, guest alone).
ROLE_SETS = [
    frozenset(combo) for size in range(0, 5) for combo in combinations((C, VC, S, D), size)
] + [frozenset({OP}), frozenset({G}), frozenset({SYS}), frozenset({S, OP})]


def allowed(command: str, role: Role, phase: Phase | None) -> bool:
    try:
        check(command, role, phase)
    except NotPermitted:
        return False
    return True


@pytest.mark.parametrize("roles", ROLE_SETS, ids=lambda r: "+".join(sorted(r)) or "none")
def test_permits_are_the_union_of_what_check_allows(roles: frozenset[Role]) -> None:
    table = permits(roles)
    for command in PERMISSIONS:
        for phase in [None, *Phase]:
            name = "none" if phase is None else phase.value
            expected = any(allowed(command, role, phase) for role in roles)
            assert (name in table.commands.get(command, ())) == expected, (command, name)
    assert all(phases for phases in table.commands.values())  # no command with no phase


@pytest.mark.parametrize("roles", ROLE_SETS, ids=lambda r: "+".join(sorted(r)) or "none")
def test_others_are_the_commands_a_held_role_may_issue_about_another(
    roles: frozenset[Role],
) -> None:
    table = permits(roles)
    expected = {
        command
        for command, who in FOR_ANOTHER.items()
        if any(role in who and role in PERMISSIONS[command].roles for role in roles)
    }
    assert set(table.others) == expected
    assert set(table.others) <= set(table.commands)


def test_the_secretary_keeps_the_record_and_does_not_preside() -> None:
    table = permits({S, D})
    for presiding in (
        "sitting.open",
        "sitting.start",
        "sitting.suspend",
        "sitting.resume",
        "sitting.close",
        "agenda.move",
        "floor.grant",
        "floor.next",
        "floor.pause",
        "floor.resume",
        "floor.extend",
        "floor.round_open",
        "vote.open",
        "election.open",
        "vote.close",
        "vote.cancel",
        "vote.revote",
    ):
        assert presiding not in table.commands, presiding
    assert table.commands["agenda.add"] == ("scheduled", "opened", "in_session", "suspended")
    assert table.commands["doc.present"] == ("opened", "in_session", "suspended")
    assert table.commands["floor.end"] == ("in_session", "suspended")  # their own turn only
    assert table.others == (
        "attendance.check_in",
        "attendance.join_remote",
        "attendance.leave",
        "attendance.excuse",
    )


def test_the_vice_chair_presides_and_the_operator_schedules() -> None:
    vice = permits({VC, D})
    assert vice.commands["floor.grant"] == ("in_session",)
    assert vice.commands["sitting.close"] == ("opened", "in_session", "suspended")
    assert "floor.end" in vice.others and "floor.withdraw" in vice.others
    operator = permits({OP})
    assert operator.commands["sitting.schedule"] == ("none",)
    assert "floor.request" not in operator.commands and "doc.present" not in operator.commands


def test_the_public_may_issue_nothing() -> None:
    assert permits(()) == NO_PERMITS == Permits({}, ())
    assert permits({G}) == NO_PERMITS


# FOR_ANOTHER is what the deciders enforce: through the core, each role the table allows
# issues each such command about another member, refused unless FOR_ANOTHER names it.

ACTOR = {C: m(1), VC: m(2), S: m(3), D: m(6), OP: None}


def about_another(command: str) -> tuple[Play, c.AnyCommand]:
    if command == "floor.end":
        p = speaking()  # m05 speaks
        return p, c.EndTurn(turn=turn(p))
    if command == "floor.withdraw":
        p = requested()  # m05 asks for the floor
        return p, c.WithdrawRequest(request=p.s.queue[0].id)
    p = at(Phase.IN_SESSION)  # m01 to m25 in the hall
    return p, {
        "attendance.check_in": c.CheckIn(member=m(27)),
        "attendance.join_remote": c.JoinRemote(member=m(27)),
        "attendance.leave": c.Leave(member=m(25)),
        "attendance.excuse": c.Excuse(member=m(27), reason="Công tác"),
    }[command]


CASES = [
    (command, role)
    for command in FOR_ANOTHER
    for role in (C, VC, S, D, OP)
    if role in PERMISSIONS[command].roles
]


@pytest.mark.parametrize(("command", "role"), CASES)
def test_the_deciders_allow_another_member_exactly_as_for_another_says(
    command: str, role: Role
) -> None:
    p, cmd = about_another(command)
    actor: MemberId | None = ACTOR[role]
    ctx = c.Ctx(actor=actor, role=role, now=p.now)
    if role in FOR_ANOTHER[command]:
        assert execute(p.s, cmd, ctx).records
    else:
        with pytest.raises(NotPermitted):
            execute(p.s, cmd, ctx)
