"""What every decider returns, and the small helpers they share."""

from __future__ import annotations

from msgspec import Struct

from chamber.commands import Ctx
from chamber.errors import NotPermitted, Refused
from chamber.events import AnyEvent, SecretBallot
from chamber.ids import MemberId, Phase
from chamber.model import Sitting
from chamber.permissions import FOR_ANOTHER


class Decision(Struct, frozen=True):
    """The events a command produces, in order, and at most one secret ballot that goes
    to the ballot box instead of the log."""

    events: tuple[AnyEvent, ...] = ()
    secret: SecretBallot | None = None


NOTHING = Decision()


def new_id(state: Sitting, prefix: str, index: int = 0) -> str:
    """The id of a thing created by the ``index``-th event of this decision: unique
    because seqs are, and the same on every node that decides the same command."""
    return f"{prefix}{state.seq + 1 + index}"


def acting_member(state: Sitting, ctx: Ctx) -> MemberId:
    """The member issuing the command; refuses if the actor is not on the roster."""
    if ctx.actor is None or state.member(ctx.actor) is None:
        raise Refused("member.unknown", {"member": ctx.actor or ""})
    return ctx.actor


def subject(state: Sitting, target: MemberId | None, ctx: Ctx, command: str) -> MemberId:
    """The member a command is about: the actor themself, or another member when the
    actor acts as a clerk (chair, vice-chair, secretary, operator, the hub)."""
    if target is None or target == ctx.actor:
        return acting_member(state, ctx)
    if ctx.role not in FOR_ANOTHER[command]:
        phase: Phase = state.phase
        raise NotPermitted(command, ctx.role.value, f"{phase.value}: for another member")
    if state.member(target) is None:
        raise Refused("member.unknown", {"member": target})
    return target


def require_present(state: Sitting, member: MemberId) -> None:
    if not state.is_present(member):
        raise Refused("member.not_present", {"member": member})
