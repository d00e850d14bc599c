"""The state of a sitting: plain immutable values.

A ``Sitting`` is replaced, never mutated; ``apply`` builds the next one sharing what did
not change. Mappings held here are never mutated after construction.
"""

from __future__ import annotations

from typing import Annotated

from msgspec import UNSET, Struct, UnsetType, field

from chamber.ids import (
    PRESENT,
    CouncilId,
    DocHash,
    ItemId,
    MemberId,
    MotionId,
    Phase,
    Presence,
    RequestId,
    Role,
    RoundId,
    SittingId,
    TurnId,
    TurnKind,
    TurnStatus,
    Unreachable,
    VoteForm,
    VoteId,
    VoteKind,
    VoteStatus,
)
from chamber.limits import GUESTS_BOUND, MEMBERS_BOUND, ROLES_BOUND, Id, Name, Seat, Small, Title
from chamber.rules import PassRule, Rules, Threshold


class Member(Struct, frozen=True, kw_only=True):
    id: MemberId
    name: Name
    seat: Seat = ""
    roles: Annotated[frozenset[Role], ROLES_BOUND] = frozenset({Role.DELEGATE})


class Guest(Struct, frozen=True, kw_only=True):
    """An invited guest: may be given the floor, never votes, never counts for quorum."""

    id: MemberId
    name: Name
    affiliation: Name = ""


class Council(Struct, frozen=True, kw_only=True):
    id: CouncilId
    name: Name
    total_seats: Small
    members: Annotated[tuple[Member, ...], MEMBERS_BOUND]
    guests: Annotated[tuple[Guest, ...], GUESTS_BOUND] = ()


class AgendaItem(Struct, frozen=True, kw_only=True):
    id: ItemId
    title: Title
    presenter: Name = ""


class Request(Struct, frozen=True, kw_only=True):
    """A request for the floor, waiting in the queue of its agenda item."""

    id: RequestId
    member: MemberId
    kind: TurnKind
    item: ItemId
    at: int
    round: RoundId | None = None
    note: str = ""


class Turn(Struct, frozen=True, kw_only=True):
    """A speaking turn that has been granted and has not ended.

    While speaking, ``deadline`` is the instant the time runs out and ``elapsed_ms`` the
    time spoken before the last resume, counted from ``since``. While paused,
    ``deadline`` is None and ``remaining_ms`` holds what is left.
    """

    id: TurnId
    speaker: MemberId
    kind: TurnKind
    item: ItemId
    status: TurnStatus
    started_at: int
    since: int
    elapsed_ms: int
    limit_ms: int
    deadline: int | None
    remaining_ms: int
    round: RoundId | None = None


class QuestionRound(Struct, frozen=True, kw_only=True):
    """A questioning round (chất vấn): several questions, then the respondent answers."""

    id: RoundId
    item: ItemId
    respondent: MemberId
    questions: tuple[TurnId, ...] = ()
    answered: bool = False


class Document(Struct, frozen=True, kw_only=True):
    """A document by content hash; later versions name the series' first hash."""

    hash: DocHash
    title: str
    version: int = 1
    series: DocHash
    media_type: str = "application/pdf"
    pages: int = 1
    item: ItemId | None = None


class Presentation(Struct, frozen=True, kw_only=True):
    doc: DocHash
    page: int
    by: MemberId | None


class Motion(Struct, frozen=True, kw_only=True):
    id: MotionId
    item: ItemId | None
    title: str
    doc: DocHash
    version: int = 1
    history: tuple[DocHash, ...] = ()


class Question(Struct, frozen=True, kw_only=True):
    """One line of a ballot: the motion, a candidate, or an official."""

    id: Id
    label: Title  # a candidate's or an official's name, or the motion's title


