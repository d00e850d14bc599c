"""Deciders for votes on motions, elections and confidence polls.

A vote's state machine, in one table::

    open ──cast──► open          (a second ballot only where the rule allows a change)
    open ──close / deadline──► closed (result and verdict)
    open ──cancel──► cancelled;  any ──revote──► a new open vote with the same settings
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from msgspec import UNSET
from msgspec.structs import replace

from chamber import commands as c
from chamber import events as e
from chamber.commands import Ctx
from chamber.decisions import NOTHING, Decision, acting_member, new_id, require_present
from chamber.errors import Refused
from chamber.events import SecretBallot
from chamber.ids import (
    APPROVE,
    CONFIDENT,
    HIGH,
    LOW,
    STRIKE,
    Role,
    Unreachable,
    VoteForm,
    VoteId,
    VoteKind,
    VoteStatus,
)
from chamber.model import Question, Sitting, Vote
from chamber.rules import PassRule
from chamber.tally import reachable_needed, result

VOTE_TRANSITIONS: dict[VoteStatus, frozenset[str]] = {
    VoteStatus.OPEN: frozenset({"vote.cast", "vote.close", "vote.cancel", "vote.revote"}),
    VoteStatus.CLOSED: frozenset({"vote.revote"}),
    VoteStatus.CANCELLED: frozenset({"vote.revote"}),
}
ELECTION_OPTIONS = (APPROVE, STRIKE)
CONFIDENCE_OPTIONS = (HIGH, CONFIDENT, LOW)


def _vote(s: Sitting, vote_id: VoteId, command: str) -> Vote:
    vote = s.votes.get(vote_id)
    if vote is None:
        raise Refused("vote.unknown", {"vote": vote_id})
    if command not in VOTE_TRANSITIONS[vote.status]:
        raise Refused("vote.closed", {"vote": vote_id, "state": vote.status.value})
    return vote


def _opened(s: Sitting, ctx: Ctx, vote: Vote, index: int = 0) -> Decision:
    """Open ``vote`` now. Refuse (or warn, by rule) when the members present cannot reach
    the threshold."""
    threshold = vote.rule.threshold
    if threshold.den <= 0 or not 0 < threshold.num <= threshold.den:
        raise Refused("vote.bad_rule")
    if s.open_vote() is not None:
        raise Refused("vote.already_open")
    if vote.duration_s is not None and vote.duration_s <= 0:
        raise Refused("vote.bad_duration", {"seconds": vote.duration_s})
    present = s.present_count()
    needed = reachable_needed(threshold, s.council.total_seats, present)
    warning = ""
    if needed is not None:
        if vote.unreachable is Unreachable.REFUSE:
            raise Refused("vote.unreachable", {"present": present, "needed": needed})
        warning = "vote.unreachable"
    opened = replace(
        vote,
        id=VoteId(new_id(s, "v", index)),
        opened_at=ctx.now,
        deadline=None if vote.duration_s is None else ctx.now + vote.duration_s * 1000,
        present_at_open=present,
        status=VoteStatus.OPEN,
        voted=frozenset(),
        ballots={},
        counts={q.id: dict.fromkeys(vote.options, 0) for q in vote.questions},
        result=None,
        closed_at=UNSET,
    )
    return Decision((e.VoteOpened(vote=opened, warning=warning),))


def open_vote(s: Sitting, cmd: c.OpenVote, ctx: Ctx) -> Decision:
    motion = s.motions.get(cmd.motion)
    if motion is None:
        raise Refused("motion.unknown", {"motion": cmd.motion})
    preset = s.rules.presets.get(cmd.preset)
    if preset is None:
        raise Refused("vote.unknown_preset", {"preset": cmd.preset})
    rule = cmd.rule or preset.rule
    options = cmd.options or preset.options
    if rule.option not in options or len(set(options)) != len(options):
        raise Refused("vote.bad_rule")
    if len(options) < 2 or not set(options) <= set(preset.options):
        raise Refused("vote.bad_options", {"options": ", ".join(preset.options)})
    form = cmd.form or preset.form
    # A secret ballot cannot be changed: nothing records whose ballot it was.
    if form is VoteForm.SECRET and cmd.allow_change:
        raise Refused("vote.secret_no_change")
    allow_change = preset.allow_change if cmd.allow_change is None else cmd.allow_change
    vote = Vote(
        id=VoteId(""),
        kind=VoteKind.MOTION,
        title=cmd.title or motion.title,
        form=form,
        options=options,
        questions=(Question(id=motion.id, label=motion.title),),
        rule=rule,
        allow_change=allow_change and form is VoteForm.OPEN,
        opened_at=ctx.now,
        deadline=None,
        duration_s=cmd.duration_s or preset.duration_s,
        unreachable=preset.unreachable,
        motion=motion.id,
        text_hash=motion.doc,
        text_version=motion.version,
    )
    return _opened(s, ctx, vote)


def _ballot_lines(lines: tuple[Question, ...]) -> tuple[Question, ...]:
    ids = [q.id for q in lines]
    if not lines or len(set(ids)) != len(ids):
        raise Refused("vote.bad_ballot_lines")
    return lines


def open_election(s: Sitting, cmd: c.OpenElection, ctx: Ctx) -> Decision:
    candidates = _ballot_lines(cmd.candidates)
    if not 1 <= cmd.positions <= len(candidates):
        raise Refused("election.bad_positions", {"positions": cmd.positions})
    vote = Vote(
        id=VoteId(""),
        kind=VoteKind.ELECTION,
        title=cmd.title,
        form=VoteForm.SECRET,
        options=ELECTION_OPTIONS,
        questions=candidates,
        rule=PassRule(threshold=s.rules.election, option=APPROVE),
        allow_change=False,
        opened_at=ctx.now,
        deadline=None,
        duration_s=cmd.duration_s or s.rules.election_duration_s,
        positions=cmd.positions,
    )
    return _opened(s, ctx, vote)


def open_confidence(s: Sitting, cmd: c.OpenConfidencePoll, ctx: Ctx) -> Decision:
    vote = Vote(
        id=VoteId(""),
        kind=VoteKind.CONFIDENCE,
        title=cmd.title,
        form=VoteForm.SECRET,
        options=CONFIDENCE_OPTIONS,
        questions=_ballot_lines(cmd.officials),
        rule=PassRule(threshold=s.rules.confidence_resign, option=LOW),
        allow_change=False,
        opened_at=ctx.now,
        deadline=None,
        duration_s=cmd.duration_s or s.rules.election_duration_s,
        unreachable=Unreachable.WARN,
    )
    return _opened(s, ctx, vote)


def _answers(vote: Vote, cmd: c.CastBallot) -> dict[str, str]:
    """Normalise a ballot to question → option, refusing anything incomplete or foreign."""
    if vote.kind is VoteKind.MOTION:
        if cmd.choice is None or cmd.choice not in vote.options:
            raise Refused("ballot.bad_choice", {"choice": cmd.choice or ""})
        return {vote.questions[0].id: cmd.choice}
    answers = cmd.answers or {}
    if set(answers) != {q.id for q in vote.questions}:
        raise Refused("ballot.incomplete")
    if any(option not in vote.options for option in answers.values()):
        raise Refused("ballot.bad_choice")
    if vote.kind is VoteKind.ELECTION:
        approved = sum(1 for option in answers.values() if option == APPROVE)
        if approved > vote.positions:
            raise Refused("ballot.too_many_approvals", {"positions": vote.positions})
    return dict(answers)


def cast(s: Sitting, cmd: c.CastBallot, ctx: Ctx) -> Decision:
    vote = _vote(s, cmd.vote, "vote.cast")
    if vote.deadline is not None and ctx.now >= vote.deadline:
        raise Refused("vote.closed", {"vote": vote.id, "state": "deadline"})
    member = acting_member(s, ctx)
    require_present(s, member)
    answers = _answers(vote, cmd)
    changed = member in vote.voted
    if changed:
        if not vote.allow_change or vote.form is VoteForm.SECRET:
            raise Refused("vote.already_voted", {"vote": vote.id})
        if vote.ballots.get(member) == answers:
            return NOTHING
    if vote.form is VoteForm.SECRET:
        return Decision(
            (e.BallotCast(vote=vote.id, member=member),),
            SecretBallot(vote=vote.id, answers=answers),
        )
    return Decision((e.BallotCast(vote=vote.id, member=member, answers=answers, changed=changed),))


def close(s: Sitting, cmd: c.CloseVote, ctx: Ctx) -> Decision:
    """The chair closes a vote, or the hub's timer does at the deadline (a no-op if the
    vote is already closed or the deadline has not come: timers may race)."""
    if ctx.role is Role.SYSTEM:
        vote = s.votes.get(cmd.vote)
        if vote is None or vote.status is not VoteStatus.OPEN:
            return NOTHING
        if vote.deadline is None or ctx.now < vote.deadline:
            return NOTHING
        reason = "expired"
    else:
        vote = _vote(s, cmd.vote, "vote.close")
        reason = "closed"
    outcome = result(vote, s.present_count(), s.council.total_seats, s.rules)
    voters_present = sum(1 for m in vote.voted if s.is_present(m))
    outcome = replace(outcome, not_voting=s.present_count() - voters_present)
    return Decision((e.VoteClosed(vote=vote.id, result=outcome, reason=reason),))


def cancel(s: Sitting, cmd: c.CancelVote, ctx: Ctx) -> Decision:
    vote = _vote(s, cmd.vote, "vote.cancel")
    return Decision((e.VoteCancelled(vote=vote.id, reason=cmd.reason),))


def revote(s: Sitting, cmd: c.Revote, ctx: Ctx) -> Decision:
    """Take the vote again with the same settings and fresh ballots; an open one is
    cancelled first."""
    old = _vote(s, cmd.vote, "vote.revote")
    events: list[e.AnyEvent] = []
    if old.status is VoteStatus.OPEN:
        events.append(e.VoteCancelled(vote=old.id, reason="revote"))
        s = replace(s, votes={**s.votes, old.id: replace(old, status=VoteStatus.CANCELLED)})
    fresh = replace(old, revote_of=old.id, duration_s=cmd.duration_s or old.duration_s)
    motion = s.motions.get(old.motion) if old.motion is not None else None
    if motion is not None:  # taken on the text as it stands now, which may have been amended
        fresh = replace(fresh, text_hash=motion.doc, text_version=motion.version)
    opened = _opened(s, ctx, fresh, index=len(events))
    return Decision((*events, *opened.events))


DECIDERS: dict[type[Any], Callable[[Sitting, Any, Ctx], Decision]] = {
    c.OpenVote: open_vote,
    c.OpenElection: open_election,
    c.OpenConfidencePoll: open_confidence,
    c.CastBallot: cast,
    c.CloseVote: close,
    c.CancelVote: cancel,
    c.Revote: revote,
}
