"""The record after the sitting: the minutes (biên bản) as a document model.

``minutes(records)`` is a projection of the sitting's log like the others: a pure
function from the verified records to plain values that a renderer at the edge turns into
words and pages (server/record/). It reads no clock and no file; it checks the hash chain
first and refuses a log that does not verify, so nothing in the minutes is typed again or
taken on trust.

What it holds: the council and the sitting; when it opened, was suspended and closed;
attendance per member (in the hall, remote, excused with the reason, absent) with counts;
the agenda with its documents; every speaking turn with its kind and duration; the
questioning rounds (who asked whom); every vote with its result as the core decided it
(counts, the rule applied, the roll call of a named vote), and the chair and the
secretary who sign.

The records may be a prefix of the log (an audience's view, ``project_log``): then
``held_back`` says where it stops, and the minutes describe that prefix only. Ballot
events are never read for a choice: a vote's result comes from its ``vote.closed`` event,
which carries the roll call of a named vote and only the totals of a secret one.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from msgspec import Struct
from msgspec.structs import replace

from chamber import events as e
from chamber.errors import ChamberError
from chamber.ids import (
    DocHash,
    ItemId,
    MemberId,
    MotionId,
    Phase,
    Presence,
    Role,
    RoundId,
    TurnId,
    TurnKind,
    VoteForm,
    VoteId,
    VoteKind,
    VoteStatus,
)
from chamber.log import HeldBack, Record, apply, verify
from chamber.model import Document, Question, Result, Sitting, Turn
from chamber.rules import PassRule


class Attended(StrEnum):
    """How a member took part in the sitting, for the minutes."""

    IN_HALL = "in_hall"  # checked in in the hall at some time
    REMOTE = "remote"  # took part online only
    EXCUSED = "excused"  # vắng có lý do, never present
    ABSENT = "absent"  # vắng không có lý do


class Attendee(Struct, frozen=True, kw_only=True):
    member: MemberId
    name: str
    seat: str
    status: Attended
    note: str = ""  # the reason of an excuse
    left_at: int | None = None  # left before the end and did not come back


class Guest(Struct, frozen=True, kw_only=True):
    id: MemberId
    name: str
    affiliation: str


class Doc(Struct, frozen=True, kw_only=True):
    hash: DocHash
    title: str
    version: int
    pages: int
    media_type: str


class Item(Struct, frozen=True, kw_only=True):
    """An agenda item in its final order, with the documents registered for it."""

    id: ItemId
    title: str
    presenter: str
    documents: tuple[Doc, ...] = ()


class Speech(Struct, frozen=True, kw_only=True):
    turn: TurnId
    speaker: MemberId
    name: str
    affiliation: str  # a guest's; empty for a member
    kind: TurnKind
    item: ItemId
    started_at: int
    ended_at: int | None  # None: still speaking where the records end
    elapsed_ms: int
    reason: str  # how it ended: "ended", "expired", "suspended", "closed"; "" if it did not
    round: RoundId | None = None


class Round(Struct, frozen=True, kw_only=True):
    """A questioning round (chất vấn): who asked, whom, and whether it was answered."""

    id: RoundId
    item: ItemId
    opened_at: int
    respondent: MemberId
    respondent_name: str
    askers: tuple[tuple[MemberId, str], ...]
    answered: bool


class RollCall(Struct, frozen=True, kw_only=True):
    member: MemberId
    name: str
    seat: str
    answers: dict[str, str]


class Motion(Struct, frozen=True, kw_only=True):
    id: MotionId
    title: str
    doc: DocHash
    version: int
    doc_title: str


class VoteRecord(Struct, frozen=True, kw_only=True):
    """A vote as the minutes tell it: what was put, under which rule, and how it ended."""

    id: VoteId
    kind: VoteKind
    form: VoteForm
    title: str
    item: ItemId | None
    options: tuple[str, ...]
    questions: tuple[Question, ...]
    rule: PassRule
    positions: int
    opened_at: int
    present_at_open: int
    status: VoteStatus
    ended_at: int | None = None
    reason: str = ""  # of a cancellation, or "expired"
    revote_of: VoteId | None = None
    motion: Motion | None = None
    result: Result | None = None
    roll_call: tuple[RollCall, ...] = ()  # a named vote's, once closed


class Interval(Struct, frozen=True, kw_only=True):
    start: int
    end: int | None  # None: not over where the records end


class Minutes(Struct, frozen=True, kw_only=True):
    sitting: str
    council: str
    council_name: str
    total_seats: int
    title: str
    scheduled_at: int
    phase: Phase
    opened_at: int | None
    closed_at: int | None
    suspensions: tuple[Interval, ...]
    quorum_needed: int
    present_at_open: int | None
    attendance: tuple[Attendee, ...]
    guests: tuple[Guest, ...]
    agenda: tuple[Item, ...]
    other_documents: tuple[Doc, ...]  # registered for no agenda item
    speeches: tuple[Speech, ...]
    rounds: tuple[Round, ...]
    votes: tuple[VoteRecord, ...]
    speaking: tuple[tuple[MemberId, str, int], ...]  # (who, name, ms), longest first
    chair: str  # the name of the member who holds the chair role; "" if none
    secretary: str
    records: int
    head: str  # hash of the last record described
    held_back: HeldBack | None = None

    @property
    def final(self) -> bool:
        """Whether these are the minutes of a closed sitting, with nothing held back."""
        return self.phase is Phase.CLOSED and self.held_back is None

    def count(self, status: Attended) -> int:
        return sum(1 for a in self.attendance if a.status is status)


def _speech(
    state: Sitting, turn: Turn, ended_at: int | None, elapsed_ms: int, reason: str
) -> Speech:
    """A turn as the minutes list it (ended at ``ended_at``, or still speaking: None)."""
    name, affiliation = _name(state, turn.speaker)
    return Speech(
        turn=turn.id,
        speaker=turn.speaker,
        name=name,
        affiliation=affiliation,
        kind=turn.kind,
        item=turn.item,
        started_at=turn.started_at,
        ended_at=ended_at,
        elapsed_ms=elapsed_ms,
        reason=reason,
        round=turn.round,
    )


def _name(state: Sitting, who: MemberId) -> tuple[str, str]:
    """(name, affiliation) of a member or a guest (whoever may take the floor)."""
    member = state.roster.get(who)
    if member is not None:
        return member.name, ""
    guest = state.guests[who]
    return guest.name, guest.affiliation


def _doc(d: Document) -> Doc:
    return Doc(
        hash=d.hash, title=d.title, version=d.version, pages=d.pages, media_type=d.media_type
    )


def _attendance(
    state: Sitting, history: dict[MemberId, list[tuple[Presence, str, int]]]
) -> tuple[Attendee, ...]:
    out = []
    for m in sorted(state.council.members, key=lambda m: (m.seat, m.id)):
        seen = history.get(m.id, [])
        presences = {p for p, _, _ in seen}
        if Presence.IN_HALL in presences:
            status = Attended.IN_HALL
        elif Presence.REMOTE in presences:
            status = Attended.REMOTE
        elif seen and seen[-1][0] is Presence.EXCUSED:
            status = Attended.EXCUSED
        else:
            status = Attended.ABSENT
        note = seen[-1][1] if status is Attended.EXCUSED else ""
        final = state.attendance.get(m.id, Presence.ABSENT)
        left_at = seen[-1][2] if seen and final is Presence.LEFT else None
        out.append(
            Attendee(
                member=m.id, name=m.name, seat=m.seat, status=status, note=note, left_at=left_at
            )
        )
    return tuple(out)


def _roll_call(state: Sitting, result: Result) -> tuple[RollCall, ...]:
    if result.roll_call is None:
        return ()
    rows = []
    for member, answers in result.roll_call.items():
        m = state.roster[member]  # only members vote
        rows.append(RollCall(member=member, name=m.name, seat=m.seat, answers=dict(answers)))
    return tuple(sorted(rows, key=lambda r: (r.seat, r.member)))


def _holder(state: Sitting, role: Role) -> str:
    return next((m.name for m in state.council.members if role in m.roles), "")


def minutes(records: Sequence[Record], held_back: HeldBack | None = None) -> Minutes:
    """The minutes of the sitting whose log (or prefix of it) is ``records``.

    Raises ``ChamberError("log.unverified", …)`` if the records do not verify (an altered,
    missing or reordered record) and ``ChamberError("log.no_schedule")`` if they are empty
    or do not start with the sitting's schedule."""
    check = verify(records)
    if not check.ok:
        raise ChamberError("log.unverified", {"problem": check.problem, "seq": check.seq or 0})
    if not records:
        raise ChamberError("log.no_schedule")
    state: Sitting | None = None
    history: dict[MemberId, list[tuple[Presence, str, int]]] = {}
    speeches: list[Speech] = []
    started: dict[TurnId, int] = {}
    round_opened: dict[RoundId, int] = {}
    votes: dict[VoteId, VoteRecord] = {}
    suspensions: list[Interval] = []
    present_at_open: int | None = None
    for record in records:
        before = state
        state = apply(state, record)
        event, at = record.event, record.at
        if isinstance(event, e.PresenceChanged):
            history.setdefault(event.member, []).append((event.presence, event.note, at))
        elif isinstance(event, e.PhaseChanged):
            if event.phase is Phase.OPENED:
                present_at_open = state.present_count()
            elif event.phase is Phase.SUSPENDED:
                suspensions.append(Interval(start=at, end=None))
            elif suspensions and suspensions[-1].end is None:
                suspensions[-1] = Interval(start=suspensions[-1].start, end=at)
        elif isinstance(event, e.TurnStarted):
            started[event.turn.id] = at
        elif isinstance(event, e.TurnEnded):
            assert before is not None
            turn = before.turns[event.turn]
            speeches.append(_speech(state, turn, at, event.elapsed_ms, event.reason))
        elif isinstance(event, e.RoundOpened):
            round_opened[event.round.id] = at
        elif isinstance(event, e.VoteOpened):
            assert before is not None
            v = event.vote
            motion = None
            if v.motion is not None:
                mo = before.motions[v.motion]
                motion = Motion(
                    id=mo.id,
                    title=mo.title,
                    doc=mo.doc,
                    version=mo.version,
                    doc_title=before.documents[mo.doc].title,  # a motion's text is registered
                )
            votes[v.id] = VoteRecord(
                id=v.id,
                kind=v.kind,
                form=v.form,
                title=v.title,
                item=before.current_item,
                options=v.options,
                questions=v.questions,
                rule=v.rule,
                positions=v.positions,
                opened_at=at,
                present_at_open=v.present_at_open,
                status=VoteStatus.OPEN,
                revote_of=v.revote_of,
                motion=motion,
            )
        elif isinstance(event, e.VoteClosed):
            votes[event.vote] = replace(
                votes[event.vote],
                status=VoteStatus.CLOSED,
                ended_at=at,
                reason=event.reason,
                result=event.result,
                roll_call=_roll_call(state, event.result),
            )
        elif isinstance(event, e.VoteCancelled):
            votes[event.vote] = replace(
                votes[event.vote], status=VoteStatus.CANCELLED, ended_at=at, reason=event.reason
            )
    assert state is not None
    final = state
    for turn in final.turns.values():  # still speaking where the records end
        speeches.append(_speech(final, turn, None, turn.elapsed_ms, ""))
    by_turn = {s.turn: s for s in speeches}
    rounds = tuple(
        Round(
            id=r.id,
            item=r.item,
            opened_at=round_opened[r.id],
            respondent=r.respondent,
            respondent_name=_name(final, r.respondent)[0],
            askers=tuple(
                (by_turn[q].speaker, by_turn[q].name) for q in r.questions if q in by_turn
            ),
            answered=r.answered,
        )
        for r in final.rounds.values()
    )
    docs = sorted(final.documents.values(), key=lambda d: (d.series, d.version))
    agenda = tuple(
        Item(
            id=i.id,
            title=i.title,
            presenter=i.presenter,
            documents=tuple(_doc(d) for d in docs if d.item == i.id),
        )
        for i in final.agenda
    )
    items = {i.id for i in final.agenda}
    speaking = sorted(
        ((who, _name(final, who)[0], ms) for who, ms in final.speaking_ms.items()),
        key=lambda row: (-row[2], row[0]),
    )
    return Minutes(
        sitting=final.id,
        council=final.council.id,
        council_name=final.council.name,
        total_seats=final.council.total_seats,
        title=final.title,
        scheduled_at=final.scheduled_at,
        phase=final.phase,
        opened_at=final.opened_at,
        closed_at=final.closed_at,
        suspensions=tuple(suspensions),
        quorum_needed=final.quorum_needed(),
        present_at_open=present_at_open,
        attendance=_attendance(final, history),
        guests=tuple(
            Guest(id=g.id, name=g.name, affiliation=g.affiliation) for g in final.guests.values()
        ),
        agenda=agenda,
        other_documents=tuple(_doc(d) for d in docs if d.item not in items),
        speeches=tuple(sorted(speeches, key=lambda s: (s.started_at, s.turn))),
        rounds=rounds,
        votes=tuple(votes.values()),
        speaking=tuple(speaking),
        chair=_holder(final, Role.CHAIR),
        secretary=_holder(final, Role.SECRETARY),
        records=check.count,
        head=check.head,
        held_back=held_back,
    )


def present_members(minutes: Minutes) -> int:
    """Members who took part, in the hall or online."""
    return minutes.count(Attended.IN_HALL) + minutes.count(Attended.REMOTE)


__all__ = [
    "Attended",
    "Attendee",
    "Doc",
    "Guest",
    "Interval",
    "Item",
    "Minutes",
    "Motion",
    "RollCall",
    "Round",
    "Speech",
    "VoteRecord",
    "minutes",
    "present_members",
]
