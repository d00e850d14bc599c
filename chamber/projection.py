"""What each audience may see: the public gallery, a delegate, the chair.

Secret ballots: no projection carries the counts of an open secret vote (they are fed by
the ballot box and published only by ``VoteClosed``), and no event of a secret vote
carries a choice in the first place.

Events are *sparse* per audience: ``project_event`` returns None for an event the
audience does not see on its own (another member's ballot); its effect reaches that
audience through the conflated ``vote_view`` (ballots cast), at a bounded rate.
"""

from __future__ import annotations

from enum import StrEnum

from msgspec import Struct
from msgspec.structs import replace

from chamber import events as e
from chamber.ids import MemberId, VoteForm, VoteStatus
from chamber.model import Sitting, Vote


class Audience(StrEnum):
    PUBLIC = "public"  # gallery screens, the press: no login
    DELEGATE = "delegate"
    CHAIR = "chair"  # chair, vice-chair, secretary and operators


def _vote_for(vote: Vote, audience: Audience, member: MemberId | None) -> Vote:
    """A vote as ``audience`` sees it, consistent with the events it is sent: the chair
    gets every ballot event; anyone else only their own, so they see only their own
    participation (the public: none; the count of ballots comes in the conflated view,
    the named roll call in the result)."""
    hide_counts = vote.status is VoteStatus.OPEN and (
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


def project_state(state: Sitting, audience: Audience, member: MemberId | None = None) -> Sitting:
    """The snapshot an audience is sent."""
    votes = {vid: _vote_for(v, audience, member) for vid, v in state.votes.items()}
    return replace(state, votes=votes)


def project_event(
    event: e.AnyEvent, state: Sitting, audience: Audience, member: MemberId | None = None
) -> e.AnyEvent | None:
    """The event as ``audience`` sees it, or None if it sees only its conflated effect.
    ``state`` is the state after the event."""
    if isinstance(event, e.BallotCast):
        if audience is Audience.CHAIR or (member is not None and event.member == member):
            return event
        return None
    if isinstance(event, e.VoteOpened):
        return e.VoteOpened(vote=_vote_for(event.vote, audience, member), warning=event.warning)
    return event


class VoteView(Struct, frozen=True, kw_only=True):
    """The fast-changing view of an open vote, sent conflated."""

    vote: str
    ballots: int
    present: int
    voted: tuple[MemberId, ...] | None = None  # chair only: who has voted
    counts: dict[str, dict[str, int]] | None = None  # chair only, named votes only


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
        counts=vote.counts if chair and vote.form is VoteForm.OPEN else None,
    )
