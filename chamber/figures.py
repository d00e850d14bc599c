"""The figures the consoles show, computed by the core: one truth for the rules.

A console renders these and never computes a rule of procedure itself: the quorum and
whether it is met, the number a threshold needs, whether the members present can reach
it, a vote's counts with their shares of the total seats and of those present, who is
present and has not voted, who is absent. ``figures(state, audience)`` gives what one
audience may see: the counts of a vote only where ``chamber.projection.counts_shown``
allows them (never a secret vote's while open, the hall's running count as the rules of
procedure say), and the chair's set-up figures (each preset's and each offered threshold's
number needed) to the chair only.

Shares are integers in basis points (hundredths of a per cent, rounded half up), so that
every console prints the same digits: 5333 is 53.33 %.
"""

from __future__ import annotations

from msgspec import UNSET, Struct

from chamber.ids import Base, Comparison, Unreachable, VoteId, VoteKind, VoteStatus
from chamber.model import Result, Sitting, Vote
from chamber.projection import Audience, counts_shown
from chamber.rules import FRACTIONS, Rules, Threshold
from chamber.tally import base_count, cast_count, reachable_needed

BASIS = 10_000  # basis points in a whole


def share_bp(count: int, whole: int) -> int:
    """``count`` as a share of ``whole`` in basis points, rounded half up; 0 of nothing."""
    if whole <= 0:
        return 0
    return (2 * BASIS * count + whole) // (2 * whole)


class Need(Struct, frozen=True, kw_only=True):
    """What a threshold needs in the sitting as it stands, before a vote is opened."""

    threshold: Threshold
    needed: int | None  # None: a share of the votes cast, known only once they are cast
    short: int | None  # the number needed when those present cannot reach it, else None
    refuses: bool  # whether opening a vote out of reach is refused (else it is warned of)


def need(threshold: Threshold, state: Sitting, refuses: bool) -> Need:
    total, present = state.council.total_seats, state.present_count()
    needed = None
    if threshold.base is not Base.CAST:
        needed = threshold.needed(base_count(threshold, total, present, 0))
    short = reachable_needed(threshold, total, present)
    return Need(threshold=threshold, needed=needed, short=short, refuses=refuses)


class OptionFigures(Struct, frozen=True, kw_only=True):
    option: str
    count: int
    of_seats_bp: int  # share of the total seats
    of_present_bp: int  # share of the members present (at the close, once closed)


class QuestionFigures(Struct, frozen=True, kw_only=True):
    """One line of a ballot: its counts (empty where the audience may not see them)."""

    question: str
    options: tuple[OptionFigures, ...]
    status: str = ""  # once closed, the result's: passed, failed, elected, tied, ...


class VoteFigures(Struct, frozen=True, kw_only=True):
    """A vote's figures: while open, as the sitting stands; once closed, at the close."""

    vote: VoteId
    status: VoteStatus
    verdict: str  # open, cancelled, passed, failed, elected, tied, unfilled, none, polled
    closed_at: int | None
    total_seats: int
    present: int
    voted: int  # ballots cast
    not_voted: int  # members present who have not voted
    absent: int  # seats without a member present (vacant seats included)
    voted_of_seats_bp: int
    voted_of_present_bp: int
    base_count: int | None  # None while a share of votes cast the audience cannot count
    needed: int | None
    short: int | None  # open: the number needed if out of reach of those present
    counts: bool  # whether this audience is shown the counts
    questions: tuple[QuestionFigures, ...]


class Setup(Struct, frozen=True, kw_only=True):
    """The chair's figures for opening a vote: each preset's, each threshold offered, an
    election's and a confidence poll's."""

    presets: dict[str, Need]
    choices: tuple[Need, ...]
    election: Need
    confidence_resign: Need
    confidence_no_confidence: Need


class Figures(Struct, frozen=True, kw_only=True):
    total_seats: int
    present: int
    absent: int
    quorum_needed: int
    quorate: bool
    running_count: bool  # whether the hall sees a named vote's running count
    vote: VoteFigures | None  # the latest vote: the open one, else the last opened
    setup: Setup | None = None  # the chair only


def _options(
    vote: Vote, counts: dict[str, int], total: int, present: int
) -> tuple[OptionFigures, ...]:
    return tuple(
        OptionFigures(
            option=o,
            count=counts.get(o, 0),
            of_seats_bp=share_bp(counts.get(o, 0), total),
            of_present_bp=share_bp(counts.get(o, 0), present),
        )
        for o in vote.options
    )


def _verdict(vote: Vote, result: Result) -> str:
    if vote.kind is VoteKind.MOTION:
        return "passed" if result.passed else "failed"
    if vote.kind is VoteKind.CONFIDENCE:
        return "polled"
    if result.tied:
        return "tied"
    if not result.elected:
        return "none"
    return "elected" if result.passed else "unfilled"


