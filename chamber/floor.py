"""Deciders for the floor: the speaker queue, speaking turns and questioning rounds.

A turn's state machine, in one table::

    granted ──► speaking ──pause──► paused ──resume──► speaking
                   │  ▲ extend          │ extend
                   └──┴─ end / expire ──┴─ end  ──► (ended: accumulated speaking time)

One speaker at a time: giving the floor (or resuming a paused turn) while someone speaks is
refused (``floor.occupied``) unless the command says what becomes of the speaker: paused
(a point of order interrupts; the chair resumes the speaker afterwards) or joined by a
second microphone, opened deliberately and bounded by ``rules.max_open_mics``. A paused
turn holds no open microphone.

The queue: a point of order goes before every other kind of request of its item (after the
points of order already waiting); a request leaves the queue when granted, withdrawn by its
member or the chair, or when the sitting moves to another item (``floor.withdrawn`` says
which).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chamber import commands as c
from chamber import events as e
from chamber.commands import Ctx
from chamber.decisions import NOTHING, Decision, acting_member, new_id, require_present
from chamber.errors import NotPermitted, Refused
from chamber.ids import (
    ItemId,
    MemberId,
    Occupied,
    RequestId,
    RoundId,
    TurnId,
    TurnKind,
    TurnStatus,
    Withdrawal,
)
from chamber.model import QuestionRound, Request, Sitting, Turn
from chamber.permissions import FOR_ANOTHER

#: Which turn commands each turn status accepts.
TURN_TRANSITIONS: dict[TurnStatus, frozenset[str]] = {
    TurnStatus.SPEAKING: frozenset({"floor.end", "floor.pause", "floor.extend", "turn.expire"}),
    TurnStatus.PAUSED: frozenset({"floor.end", "floor.resume", "floor.extend", "turn.expire"}),
}
REQUESTABLE = frozenset(TurnKind) - {TurnKind.ANSWER}
MAX_EXTENSION_S = 3600
#: The longest turn the chair may set when giving the floor (a report to the council).
MAX_TURN_S = 4 * 3600


def speech_key(item: ItemId, member: MemberId, kind: TurnKind) -> str:
    return f"{item}|{member}|{kind.value}"


def _current_item(s: Sitting) -> ItemId:
    if s.current_item is None:
        raise Refused("agenda.no_item")
    return s.current_item


def _open_round(s: Sitting, item: ItemId) -> QuestionRound | None:
    for r in s.rounds.values():
        if r.item == item and not r.answered:
            return r
    return None


def request_floor(s: Sitting, cmd: c.RequestFloor, ctx: Ctx) -> Decision:
    member = acting_member(s, ctx)
    require_present(s, member)
    item = _current_item(s)
    if cmd.kind not in REQUESTABLE:
        raise Refused("floor.kind_not_requestable", {"kind": cmd.kind.value})
    round_id: RoundId | None = None
    if cmd.kind is TurnKind.QUESTION:
        open_round = _open_round(s, item)
        if open_round is None:
            raise Refused("floor.no_question_round")
        round_id = open_round.id
    if any(r.member == member and r.kind is cmd.kind and r.item == item for r in s.queue):
        raise Refused("floor.already_requested", {"kind": cmd.kind.value})
    request = Request(
        id=RequestId(new_id(s, "r")),
        member=member,
        kind=cmd.kind,
        item=item,
        at=ctx.now,
        round=round_id,
        note=cmd.note,
    )
    return Decision((e.FloorRequested(request=request, position=_position(s, request)),))


def _position(s: Sitting, request: Request) -> int | None:
    """Where a request joins the queue: a point of order before the first request of its
    item that is not one; anything else (or a point of order with none such) at the end."""
    if request.kind is TurnKind.POINT_OF_ORDER:
        for index, waiting in enumerate(s.queue):
            if waiting.item == request.item and waiting.kind is not TurnKind.POINT_OF_ORDER:
                return index
    return None


def withdraw(s: Sitting, cmd: c.WithdrawRequest, ctx: Ctx) -> Decision:
    request = next((r for r in s.queue if r.id == cmd.request), None)
    if request is None:
        raise Refused("floor.no_request", {"request": cmd.request})
    if request.member != ctx.actor and ctx.role not in FOR_ANOTHER["floor.withdraw"]:
        raise NotPermitted("floor.withdraw", ctx.role.value, "request of another member")
    by = Withdrawal.MEMBER if request.member == ctx.actor else Withdrawal.CHAIR
    return Decision((e.RequestWithdrawn(request=request.id, member=request.member, reason=by),))


def _make_room(s: Sitting, ctx: Ctx, occupied: Occupied | None) -> tuple[e.AnyEvent, ...]:
    """One speaker at a time: what happens to whoever speaks before another turn runs.
    Nobody speaking: nothing. Otherwise refused unless the chair said what to do: pause
    the speakers (they resume later), or open a second microphone within the limit."""
    speaking = [t for t in s.turns.values() if t.status is TurnStatus.SPEAKING]
    if not speaking:
        return ()
    if occupied is None:
        first = speaking[0]
        raise Refused("floor.occupied", {"speaker": first.speaker, "turn": first.id})
    if occupied is Occupied.PAUSE:
        return tuple(
            e.TurnPaused(
                turn=t.id,
                elapsed_ms=_elapsed(t, ctx.now),
                remaining_ms=max(0, (t.deadline or ctx.now) - ctx.now),
            )
            for t in speaking
        )
    if len(speaking) >= s.rules.max_open_mics:
        raise Refused("floor.mics_full", {"limit": s.rules.max_open_mics})
    return ()


def _start_turn(
    s: Sitting,
    ctx: Ctx,
    speaker: MemberId,
    kind: TurnKind,
    request: RequestId | None,
    round_id: RoundId | None,
    occupied: Occupied | None = None,
    limit_s: int | None = None,
) -> Decision:
    item = _current_item(s)
    if speaker not in s.roster and speaker not in s.guests:
        raise Refused("member.unknown", {"member": speaker})
    if any(t.speaker == speaker for t in s.turns.values()):
        raise Refused("floor.already_speaking", {"member": speaker})
    if limit_s is not None and not 0 < limit_s <= MAX_TURN_S:
        raise Refused("floor.bad_limit", {"seconds": limit_s, "max": MAX_TURN_S})
    room = _make_room(s, ctx, occupied)
    if limit_s is None:
        limit_s = s.rules.speaking.limit_s(kind, s.speeches.get(speech_key(item, speaker, kind), 0))
    limit_ms = limit_s * 1000
    turn = Turn(
        id=TurnId(new_id(s, "t", len(room))),
        speaker=speaker,
        kind=kind,
        item=item,
        status=TurnStatus.SPEAKING,
        started_at=ctx.now,
        since=ctx.now,
        elapsed_ms=0,
        limit_ms=limit_ms,
        deadline=ctx.now + limit_ms,
        remaining_ms=limit_ms,
        round=round_id,
    )
    return Decision((*room, e.TurnStarted(turn=turn, request=request)))


def grant(s: Sitting, cmd: c.GrantFloor, ctx: Ctx) -> Decision:
    """The chair grants in any order: a queued request, or the floor directly."""
    if cmd.request is not None:
        request = next((r for r in s.queue if r.id == cmd.request), None)
        if request is None:
            raise Refused("floor.no_request", {"request": cmd.request})
        return _start_turn(
            s,
            ctx,
            request.member,
            request.kind,
            request.id,
            request.round,
            cmd.occupied,
            cmd.limit_s,
        )
    if cmd.speaker is None:
        raise Refused("floor.no_speaker")
    round_id: RoundId | None = None
    if cmd.kind is TurnKind.QUESTION:
        open_round = _open_round(s, _current_item(s))
        if open_round is None:
            raise Refused("floor.no_question_round")
        round_id = open_round.id
    elif cmd.kind is TurnKind.ANSWER:
        raise Refused("floor.kind_not_requestable", {"kind": cmd.kind.value})
    return _start_turn(s, ctx, cmd.speaker, cmd.kind, None, round_id, cmd.occupied, cmd.limit_s)


def grant_next(s: Sitting, cmd: c.GrantNext, ctx: Ctx) -> Decision:
    queue = s.item_queue()
    if not queue:
        raise Refused("floor.queue_empty")
    first = queue[0]
    return _start_turn(s, ctx, first.member, first.kind, first.id, first.round, cmd.occupied)


def _turn(s: Sitting, turn_id: TurnId, command: str) -> Turn:
    turn = s.turns.get(turn_id)
    if turn is None:
        raise Refused("turn.unknown", {"turn": turn_id})
    if command not in TURN_TRANSITIONS[turn.status]:
        raise Refused(
            "turn.bad_state", {"turn": turn_id, "state": turn.status.value, "command": command}
        )
    return turn


def _elapsed(turn: Turn, now: int) -> int:
    running = now - turn.since if turn.status is TurnStatus.SPEAKING else 0
    return turn.elapsed_ms + running


def _ended(s: Sitting, turn: Turn, now: int, reason: str) -> Decision:
    ended: list[e.AnyEvent] = [
        e.TurnEnded(
            turn=turn.id, speaker=turn.speaker, elapsed_ms=_elapsed(turn, now), reason=reason
        )
    ]
    if turn.kind is TurnKind.ANSWER and turn.round is not None:
        ended.append(e.RoundClosed(round=turn.round))
    return Decision(tuple(ended))


def end(s: Sitting, cmd: c.EndTurn, ctx: Ctx) -> Decision:
    turn = _turn(s, cmd.turn, "floor.end")
    if ctx.role not in FOR_ANOTHER["floor.end"] and turn.speaker != ctx.actor:
        raise NotPermitted("floor.end", ctx.role.value, "turn of another member")
    return _ended(s, turn, ctx.now, "ended")


def expire(s: Sitting, cmd: c.ExpireTurn, ctx: Ctx) -> Decision:
    """A timer fired. Decided against the current state: if the turn has ended, was
    paused or extended since the timer was armed, nothing happens."""
    turn = s.turns.get(cmd.turn)
    if turn is None or turn.deadline is None or ctx.now < turn.deadline:
        return NOTHING
    return _ended(s, turn, ctx.now, "expired")


def pause(s: Sitting, cmd: c.PauseTurn, ctx: Ctx) -> Decision:
    turn = _turn(s, cmd.turn, "floor.pause")
    remaining = max(0, (turn.deadline or ctx.now) - ctx.now)
    return Decision(
        (e.TurnPaused(turn=turn.id, elapsed_ms=_elapsed(turn, ctx.now), remaining_ms=remaining),)
    )


def resume(s: Sitting, cmd: c.ResumeTurn, ctx: Ctx) -> Decision:
    turn = _turn(s, cmd.turn, "floor.resume")
    room = _make_room(s, ctx, cmd.occupied)
    return Decision((*room, e.TurnResumed(turn=turn.id, deadline=ctx.now + turn.remaining_ms)))


def extend(s: Sitting, cmd: c.ExtendTurn, ctx: Ctx) -> Decision:
    turn = _turn(s, cmd.turn, "floor.extend")
    if not 0 < cmd.seconds <= MAX_EXTENSION_S:
        raise Refused("turn.bad_extension", {"seconds": cmd.seconds})
    extra = cmd.seconds * 1000
    deadline = None if turn.deadline is None else turn.deadline + extra
    return Decision(
        (
            e.TurnExtended(
                turn=turn.id, seconds=cmd.seconds, deadline=deadline, limit_ms=turn.limit_ms + extra
            ),
        )
    )


def open_round(s: Sitting, cmd: c.OpenRound, ctx: Ctx) -> Decision:
    item = _current_item(s)
    if cmd.respondent not in s.roster and cmd.respondent not in s.guests:
        raise Refused("member.unknown", {"member": cmd.respondent})
    if _open_round(s, item) is not None:
        raise Refused("round.already_open")
    new = QuestionRound(id=RoundId(new_id(s, "q")), item=item, respondent=cmd.respondent)
    return Decision((e.RoundOpened(round=new),))


def answer_round(s: Sitting, cmd: c.AnswerRound, ctx: Ctx) -> Decision:
    r = s.rounds.get(cmd.round)
    if r is None or r.answered:
        raise Refused("round.unknown", {"round": cmd.round})
    started = _start_turn(s, ctx, r.respondent, TurnKind.ANSWER, None, r.id, cmd.occupied)
    # The answer begins: questions still waiting are dropped, each member told why (after
    # the turn, whose id depends on its place among the events).
    return Decision((*started.events, *_questions_dropped(s, r.id)))


def _questions_dropped(s: Sitting, round_id: RoundId) -> tuple[e.AnyEvent, ...]:
    return tuple(
        e.RequestWithdrawn(request=q.id, member=q.member, reason=Withdrawal.ROUND_CLOSED)
        for q in s.queue
        if q.round == round_id
    )


def close_round(s: Sitting, cmd: c.CloseRound, ctx: Ctx) -> Decision:
    if cmd.round not in s.rounds:
        raise Refused("round.unknown", {"round": cmd.round})
    return Decision((*_questions_dropped(s, cmd.round), e.RoundClosed(round=cmd.round)))


DECIDERS: dict[type[Any], Callable[[Sitting, Any, Ctx], Decision]] = {
    c.RequestFloor: request_floor,
    c.WithdrawRequest: withdraw,
    c.GrantFloor: grant,
    c.GrantNext: grant_next,
    c.EndTurn: end,
    c.ExpireTurn: expire,
    c.PauseTurn: pause,
    c.ResumeTurn: resume,
    c.ExtendTurn: extend,
    c.OpenRound: open_round,
    c.AnswerRound: answer_round,
    c.CloseRound: close_round,
}
