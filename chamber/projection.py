"""What each audience may see: the public gallery, a delegate, the chair.

Secret ballots: no projection carries the counts of an open secret vote (they are fed by
the ballot box and published only by ``VoteClosed``), and no event of a secret vote
carries a choice in the first place.

Events are *sparse* per audience: ``project_event`` returns None for an event the
audience does not see on its own (another member's ballot); its effect reaches that
audience through the conflated ``vote_view`` (ballots cast), at a bounded rate.

The log export follows the same rule (``project_log``): an audience gets the longest prefix
of the hash chain that holds no ballot event it is not sent, so what it gets still
verifies offline. A vote's ballot events become public record when the vote closes (its
result carries the roll call of a named vote; a secret one's only say who voted), and a
cancelled vote's when the sitting closes, so no revote is taken while the ballots of the
void one are known. A snapshot's ``head`` would let anyone test guesses of the ballots
held back (a ballot has few possible values), so an audience is sent the head only when
nothing is held back from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from msgspec import Struct
from msgspec.structs import replace

from chamber import events as e
from chamber.ids import MemberId, Phase, VoteForm, VoteId, VoteStatus
from chamber.log import HeldBack, Record
from chamber.model import Sitting, Vote
from chamber.rules import Rules


class Audience(StrEnum):
    PUBLIC = "public"  # gallery screens, the press: no login
    DELEGATE = "delegate"
    CHAIR = "chair"  # chair, vice-chair, secretary and operators


def running_count(vote: Vote, rules: Rules, audience: Audience) -> bool:
    """Whether ``audience`` is shown the running count of ``vote`` while it is open: never
    a secret vote's; a named vote's to the chair, and to the hall (the gallery and the
    delegates) unless the rules of procedure say otherwise (``hall_running_count``)."""
    if vote.form is VoteForm.SECRET:
        return False
    return audience is Audience.CHAIR or rules.running_count


def counts_shown(vote: Vote, rules: Rules, audience: Audience) -> bool:
    """Whether ``audience`` is shown the counts of ``vote``: everyone a closed vote's; an
    open one's as ``running_count`` says; a cancelled one's only the chair, and only a
    named one's (a void secret ballot box is discarded unread; the hall is not told how a
    void vote stood, so that no revote is taken with it known)."""
    if vote.status is VoteStatus.CLOSED:
        return True
    if vote.status is VoteStatus.OPEN:
        return running_count(vote, rules, audience)
    return audience is Audience.CHAIR and vote.form is VoteForm.OPEN


def _vote_for(vote: Vote, audience: Audience, member: MemberId | None) -> Vote:
    """A vote as ``audience`` sees it, consistent with the events it is sent: the chair
    gets every ballot event; anyone else only their own, so they see only their own
    participation (the public: none; the count of ballots comes in the conflated view,
    the named roll call in the result). The counts are those the events sent build: the
    chair's of a named vote; everyone's once it is closed (the hall's running count, where
    the rules show it, comes in the conflated view, never in the state)."""
    hide_counts = vote.status is not VoteStatus.CLOSED and (
        vote.form is VoteForm.SECRET or audience is not Audience.CHAIR
    )
    counts = {} if hide_counts else vote.counts
    if audience is Audience.CHAIR:
        return vote if not hide_counts else replace(vote, counts=counts)
    own = member is not None and member in vote.voted
    ballot = vote.ballots.get(member) if member is not None else None
    return replace(
        vote,
        counts=counts,
        voted=frozenset({member}) if own and member is not None else frozenset(),
        ballots={member: ballot} if ballot is not None and member is not None else {},
    )


def _sees_ballot(voter: MemberId, audience: Audience, member: MemberId | None) -> bool:
    """Whether ``audience`` is sent the ballot event of ``voter``: the chair every one,
    a delegate their own."""
    return audience is Audience.CHAIR or (member is not None and voter == member)


def _released(status: VoteStatus, phase: Phase) -> bool:
    """Whether a vote's ballot events are public record (see the module's docstring)."""
    return status is VoteStatus.CLOSED or (status is VoteStatus.CANCELLED and phase is Phase.CLOSED)


def _holds_back(state: Sitting, audience: Audience, member: MemberId | None) -> bool:
    """Whether ``project_log`` would stop short of this state's log for ``audience``."""
    return any(
        not _released(vote.status, state.phase)
        and any(not _sees_ballot(voter, audience, member) for voter in vote.voted)
        for vote in state.votes.values()
    )


def project_state(state: Sitting, audience: Audience, member: MemberId | None = None) -> Sitting:
    """The snapshot an audience is sent; its ``head`` is empty while part of the log is
    held back from it."""
    votes = {vid: _vote_for(v, audience, member) for vid, v in state.votes.items()}
    head = "" if _holds_back(state, audience, member) else state.head
    return replace(state, votes=votes, head=head)


class LogView(Struct, frozen=True, kw_only=True):
    """The part of a log an audience may have: records 1..n, whole and unaltered."""

    records: tuple[Record, ...]
    held_back: HeldBack | None = None  # None: the whole log


def project_log(
    records: Sequence[Record], audience: Audience, member: MemberId | None = None
) -> LogView:
    """The longest prefix of the log ``records`` (the whole of it, from seq 1) that holds
    no ballot event ``audience`` may not see yet: none of another member's ballot of a
    vote still open, or of a vote cancelled in a sitting not yet closed. The chair gets
    the whole log; a delegate also their own ballots."""
    status: dict[VoteId, VoteStatus] = {}
    phase = Phase.SCHEDULED
    for record in records:
        event = record.event
        if isinstance(event, e.VoteClosed):
            status[event.vote] = VoteStatus.CLOSED
        elif isinstance(event, e.VoteCancelled):
            status[event.vote] = VoteStatus.CANCELLED
        elif isinstance(event, e.PhaseChanged):
            phase = event.phase
    for n, record in enumerate(records):
        event = record.event
        if not isinstance(event, e.BallotCast) or _sees_ballot(event.member, audience, member):
            continue
        vote = status.get(event.vote, VoteStatus.OPEN)
        if not _released(vote, phase):
            reason = "vote.open" if vote is VoteStatus.OPEN else "vote.cancelled"
            held = HeldBack(seq=record.seq, reason=reason, vote=event.vote)
            return LogView(records=tuple(records[:n]), held_back=held)
    return LogView(records=tuple(records))


def project_event(
    event: e.AnyEvent, state: Sitting, audience: Audience, member: MemberId | None = None
) -> e.AnyEvent | None:
    """The event as ``audience`` sees it, or None if it sees only its conflated effect.
    ``state`` is the state after the event."""
    if isinstance(event, e.BallotCast):
        return event if _sees_ballot(event.member, audience, member) else None
    if isinstance(event, e.VoteOpened):
        return e.VoteOpened(vote=_vote_for(event.vote, audience, member), warning=event.warning)
    return event


class VoteView(Struct, frozen=True, kw_only=True):
    """The fast-changing view of an open vote, sent conflated."""

    vote: str
    ballots: int
    present: int
    voted: tuple[MemberId, ...] | None = None  # chair only: who has voted
    # Named votes only: the chair always, the hall as ``running_count`` says.
    counts: dict[str, dict[str, int]] | None = None


def vote_view(state: Sitting, audience: Audience) -> VoteView | None:
    vote = state.open_vote()
    if vote is None:
        return None
    chair = audience is Audience.CHAIR
    return VoteView(
        vote=vote.id,
        ballots=len(vote.voted),
        present=state.present_count(),
        voted=tuple(sorted(vote.voted)) if chair else None,
        counts=vote.counts if running_count(vote, state.rules, audience) else None,
    )