def _closed(vote: Vote, result: Result) -> VoteFigures:
    """A closed vote, at its close: its counts are public record."""
    total, present = result.total_seats, result.present
    status = {o.question: o.status for o in result.outcomes}
    questions = tuple(
        QuestionFigures(
            question=o.question,
            options=_options(vote, o.counts, total, present),
            status=status[o.question],
        )
        for o in result.outcomes
    )
    return VoteFigures(
        vote=vote.id,
        status=vote.status,
        verdict=_verdict(vote, result),
        closed_at=None if vote.closed_at is UNSET else vote.closed_at,
        total_seats=total,
        present=present,
        voted=result.ballots,
        not_voted=result.not_voting_count(),
        absent=max(0, total - present),
        voted_of_seats_bp=share_bp(result.ballots, total),
        voted_of_present_bp=share_bp(result.ballots, present),
        base_count=result.base_count,
        needed=result.needed,
        short=None,
        counts=True,
        questions=questions,
    )


def _running(vote: Vote, state: Sitting, shown: bool) -> VoteFigures:
    """An open or cancelled vote, as the sitting stands now."""
    total, present = state.council.total_seats, state.present_count()
    voted = len(vote.voted)
    voters_present = sum(1 for m in vote.voted if state.is_present(m))
    threshold = vote.rule.threshold
    first = vote.counts.get(vote.questions[0].id, {}) if shown else None
    base: int | None = None
    if threshold.base is not Base.CAST:
        base = base_count(threshold, total, present, 0)
    elif vote.kind is VoteKind.MOTION and first is not None:
        base = cast_count(first)
    elif vote.kind is not VoteKind.MOTION:  # an election counts the ballots as cast
        base = voted
    is_open = vote.status is VoteStatus.OPEN
    return VoteFigures(
        vote=vote.id,
        status=vote.status,
        verdict=vote.status.value,
        closed_at=None if vote.closed_at is UNSET else vote.closed_at,
        total_seats=total,
        present=present,
        voted=voted,
        not_voted=present - voters_present,
        absent=max(0, total - present),
        voted_of_seats_bp=share_bp(voted, total),
        voted_of_present_bp=share_bp(voted, present),
        base_count=base,
        needed=None if base is None else threshold.needed(base),
        short=reachable_needed(threshold, total, present) if is_open else None,
        counts=shown,
        questions=tuple(
            QuestionFigures(
                question=q.id,
                options=_options(vote, vote.counts.get(q.id, {}), total, present) if shown else (),
            )
            for q in vote.questions
        ),
    )


def vote_figures(vote: Vote, state: Sitting, audience: Audience) -> VoteFigures:
    if vote.result is not None:  # closed
        return _closed(vote, vote.result)
    return _running(vote, state, counts_shown(vote, state.rules, audience))


def latest_vote(state: Sitting) -> Vote | None:
    """The vote the consoles show: the one opened last (an open vote is: no other opens
    while it is); of two opened at the same instant, the later one."""
    return next(reversed(state.votes.values()), None)  # the votes in the order opened


def _choices(rules: Rules, state: Sitting) -> tuple[Need, ...]:
    fractions = list(FRACTIONS)
    for preset in rules.presets.values():
        th = preset.rule.threshold
        if (th.num, th.den) not in fractions:
            fractions.append((th.num, th.den))
    return tuple(
        need(Threshold(base=base, num=num, den=den, comparison=comparison), state, False)
        for num, den in fractions
        for base in Base
        for comparison in Comparison
    )


def setup(state: Sitting) -> Setup:
    rules = state.rules
    return Setup(
        presets={
            pid: need(p.rule.threshold, state, p.unreachable is Unreachable.REFUSE)
            for pid, p in rules.presets.items()
        },
        choices=_choices(rules, state),
        # An election refuses to open out of reach; a confidence poll only warns.
        election=need(rules.election, state, True),
        confidence_resign=need(rules.confidence_resign, state, False),
        confidence_no_confidence=need(rules.confidence_no_confidence, state, False),
    )


def figures(state: Sitting, audience: Audience) -> Figures:
    total, present = state.council.total_seats, state.present_count()
    vote = latest_vote(state)
    return Figures(
        total_seats=total,
        present=present,
        absent=max(0, total - present),
        quorum_needed=state.quorum_needed(),
        quorate=state.quorate(),
        running_count=state.rules.running_count,
        vote=None if vote is None else vote_figures(vote, state, audience),
        setup=setup(state) if audience is Audience.CHAIR else None,
    )
