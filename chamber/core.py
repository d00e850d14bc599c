"""decide(state, command, ctx) -> Decision and execute(...): the core's one entry point.

``decide`` holds the command to its schema's bounds (chamber/limits.py: a command built
in code was not checked by a decoder), checks the permission table, then hands the
command to the decider of its kind. ``execute`` decides, then numbers, stamps, chains and
applies the events: it is what the hub's sequencer calls for every command.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from msgspec import Struct

from chamber import commands as c
from chamber import floor, sitting, voting
from chamber.apply import apply_secret
from chamber.commands import AnyCommand, Ctx
from chamber.decisions import Decision
from chamber.errors import NotPermitted, Refused
from chamber.events import SecretBallot
from chamber.ids import MEMBER_ROLES
from chamber.limits import OutOfBounds
from chamber.limits import check as check_bounds
from chamber.log import Record, apply, seal
from chamber.model import Sitting
from chamber.permissions import check

DECIDERS: dict[type[Any], Callable[[Sitting, Any, Ctx], Decision]] = {
    **sitting.DECIDERS,
    **floor.DECIDERS,
    **voting.DECIDERS,
}


def command_name(command: AnyCommand) -> str:
    return type(command).__struct_config__.tag  # type: ignore[return-value]


def decide(state: Sitting | None, command: AnyCommand, ctx: Ctx) -> Decision:
    """The events ``command`` produces against ``state``; raises a ``ChamberError`` (and
    changes nothing) if it is not permitted or the state refuses it."""
    name = command_name(command)
    try:
        check_bounds(command)
    except OutOfBounds as err:
        raise Refused("command.invalid", {"detail": str(err)}) from err
    check(name, ctx.role, None if state is None else state.phase)
    if isinstance(command, c.ScheduleSitting):
        return sitting.schedule(state, command, ctx)
    assert state is not None  # the table permits nothing else on a missing sitting
    if ctx.role in MEMBER_ROLES:
        member = state.member(ctx.actor) if ctx.actor is not None else None
        if member is None or ctx.role not in member.roles:
            raise NotPermitted(name, ctx.role.value, f"{state.phase.value}: role not held")
    return DECIDERS[type(command)](state, command, ctx)


class Step(Struct, frozen=True):
    """The outcome of one command: the new state, its sealed records (with the canonical
    bytes the journal stores) and the secret ballot for the ballot box, if any."""

    state: Sitting | None
    records: tuple[Record, ...]
    payloads: tuple[bytes, ...]
    secret: SecretBallot | None


def execute(state: Sitting | None, command: AnyCommand, ctx: Ctx) -> Step:
    decision = decide(state, command, ctx)
    records: list[Record] = []
    payloads: list[bytes] = []
    for event in decision.events:
        sitting_id = command.sitting if isinstance(command, c.ScheduleSitting) else ""
        seq = 1 if state is None else state.seq + 1
        record, payload = seal(
            "" if state is None else state.head,
            seq,
            ctx.now,
            state.id if state is not None else sitting_id,
            event,
        )
        state = apply(state, record)
        records.append(record)
        payloads.append(payload)
    if decision.secret is not None and state is not None:
        state = apply_secret(state, decision.secret)
    return Step(state, tuple(records), tuple(payloads), decision.secret)
