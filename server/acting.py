"""From a principal to who acts on a sitting: one path for the socket and for HTTP.

A session's principal (an operator, or a member of a council) becomes a `Who`: the
audience its connection is shown, the member it acts as, and the roles it holds in the
sitting's council. `schedule_check` refuses what the core cannot know: a sitting
scheduled under another id, or with a roster that is not the council's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chamber import Sitting
from chamber import commands as c
from chamber.ids import MemberId, Role
from chamber.model import Council
from chamber.permissions import NO_PERMITS, PERMISSIONS, Permits, permits
from chamber.projection import Audience
from server.auth import Principal

PRESIDING_ROLES = frozenset({Role.CHAIR, Role.VICE_CHAIR, Role.SECRETARY})
ROLE_ORDER = (Role.CHAIR, Role.VICE_CHAIR, Role.SECRETARY, Role.DELEGATE)


class Refused(Exception):
    """A principal may not act on this sitting, or a command does not belong to it."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code, self.params = code, params


@dataclass(frozen=True)
class Who:
    audience: Audience
    member: MemberId | None
    roles: frozenset[Role]
    principal: Principal | None

    def role_for(self, command: str) -> Role | None:
        """The capacity in which this principal issues ``command``: the first of its roles
        the permission table allows, or its highest (the core then refuses, naming the
        command, role and state). None: the public may issue nothing."""
        if self.principal is None or self.principal.kind == "room":
            return None  # a linked hall's computer carries video; it issues no command
        if self.principal.kind == "operator":
            return Role.OPERATOR
        permit = PERMISSIONS.get(command)
        for role in ROLE_ORDER:
            if role in self.roles and permit is not None and role in permit.roles:
                return role
        return next((role for role in ROLE_ORDER if role in self.roles), None)

    def permits(self) -> Permits:
        """What this principal may issue, as its welcome tells the client: the roles
        ``role_for`` chooses among, the operator's one, none for the public or a hall."""
        if self.principal is None or self.principal.kind == "room":
            return NO_PERMITS
        if self.principal.kind == "operator":
            return permits({Role.OPERATOR})
        return permits(self.roles & frozenset(ROLE_ORDER))

    def display_role(self) -> str | None:
        """The role a console is shown as: operator, or the member's highest role."""
        if self.principal is None:
            return None
        if self.principal.kind in ("operator", "room"):
            return self.principal.kind
        return next((r.value for r in ROLE_ORDER if r in self.roles), Role.DELEGATE.value)

    def key(self, client_id: str) -> str:
        """Where a command's answer is kept: the principal and the client's id."""
        assert self.principal is not None
        return f"{self.principal.kind}:{self.principal.id}/{client_id}"

    @property
    def rate_key(self) -> str | None:
        """Whose command budget a command spends: one per principal, across transports."""
        if self.principal is None:
            return None
        return f"{self.principal.kind}:{self.principal.id}"


PUBLIC = Who(Audience.PUBLIC, None, frozenset(), None)


def who_in(principal: Principal | None, state: Sitting | None) -> Who:
    """Who ``principal`` is in this sitting (None: one still to be scheduled); Refused if
    a member of another council."""
    if principal is None:
        return PUBLIC
    if principal.kind == "operator":
        return Who(Audience.CHAIR, None, frozenset({Role.OPERATOR}), principal)
    if principal.kind == "room":  # a linked hall of this council: sees what the public sees
        if state is None or principal.council != state.council.id:
            raise Refused("auth.not_a_member")
        return Who(Audience.PUBLIC, None, frozenset(), principal)
    member = None if state is None else state.member(MemberId(principal.id))
    if state is None or member is None or principal.council != state.council.id:
        raise Refused("auth.not_a_member")
    audience = Audience.CHAIR if member.roles & PRESIDING_ROLES else Audience.DELEGATE
    return Who(audience, member.id, member.roles, principal)


def schedule_check(sitting: str, command: c.ScheduleSitting, roster: Council) -> None:
    """What the core cannot know of a sitting still to be scheduled: a `sitting.schedule`
    carried to sitting ``sitting`` must be about it, with its council's roster as the
    registry holds it. Once the sitting exists the permission table refuses any
    `sitting.schedule`, so the core answers that (`permission.denied`)."""
    if command.sitting != sitting:
        raise Refused("command.wrong_sitting", sitting=sitting, named=command.sitting)
    if command.council != roster:
        raise Refused("command.roster_mismatch", council=command.council.id)
