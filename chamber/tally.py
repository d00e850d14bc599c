"""Results of finished votes: pure arithmetic over counts and the rule that applies.

The verdict states the rule it applied: the result carries the threshold, its base, the
base count and the number needed, so the words ("32 of 60 seats voted tán thành; more
than half of the total seats (31) needed: PASSED") can be rendered from it in any
language without recomputing anything.
"""

from __future__ import annotations

from chamber.ids import ABSTAIN, APPROVE, HIGH, LOW, Base, VoteForm, VoteKind
from chamber.model import Outcome, Result, Vote
from chamber.rules import Rules, Threshold


def base_count(threshold: Threshold, total_seats: int, present: int, cast: int) -> int:
    return {Base.TOTAL_SEATS: total_seats, Base.PRESENT: present, Base.CAST: cast}[threshold.base]


def cast_count(counts: dict[str, int]) -> int:
    """Votes cast: every ballot except "không biểu quyết" (abstain)."""
    return sum(n for option, n in counts.items() if option != ABSTAIN)


def reachable_needed(threshold: Threshold, total_seats: int, present: int) -> int | None:
    """At vote opening: the count needed if it is out of reach of the members present,
    else None. With a base of votes cast, any present member can carry it."""
    best_cast = present
    needed = threshold.needed(base_count(threshold, total_seats, present, best_cast))
    return needed if needed > present else None


def motion_result(vote: Vote, present: int, total_seats: int) -> Result:
    question = vote.questions[0].id
    counts = dict(vote.counts.get(question, {}))
    threshold = vote.rule.threshold
    base = base_count(threshold, total_seats, present, cast_count(counts))
    needed = threshold.needed(base)
    approvals = counts.get(vote.rule.option, 0)
    passed = approvals >= needed
    outcome = Outcome(
        question=question,
        counts=counts,
        approvals=approvals,
        passed=passed,
        status="passed" if passed else "failed",
    )
    return Result(
        kind=vote.kind,
        ballots=len(vote.voted),
        present=present,
        total_seats=total_seats,
        threshold=threshold,
        base_count=base,
        needed=needed,
        outcomes=(outcome,),
        passed=passed,
        roll_call=dict(vote.ballots) if vote.form is VoteForm.OPEN else None,
    )


def election_result(vote: Vote, present: int, total_seats: int) -> Result:
    """Elected: approved by more than half of the total seats, highest first within the
    positions. A tie at the last position is reported, never broken silently."""
    threshold = vote.rule.threshold
    base = base_count(threshold, total_seats, present, len(vote.voted))
    needed = threshold.needed(base)
    approvals = {q.id: vote.counts.get(q.id, {}).get(APPROVE, 0) for q in vote.questions}
    qualified = sorted(
        (q.id for q in vote.questions if approvals[q.id] >= needed),
        key=lambda cid: -approvals[cid],
    )
    elected: list[str] = qualified
    tied: list[str] = []
    if len(qualified) > vote.positions:
        boundary = approvals[qualified[vote.positions - 1]]
        above = [cid for cid in qualified if approvals[cid] > boundary]
        at_boundary = [cid for cid in qualified if approvals[cid] == boundary]
        if len(above) + len(at_boundary) > vote.positions:
            elected, tied = above, at_boundary
        else:  # pragma: no cover - impossible: boundary is the positions-th highest
            elected = qualified[: vote.positions]
    outcomes = tuple(
        Outcome(
            question=q.id,
            counts=dict(vote.counts.get(q.id, {})),
            approvals=approvals[q.id],
            passed=q.id in elected,
            status="elected" if q.id in elected else "tied" if q.id in tied else "not_elected",
        )
        for q in vote.questions
    )
    return Result(
        kind=vote.kind,
        ballots=len(vote.voted),
        present=present,
        total_seats=total_seats,
        threshold=threshold,
        base_count=base,
        needed=needed,
        outcomes=outcomes,
        passed=len(elected) == vote.positions,
        elected=tuple(elected),
        tied=tuple(tied),
    )


def confidence_result(vote: Vote, present: int, total_seats: int, rules: Rules) -> Result:
    """Per official: high / confident / low. More than half of the total rating "low" lets
    the official resign; at least two thirds puts them to a vote of no confidence."""
    resign = rules.confidence_resign
    base = base_count(resign, total_seats, present, len(vote.voted))
    needed = resign.needed(base)
    hard = rules.confidence_no_confidence
    hard_needed = hard.needed(base_count(hard, total_seats, present, len(vote.voted)))
    outcomes = []
    for q in vote.questions:
        counts = dict(vote.counts.get(q.id, {}))
        low = counts.get(LOW, 0)
        status = (
            "no_confidence_vote" if low >= hard_needed else "may_resign" if low >= needed else ""
        )
        outcomes.append(
            Outcome(
                question=q.id,
                counts=counts,
                approvals=counts.get(HIGH, 0),
                passed=status == "",
                status=status,
            )
        )
    return Result(
        kind=vote.kind,
        ballots=len(vote.voted),
        present=present,
        total_seats=total_seats,
        threshold=resign,
        base_count=base,
        needed=needed,
        outcomes=tuple(outcomes),
        passed=all(o.passed for o in outcomes),
    )


def result(vote: Vote, present: int, total_seats: int, rules: Rules) -> Result:
    if vote.kind is VoteKind.ELECTION:
        return election_result(vote, present, total_seats)
    if vote.kind is VoteKind.CONFIDENCE:
        return confidence_result(vote, present, total_seats, rules)
    return motion_result(vote, present, total_seats)