class Vote(Struct, frozen=True, kw_only=True):
    """A vote on a motion, an election or a confidence poll, open or finished.

    ``ballots`` holds each named ballot (open form only). ``voted`` holds who has voted in
    either form: it refuses a second ballot and never carries a choice. ``counts`` is the
    tally per question and option; for a secret vote it is fed by the ballot box, never by
    the ordered log, until the vote closes.
    """

    id: VoteId
    kind: VoteKind
    title: str
    form: VoteForm
    options: tuple[str, ...]
    questions: tuple[Question, ...]
    rule: PassRule
    allow_change: bool
    opened_at: int
    deadline: int | None
    duration_s: int | None = None
    unreachable: Unreachable = Unreachable.REFUSE
    status: VoteStatus = VoteStatus.OPEN
    motion: MotionId | None = None
    text_hash: DocHash | None = None
    text_version: int | None = None
    positions: int = 1
    revote_of: VoteId | None = None
    present_at_open: int = 0
    voted: frozenset[MemberId] = frozenset()
    ballots: dict[MemberId, dict[str, str]] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    result: Result | None = None
    # When it was closed or cancelled (ms). Unset while open, and so never in the
    # canonical encoding of a ``VoteOpened`` record (older records re-encode unchanged).
    closed_at: int | UnsetType = UNSET
    # The agenda item that was current when it opened (None: no item was). Set by
    # ``apply`` from the state, never carried by the ``VoteOpened`` record (unset there,
    # so older records re-encode unchanged): a screen loaded after the vote can tell
    # whether its result belongs to the item now under way.
    item: ItemId | UnsetType | None = UNSET


class OptionCount(Struct, frozen=True, kw_only=True):
    option: str
    count: int


class Outcome(Struct, frozen=True, kw_only=True):
    """The result for one question of a ballot."""

    question: str
    counts: dict[str, int]
    approvals: int
    passed: bool
    # Election: "elected", "not_elected" or "tied"; confidence: "", "may_resign" or
    # "no_confidence_vote"; motion: "passed" or "failed".
    status: str


class Result(Struct, frozen=True, kw_only=True):
    """A finished vote: the counts and the rule applied, enough to state the verdict."""

    kind: VoteKind
    ballots: int
    present: int
    total_seats: int
    threshold: Threshold
    base_count: int
    needed: int
    outcomes: tuple[Outcome, ...]
    passed: bool
    elected: tuple[str, ...] = ()
    tied: tuple[str, ...] = ()
    roll_call: dict[MemberId, dict[str, str]] | None = None
    # Members present at the close who had not voted (a voter who left before the close is
    # in ``ballots`` but not in ``present``). Unset in records from before it was kept,
    # which re-encode unchanged: ``not_voting_count`` falls back to present - ballots.
    not_voting: int | UnsetType = UNSET

    def not_voting_count(self) -> int:
        if self.not_voting is not UNSET:
            return self.not_voting
        return max(0, self.present - self.ballots)


class Sitting(Struct, frozen=True, kw_only=True):
    """The whole state of one sitting, as rebuilt from its log."""

    id: SittingId
    council: Council
    title: str
    rules: Rules
    scheduled_at: int
    phase: Phase = Phase.SCHEDULED
    opened_at: int | None = None
    closed_at: int | None = None
    agenda: tuple[AgendaItem, ...] = ()
    current_item: ItemId | None = None
    roster: dict[MemberId, Member] = field(default_factory=dict)  # council.members by id
    attendance: dict[MemberId, Presence] = field(default_factory=dict)
    excuses: dict[MemberId, str] = field(default_factory=dict)  # the excused: the reason
    guests: dict[MemberId, Guest] = field(default_factory=dict)
    queue: tuple[Request, ...] = ()
    turns: dict[TurnId, Turn] = field(default_factory=dict)
    rounds: dict[RoundId, QuestionRound] = field(default_factory=dict)
    speaking_ms: dict[MemberId, int] = field(default_factory=dict)
    speeches: dict[str, int] = field(default_factory=dict)  # "item|member|kind" -> turns
    documents: dict[DocHash, Document] = field(default_factory=dict)
    presentation: Presentation | None = None
    motions: dict[MotionId, Motion] = field(default_factory=dict)
    votes: dict[VoteId, Vote] = field(default_factory=dict)
    seq: int = 0
    head: str = ""

    # Derived views. Cheap enough to compute on demand; never stored.

    def member(self, member_id: MemberId) -> Member | None:
        return self.roster.get(member_id)

    def present_count(self) -> int:
        return sum(1 for p in self.attendance.values() if p in PRESENT)

    def is_present(self, member_id: MemberId) -> bool:
        return self.attendance.get(member_id, Presence.ABSENT) in PRESENT

    def quorum_needed(self) -> int:
        return self.rules.quorum.needed(self.council.total_seats)

    def quorate(self) -> bool:
        return self.present_count() >= self.quorum_needed()

    def open_vote(self) -> Vote | None:
        for v in self.votes.values():
            if v.status is VoteStatus.OPEN:
                return v
        return None

    def item_queue(self, item: ItemId | None = None) -> tuple[Request, ...]:
        target = self.current_item if item is None else item
        return tuple(r for r in self.queue if r.item == target)
