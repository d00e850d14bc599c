"""Events: what happened. The log of a sitting is a sequence of these, sealed in records.

An event holds everything ``apply`` needs, so replay never consults rules or clocks.
No event of a secret vote carries a choice: ``BallotCast`` of a secret vote says only
that the member has voted; the choice goes to the ballot box (``SecretBallot``), which is
not ordered and not part of the log, until ``VoteClosed`` publishes the totals.
"""

from __future__ import annotations

from msgspec import Struct

from chamber.ids import (
    DocHash,
    ItemId,
    MemberId,
    MotionId,
    Phase,
    Presence,
    RequestId,
    RoundId,
    TurnId,
    VoteId,
    Withdrawal,
)
from chamber.model import (
    AgendaItem,
    Council,
    Document,
    Guest,
    Motion,
    QuestionRound,
    Request,
    Result,
    Turn,
    Vote,
)
from chamber.rules import Rules


class Event(Struct, frozen=True, kw_only=True, tag_field="type"):
    pass


class SittingScheduled(Event, frozen=True, tag="sitting.scheduled"):
    sitting: str
    council: Council
    title: str
    scheduled_at: int
    rules: Rules
    agenda: tuple[AgendaItem, ...]


class PhaseChanged(Event, frozen=True, tag="sitting.phase"):
    phase: Phase
    reason: str = ""


class ItemAdded(Event, frozen=True, tag="agenda.added"):
    item: AgendaItem
    position: int


class AgendaReordered(Event, frozen=True, tag="agenda.reordered"):
    order: tuple[ItemId, ...]


class CurrentItemChanged(Event, frozen=True, tag="agenda.current"):
    item: ItemId


class ItemRemoved(Event, frozen=True, tag="agenda.removed"):
    """An item struck from the agenda. ``motions`` are its motions, never voted on, that
    fall with it; its documents stay with the sitting, no longer filed under it."""

    item: ItemId
    motions: tuple[MotionId, ...] = ()


class GuestAdded(Event, frozen=True, tag="roster.guest_added"):
    guest: Guest


class PresenceChanged(Event, frozen=True, tag="attendance.changed"):
    member: MemberId
    presence: Presence
    note: str = ""


# Fields added after logs were first written are left out of the canonical encoding while
# they hold their default (``omit_defaults``), so an older record re-encodes to the bytes
# it was hashed as.


class FloorRequested(Event, frozen=True, tag="floor.requested", omit_defaults=True):
    request: Request
    position: int | None = None  # where it joins the queue (a point of order); None: last


class RequestWithdrawn(Event, frozen=True, tag="floor.withdrawn", omit_defaults=True):
    request: RequestId
    member: MemberId
    reason: Withdrawal | None = None  # None in records written before it was said


class TurnStarted(Event, frozen=True, tag="turn.started"):
    turn: Turn
    request: RequestId | None = None


class TurnPaused(Event, frozen=True, tag="turn.paused"):
    turn: TurnId
    elapsed_ms: int
    remaining_ms: int


class TurnResumed(Event, frozen=True, tag="turn.resumed"):
    turn: TurnId
    deadline: int


class TurnExtended(Event, frozen=True, tag="turn.extended"):
    turn: TurnId
    seconds: int
    deadline: int | None
    limit_ms: int


class TurnEnded(Event, frozen=True, tag="turn.ended"):
    turn: TurnId
    speaker: MemberId
    elapsed_ms: int
    reason: str  # "ended", "expired", "suspended", "closed"


class RoundOpened(Event, frozen=True, tag="round.opened"):
    round: QuestionRound


class RoundClosed(Event, frozen=True, tag="round.closed"):
    round: RoundId


class DocumentRegistered(Event, frozen=True, tag="doc.registered"):
    doc: Document


class PresentationChanged(Event, frozen=True, tag="doc.presented"):
    doc: DocHash | None
    page: int
    by: MemberId | None


class MotionProposed(Event, frozen=True, tag="motion.proposed"):
    motion: Motion


class MotionAmended(Event, frozen=True, tag="motion.amended"):
    motion: MotionId
    doc: DocHash
    version: int


class VoteOpened(Event, frozen=True, tag="vote.opened"):
    vote: Vote
    warning: str = ""  # e.g. "quorum.unreachable" when the rule only warns


class BallotCast(Event, frozen=True, tag="ballot.cast"):
    """A member voted. ``answers`` is None in a secret vote and never stored there."""

    vote: VoteId
    member: MemberId
    answers: dict[str, str] | None = None
    changed: bool = False


class VoteClosed(Event, frozen=True, tag="vote.closed"):
    vote: VoteId
    result: Result
    reason: str = "closed"  # or "expired"


class VoteCancelled(Event, frozen=True, tag="vote.cancelled"):
    vote: VoteId
    reason: str = ""


AnyEvent = (
    SittingScheduled
    | PhaseChanged
    | ItemAdded
    | AgendaReordered
    | CurrentItemChanged
    | ItemRemoved
    | GuestAdded
    | PresenceChanged
    | FloorRequested
    | RequestWithdrawn
    | TurnStarted
    | TurnPaused
    | TurnResumed
    | TurnExtended
    | TurnEnded
    | RoundOpened
    | RoundClosed
    | DocumentRegistered
    | PresentationChanged
    | MotionProposed
    | MotionAmended
    | VoteOpened
    | BallotCast
    | VoteClosed
    | VoteCancelled
)


class SecretBallot(Struct, frozen=True, kw_only=True):
    """A secret choice on its way to the ballot box. Never logged, never ordered, never
    stored with a member id: the journal adds it to per-option counters."""

    vote: VoteId
    answers: dict[str, str]
