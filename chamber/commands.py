"""Commands: what someone asks the sitting to do.

Each command is a tagged struct; the tag (``type``) is the name clients send and the key
of the permission table. Ids of new things (requests, turns, votes, ...) are not chosen by
clients: they are derived from the seq of the event that creates them.
"""

from __future__ import annotations

from typing import Annotated

from msgspec import Struct

from chamber.ids import (
    DocHash,
    ItemId,
    MemberId,
    MotionId,
    Occupied,
    RequestId,
    Role,
    RoundId,
    TurnId,
    TurnKind,
    VoteForm,
    VoteId,
)
from chamber.limits import (
    AGENDA_BOUND,
    MEMBERS_BOUND,
    OPTIONS_BOUND,
    QUESTIONS_BOUND,
    Id,
    MediaType,
    Millis,
    Name,
    Note,
    Option,
    Reason,
    Small,
    Title,
)
from chamber.model import AgendaItem, Council, Guest, Question
from chamber.rules import PassRule, Rules


class Ctx(Struct, frozen=True, kw_only=True):
    """Who acts, in which capacity, and when (ms since the epoch, UTC)."""

    actor: MemberId | None
    role: Role
    now: int


class Command(Struct, frozen=True, kw_only=True, tag_field="type"):
    pass


# Sitting lifecycle and agenda


class ScheduleSitting(Command, frozen=True, tag="sitting.schedule"):
    sitting: Id
    council: Council
    title: Title
    scheduled_at: Millis
    rules: Rules | None = None
    agenda: Annotated[tuple[AgendaItem, ...], AGENDA_BOUND] = ()


class OpenSitting(Command, frozen=True, tag="sitting.open"):
    pass


class StartSitting(Command, frozen=True, tag="sitting.start"):
    pass


class SuspendSitting(Command, frozen=True, tag="sitting.suspend"):
    reason: Reason = ""


class ResumeSitting(Command, frozen=True, tag="sitting.resume"):
    pass


class CloseSitting(Command, frozen=True, tag="sitting.close"):
    pass


class AddItem(Command, frozen=True, tag="agenda.add"):
    title: Title
    presenter: Name = ""
    position: Small | None = None


class ReorderAgenda(Command, frozen=True, tag="agenda.reorder"):
    order: Annotated[tuple[ItemId, ...], AGENDA_BOUND]


class MoveToItem(Command, frozen=True, tag="agenda.move"):
    item: ItemId


class RemoveItem(Command, frozen=True, tag="agenda.remove"):
    """Strike an item from the agenda: never the current one, nor one with a record
    (speeches, questioning rounds, votes on its motions)."""

    item: ItemId


class AddGuest(Command, frozen=True, tag="roster.add_guest"):
    guest: Guest


# Attendance


class CheckIn(Command, frozen=True, tag="attendance.check_in"):
    member: MemberId | None = None  # None: the actor themself


class JoinRemote(Command, frozen=True, tag="attendance.join_remote"):
    member: MemberId | None = None


class Leave(Command, frozen=True, tag="attendance.leave"):
    member: MemberId | None = None


class CheckInMany(Command, frozen=True, tag="attendance.check_in_many"):
    """A clerk checks in several members at once ("check in everyone present")."""

    members: Annotated[tuple[MemberId, ...], MEMBERS_BOUND]


class Excuse(Command, frozen=True, tag="attendance.excuse"):
    member: MemberId | None = None  # None: the actor themself
    reason: Reason = ""


# The floor


class RequestFloor(Command, frozen=True, tag="floor.request"):
    kind: TurnKind = TurnKind.CONTRIBUTION
    note: Note = ""


class WithdrawRequest(Command, frozen=True, tag="floor.withdraw"):
    request: RequestId


class GrantFloor(Command, frozen=True, tag="floor.grant"):
    """Grant a queued request, or give the floor directly to a member or guest (a room
    linked by video is a guest under its own id). ``limit_s`` overrides the rules' limit
    for the kind; ``occupied`` says what becomes of whoever is speaking."""

    request: RequestId | None = None
    speaker: MemberId | None = None
    kind: TurnKind = TurnKind.CONTRIBUTION
    limit_s: Small | None = None
    occupied: Occupied | None = None


