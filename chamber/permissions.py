"""Which role may issue which command in which phase of the sitting: one table.

Everything that decides whether a command is *permitted* lives here; whether the state
then *refuses* it (a closed vote, a second ballot) is the business of the deciders.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from msgspec import Struct

from chamber.errors import NotPermitted
from chamber.ids import MEMBER_ROLES, Phase, Role

C, VC, S, OP, SYS = Role.CHAIR, Role.VICE_CHAIR, Role.SECRETARY, Role.OPERATOR, Role.SYSTEM
SCHEDULED, OPENED, IN_SESSION, SUSPENDED, CLOSED = (
    Phase.SCHEDULED,
    Phase.OPENED,
    Phase.IN_SESSION,
    Phase.SUSPENDED,
    Phase.CLOSED,
)
NOT_CLOSED = frozenset({SCHEDULED, OPENED, IN_SESSION, SUSPENDED})
UNDER_WAY = frozenset({OPENED, IN_SESSION, SUSPENDED})
SESSION = frozenset({IN_SESSION})
MEMBERS = frozenset(MEMBER_ROLES)
PRESIDE = frozenset({C, VC})
#: Who may act for another member (check someone in, excuse them).
CLERKS = frozenset({C, VC, S, OP, SYS})


class Permit(Struct, frozen=True):
    roles: frozenset[Role]
    phases: frozenset[Phase]


def _p(roles: frozenset[Role] | set[Role], phases: frozenset[Phase] | set[Phase]) -> Permit:
    return Permit(frozenset(roles), frozenset(phases))


# The phase "None" stands for a sitting that does not exist yet.
PERMISSIONS: dict[str, Permit] = {
    "sitting.schedule": _p({OP}, set()),
    "sitting.open": _p(PRESIDE, {SCHEDULED}),
    "sitting.start": _p(PRESIDE, {OPENED}),
    "sitting.suspend": _p(PRESIDE, {IN_SESSION}),
    "sitting.resume": _p(PRESIDE, {SUSPENDED}),
    "sitting.close": _p(PRESIDE, UNDER_WAY),
    "agenda.add": _p(PRESIDE | {S, OP}, NOT_CLOSED),
    "agenda.reorder": _p(PRESIDE | {S, OP}, NOT_CLOSED),
    "agenda.move": _p(PRESIDE, UNDER_WAY),
    "agenda.remove": _p(PRESIDE | {S, OP}, NOT_CLOSED),
    "roster.add_guest": _p(PRESIDE | {S, OP}, NOT_CLOSED),
    "attendance.check_in": _p(MEMBERS | CLERKS, NOT_CLOSED),
    "attendance.join_remote": _p(MEMBERS | CLERKS, NOT_CLOSED),
    "attendance.leave": _p(MEMBERS | CLERKS, NOT_CLOSED),
    "attendance.check_in_many": _p(CLERKS, NOT_CLOSED),
    "attendance.excuse": _p(MEMBERS | CLERKS, NOT_CLOSED),
    "floor.request": _p(MEMBERS, SESSION),
    "floor.withdraw": _p(MEMBERS, SESSION | {SUSPENDED}),
    "floor.grant": _p(PRESIDE, SESSION),
    "floor.next": _p(PRESIDE, SESSION),
    "floor.end": _p(MEMBERS | {SYS}, SESSION | {SUSPENDED}),
    "floor.pause": _p(PRESIDE, SESSION),
    "floor.resume": _p(PRESIDE, SESSION),
    "floor.extend": _p(PRESIDE, SESSION),
    "turn.expire": _p({SYS}, SESSION | {SUSPENDED}),
    "floor.round_open": _p(PRESIDE, SESSION),
    "floor.round_answer": _p(PRESIDE, SESSION),
    "floor.round_close": _p(PRESIDE, SESSION),
    "doc.register": _p(PRESIDE | {S, OP}, NOT_CLOSED),
    "doc.present": _p(PRESIDE | {S}, UNDER_WAY),
    "doc.stop": _p(PRESIDE | {S}, UNDER_WAY),
    "motion.propose": _p(PRESIDE | {S, OP}, NOT_CLOSED),
    "motion.amend": _p(PRESIDE | {S, OP}, NOT_CLOSED),
    "vote.open": _p(PRESIDE, SESSION),
    "election.open": _p(PRESIDE, SESSION),
    "confidence.open": _p(PRESIDE, SESSION),
    "vote.cast": _p(MEMBERS, SESSION),
    "vote.close": _p(PRESIDE | {SYS}, SESSION | {SUSPENDED}),
    "vote.cancel": _p(PRESIDE, SESSION | {SUSPENDED}),
    "vote.revote": _p(PRESIDE, SESSION),
}

#: Commands about one member's own business (their presence, their request, their turn):
#: whom a member may issue them about is themself, unless they hold one of these roles.
#: The deciders refuse the rest ("for another member", "turn of another member").
FOR_ANOTHER: dict[str, frozenset[Role]] = {
    "attendance.check_in": CLERKS,
    "attendance.join_remote": CLERKS,
    "attendance.leave": CLERKS,
    "attendance.excuse": CLERKS,
    "floor.withdraw": PRESIDE,
    "floor.end": PRESIDE,
}
#: The phases in the order a sitting goes through them, and the name of "no sitting yet".
PHASE_ORDER = (SCHEDULED, OPENED, IN_SESSION, SUSPENDED, CLOSED)
NO_SITTING = "none"


class Permits(Struct, frozen=True):
    """What a set of roles may issue: each command it may issue, with the phases it may be
    issued in (in lifecycle order; ``"none"``: before the sitting exists), and which of
    the commands of ``FOR_ANOTHER`` it may issue about another member too."""

    commands: dict[str, tuple[str, ...]]
    others: tuple[str, ...]


NO_PERMITS = Permits({}, ())


def permits(roles: Iterable[Role]) -> Permits:
    """The permission table as a client holding ``roles`` may read it: the union over its
    roles, since a member issues each command in whichever of its roles the table allows
    (server/acting.py ``Who.role_for``). The public and linked halls hold none."""
    return _permits(frozenset(roles))


@cache
def _permits(held: frozenset[Role]) -> Permits:
    """Once per set of roles: the table is fixed, and every welcome asks (treat the
    result as read-only: it is shared)."""
    commands: dict[str, tuple[str, ...]] = {}
    for name, permit in PERMISSIONS.items():
        if held & permit.roles:
            phases = tuple(p.value for p in PHASE_ORDER if p in permit.phases)
            commands[name] = phases or (NO_SITTING,)
    others = tuple(n for n, who in FOR_ANOTHER.items() if n in commands and held & who)
    return Permits(commands, others)


def check(command: str, role: Role, phase: Phase | None) -> None:
    """Raise ``NotPermitted`` naming the command, role and state unless the table allows."""
    permit = PERMISSIONS.get(command)
    state = "none" if phase is None else phase.value
    if permit is None or role not in permit.roles:
        raise NotPermitted(command, role.value, state)
    if phase is None:
        if permit.phases:
            raise NotPermitted(command, role.value, state)
        return
    if phase not in permit.phases:
        raise NotPermitted(command, role.value, state)
