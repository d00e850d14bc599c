"""apply(state, event) -> state: how each event changes the sitting. Nothing here
decides or refuses; an event in the log has already happened."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from msgspec.structs import replace

from chamber import events as e
from chamber.events import SecretBallot
from chamber.floor import speech_key
from chamber.ids import Phase, Presence, TurnKind, TurnStatus, VoteForm, VoteStatus
from chamber.model import Presentation, Sitting, Turn, Vote


def scheduled(event: e.SittingScheduled) -> Sitting:
    council = event.council
    return Sitting(
        id=event.sitting,  # type: ignore[arg-type]
        council=council,
        title=event.title,
        rules=event.rules,
        scheduled_at=event.scheduled_at,
        agenda=event.agenda,
        roster={m.id: m for m in council.members},
        attendance={m.id: Presence.ABSENT for m in council.members},
        guests={g.id: g for g in council.guests},
    )


def _phase(s: Sitting, ev: e.PhaseChanged, at: int) -> Sitting:
    if ev.phase is Phase.OPENED:
        return replace(s, phase=ev.phase, opened_at=at)
    if ev.phase is Phase.CLOSED:
        return replace(s, phase=ev.phase, closed_at=at, queue=(), presentation=None)
    return replace(s, phase=ev.phase)


def _item_added(s: Sitting, ev: e.ItemAdded, at: int) -> Sitting:
    agenda = list(s.agenda)
    agenda.insert(ev.position, ev.item)
    return replace(s, agenda=tuple(agenda))


def _reordered(s: Sitting, ev: e.AgendaReordered, at: int) -> Sitting:
    by_id = {i.id: i for i in s.agenda}
    return replace(s, agenda=tuple(by_id[i] for i in ev.order))


def _current(s: Sitting, ev: e.CurrentItemChanged, at: int) -> Sitting:
    return replace(s, current_item=ev.item)


def _item_removed(s: Sitting, ev: e.ItemRemoved, at: int) -> Sitting:
    fallen = set(ev.motions)
    return replace(
        s,
        agenda=tuple(i for i in s.agenda if i.id != ev.item),
        queue=tuple(r for r in s.queue if r.item != ev.item),
        motions={k: m for k, m in s.motions.items() if k not in fallen},
        documents={
            h: replace(d, item=None) if d.item == ev.item else d for h, d in s.documents.items()
        },
    )


def _guest(s: Sitting, ev: e.GuestAdded, at: int) -> Sitting:
    return replace(s, guests={**s.guests, ev.guest.id: ev.guest})


def _presence(s: Sitting, ev: e.PresenceChanged, at: int) -> Sitting:
    excuses = {m: why for m, why in s.excuses.items() if m != ev.member}
    if ev.presence is Presence.EXCUSED:
        excuses[ev.member] = ev.note
    return replace(s, attendance={**s.attendance, ev.member: ev.presence}, excuses=excuses)


def _requested(s: Sitting, ev: e.FloorRequested, at: int) -> Sitting:
    if ev.position is None:
        return replace(s, queue=(*s.queue, ev.request))
    queue = list(s.queue)
    queue.insert(ev.position, ev.request)
    return replace(s, queue=tuple(queue))


def _withdrawn(s: Sitting, ev: e.RequestWithdrawn, at: int) -> Sitting:
    return replace(s, queue=tuple(r for r in s.queue if r.id != ev.request))


def _turn_started(s: Sitting, ev: e.TurnStarted, at: int) -> Sitting:
    turn = ev.turn
    key = speech_key(turn.item, turn.speaker, turn.kind)
    queue = s.queue if ev.request is None else tuple(r for r in s.queue if r.id != ev.request)
    rounds = s.rounds
    if turn.round is not None and turn.round in rounds:
        r = rounds[turn.round]
        if turn.kind is TurnKind.ANSWER:
            r = replace(r, answered=True)
            queue = tuple(q for q in queue if q.round != r.id)
        else:
            r = replace(r, questions=(*r.questions, turn.id))
        rounds = {**rounds, r.id: r}
    return replace(
        s,
        queue=queue,
        rounds=rounds,
        turns={**s.turns, turn.id: turn},
        speeches={**s.speeches, key: s.speeches.get(key, 0) + 1},
    )


def _update_turn(s: Sitting, turn: Turn) -> Sitting:
    return replace(s, turns={**s.turns, turn.id: turn})


def _paused(s: Sitting, ev: e.TurnPaused, at: int) -> Sitting:
    turn = s.turns[ev.turn]
    return _update_turn(
        s,
        replace(
            turn,
            status=TurnStatus.PAUSED,
            elapsed_ms=ev.elapsed_ms,
            remaining_ms=ev.remaining_ms,
            deadline=None,
        ),
    )


def _resumed(s: Sitting, ev: e.TurnResumed, at: int) -> Sitting:
    turn = s.turns[ev.turn]
    return _update_turn(
        s, replace(turn, status=TurnStatus.SPEAKING, since=at, deadline=ev.deadline)
    )


def _extended(s: Sitting, ev: e.TurnExtended, at: int) -> Sitting:
    turn = s.turns[ev.turn]
    extra = ev.seconds * 1000
    return _update_turn(
        s,
        replace(
            turn,
            deadline=ev.deadline,
            limit_ms=ev.limit_ms,
            remaining_ms=turn.remaining_ms + extra
            if turn.status is TurnStatus.PAUSED
            else turn.remaining_ms,
        ),
    )


def _ended(s: Sitting, ev: e.TurnEnded, at: int) -> Sitting:
    turns = {k: v for k, v in s.turns.items() if k != ev.turn}
    spoken = s.speaking_ms.get(ev.speaker, 0) + ev.elapsed_ms
    return replace(s, turns=turns, speaking_ms={**s.speaking_ms, ev.speaker: spoken})


def _round_opened(s: Sitting, ev: e.RoundOpened, at: int) -> Sitting:
    return replace(s, rounds={**s.rounds, ev.round.id: ev.round})


def _round_closed(s: Sitting, ev: e.RoundClosed, at: int) -> Sitting:
    r = replace(s.rounds[ev.round], answered=True)
    queue = tuple(q for q in s.queue if q.round != r.id)
    return replace(s, rounds={**s.rounds, r.id: r}, queue=queue)


def _document(s: Sitting, ev: e.DocumentRegistered, at: int) -> Sitting:
    return replace(s, documents={**s.documents, ev.doc.hash: ev.doc})


def _presented(s: Sitting, ev: e.PresentationChanged, at: int) -> Sitting:
    if ev.doc is None:
        return replace(s, presentation=None)
    return replace(s, presentation=Presentation(doc=ev.doc, page=ev.page, by=ev.by))


def _motion(s: Sitting, ev: e.MotionProposed, at: int) -> Sitting:
    return replace(s, motions={**s.motions, ev.motion.id: ev.motion})


def _amended(s: Sitting, ev: e.MotionAmended, at: int) -> Sitting:
    m = s.motions[ev.motion]
    amended = replace(m, doc=ev.doc, version=ev.version, history=(*m.history, ev.doc))
    return replace(s, motions={**s.motions, m.id: amended})


def _update_vote(s: Sitting, vote: Vote) -> Sitting:
    return replace(s, votes={**s.votes, vote.id: vote})


def _vote_opened(s: Sitting, ev: e.VoteOpened, at: int) -> Sitting:
    return _update_vote(s, replace(ev.vote, item=s.current_item))


def _add(counts: dict[str, dict[str, int]], answers: dict[str, str], sign: int) -> None:
    for question, option in answers.items():
        per = counts.get(question)
        if per is None:  # a projection hid the counts: a ballot seen does not reveal them
            continue
        per[option] = per.get(option, 0) + sign


def _ballot(s: Sitting, ev: e.BallotCast, at: int) -> Sitting:
    vote = s.votes[ev.vote]
    if ev.answers is None:  # secret: the choice is in the ballot box, not here
        return _update_vote(s, replace(vote, voted=vote.voted | {ev.member}))
    counts = {q: dict(per) for q, per in vote.counts.items()}
    previous = vote.ballots.get(ev.member)
    if previous is not None:
        _add(counts, previous, -1)
    _add(counts, ev.answers, 1)
    return _update_vote(
        s,
        replace(
            vote,
            voted=vote.voted | {ev.member},
            ballots={**vote.ballots, ev.member: ev.answers},
            counts=counts,
        ),
    )


def _vote_closed(s: Sitting, ev: e.VoteClosed, at: int) -> Sitting:
    vote = s.votes[ev.vote]
    counts = {o.question: dict(o.counts) for o in ev.result.outcomes}
    closed = replace(vote, status=VoteStatus.CLOSED, result=ev.result, counts=counts, closed_at=at)
    return _update_vote(s, closed)


def _vote_cancelled(s: Sitting, ev: e.VoteCancelled, at: int) -> Sitting:
    vote = s.votes[ev.vote]
    counts = vote.counts
    if vote.form is VoteForm.SECRET:  # the ballot box of a void vote is discarded unread
        counts = {q: dict.fromkeys(per, 0) for q, per in counts.items()}
    return _update_vote(s, replace(vote, status=VoteStatus.CANCELLED, counts=counts, closed_at=at))


APPLIERS: dict[type[Any], Callable[[Sitting, Any, int], Sitting]] = {
    e.PhaseChanged: _phase,
    e.ItemAdded: _item_added,
    e.AgendaReordered: _reordered,
    e.CurrentItemChanged: _current,
    e.ItemRemoved: _item_removed,
    e.GuestAdded: _guest,
    e.PresenceChanged: _presence,
    e.FloorRequested: _requested,
    e.RequestWithdrawn: _withdrawn,
    e.TurnStarted: _turn_started,
    e.TurnPaused: _paused,
    e.TurnResumed: _resumed,
    e.TurnExtended: _extended,
    e.TurnEnded: _ended,
    e.RoundOpened: _round_opened,
    e.RoundClosed: _round_closed,
    e.DocumentRegistered: _document,
    e.PresentationChanged: _presented,
    e.MotionProposed: _motion,
    e.MotionAmended: _amended,
    e.VoteOpened: _vote_opened,
    e.BallotCast: _ballot,
    e.VoteClosed: _vote_closed,
    e.VoteCancelled: _vote_cancelled,
}


def apply_secret(s: Sitting, ballot: SecretBallot) -> Sitting:
    """Put a secret choice in the ballot box (the vote's counts), apart from the log."""
    vote = s.votes[ballot.vote]
    counts = {q: dict(per) for q, per in vote.counts.items()}
    _add(counts, ballot.answers, 1)
    return _update_vote(s, replace(vote, counts=counts))