class GrantNext(Command, frozen=True, tag="floor.next"):
    occupied: Occupied | None = None


class EndTurn(Command, frozen=True, tag="floor.end"):
    turn: TurnId


class PauseTurn(Command, frozen=True, tag="floor.pause"):
    turn: TurnId


class ResumeTurn(Command, frozen=True, tag="floor.resume"):
    turn: TurnId
    occupied: Occupied | None = None


class ExtendTurn(Command, frozen=True, tag="floor.extend"):
    turn: TurnId
    seconds: Small


class ExpireTurn(Command, frozen=True, tag="turn.expire"):
    """Submitted by the hub's timer; a no-op if the turn ended or was extended meanwhile."""

    turn: TurnId


class OpenRound(Command, frozen=True, tag="floor.round_open"):
    respondent: MemberId


class AnswerRound(Command, frozen=True, tag="floor.round_answer"):
    round: RoundId
    occupied: Occupied | None = None


class CloseRound(Command, frozen=True, tag="floor.round_close"):
    round: RoundId


# Documents and motions


class RegisterDocument(Command, frozen=True, tag="doc.register"):
    hash: DocHash
    title: Title
    pages: Small = 1
    media_type: MediaType = "application/pdf"
    item: ItemId | None = None
    supersedes: DocHash | None = None


class PresentDocument(Command, frozen=True, tag="doc.present"):
    doc: DocHash
    page: Small = 1


class StopPresenting(Command, frozen=True, tag="doc.stop"):
    pass


class ProposeMotion(Command, frozen=True, tag="motion.propose"):
    title: Title
    doc: DocHash
    item: ItemId | None = None


class AmendMotion(Command, frozen=True, tag="motion.amend"):
    motion: MotionId
    doc: DocHash


# Votes, elections, confidence polls


class OpenVote(Command, frozen=True, tag="vote.open"):
    """Open a vote on a motion from a preset, with any setting overridden."""

    motion: MotionId
    preset: Id = "resolution"
    title: Title | None = None
    form: VoteForm | None = None
    options: Annotated[tuple[Option, ...], OPTIONS_BOUND] | None = None
    rule: PassRule | None = None
    allow_change: bool | None = None
    duration_s: Small | None = None


class OpenElection(Command, frozen=True, tag="election.open"):
    title: Title
    positions: Small
    candidates: Annotated[tuple[Question, ...], QUESTIONS_BOUND]
    duration_s: Small | None = None


class OpenConfidencePoll(Command, frozen=True, tag="confidence.open"):
    title: Title
    officials: Annotated[tuple[Question, ...], QUESTIONS_BOUND]
    duration_s: Small | None = None


class CastBallot(Command, frozen=True, tag="vote.cast"):
    """A ballot: ``choice`` for a motion; ``answers`` (question → option) otherwise."""

    vote: VoteId
    choice: Option | None = None
    answers: Annotated[dict[Id, Option], QUESTIONS_BOUND] | None = None


class CloseVote(Command, frozen=True, tag="vote.close"):
    vote: VoteId


class CancelVote(Command, frozen=True, tag="vote.cancel"):
    vote: VoteId
    reason: Reason = ""


class Revote(Command, frozen=True, tag="vote.revote"):
    """Cancel a vote (if still open) and open a new one with the same settings."""

    vote: VoteId
    duration_s: Small | None = None


AnyCommand = (
    ScheduleSitting
    | OpenSitting
    | StartSitting
    | SuspendSitting
    | ResumeSitting
    | CloseSitting
    | AddItem
    | ReorderAgenda
    | MoveToItem
    | RemoveItem
    | AddGuest
    | CheckIn
    | CheckInMany
    | JoinRemote
    | Leave
    | Excuse
    | RequestFloor
    | WithdrawRequest
    | GrantFloor
    | GrantNext
    | EndTurn
    | PauseTurn
    | ResumeTurn
    | ExtendTurn
    | ExpireTurn
    | OpenRound
    | AnswerRound
    | CloseRound
    | RegisterDocument
    | PresentDocument
    | StopPresenting
    | ProposeMotion
    | AmendMotion
    | OpenVote
    | OpenElection
    | OpenConfidencePoll
    | CastBallot
    | CloseVote
    | CancelVote
    | Revote
)
