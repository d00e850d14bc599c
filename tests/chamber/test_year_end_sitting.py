"""A full year-end ward council sitting played through the core (the demo's script):
opening, attendance, a report, debate with replies, a questioning round, three
resolutions (one failing for want of the threshold though most of those present
approved), an election, a confidence poll, closing. Every verdict and every member's
speaking time is asserted."""

from __future__ import annotations

import hashlib

import pytest

from chamber import events as e
from chamber import replay, verify
from chamber.ids import Phase, VoteForm, VoteKind
from server.demo import Player


@pytest.fixture(scope="module")
def sitting() -> Player:
    player = Player()
    for _ in player.play():
        pass
    return player


def test_the_sitting_opens_with_quorum_and_closes(sitting: Player) -> None:
    s = sitting.state
    assert s.phase is Phase.CLOSED
    phases = [r.event.phase for r in sitting.records if isinstance(r.event, e.PhaseChanged)]
    assert phases == [Phase.OPENED, Phase.IN_SESSION, Phase.CLOSED]
    opened = next(r for r in sitting.records if isinstance(r.event, e.PhaseChanged))
    assert opened.at == s.opened_at
    # 26 in the hall, 1 remote, 2 excused, 1 absent at the opening: 27 of 30, 20 needed.
    assert s.quorum_needed() == 20


def _votes(sitting: Player) -> list:  # type: ignore[type-arg]
    return list(sitting.state.votes.values())


def test_resolution_on_the_budget_passes_on_its_amended_text(sitting: Player) -> None:
    budget = _votes(sitting)[0]
    assert (budget.kind, budget.form) == (VoteKind.MOTION, VoteForm.OPEN)
    assert budget.text_version == 2
    assert budget.text_hash == hashlib.sha256(b"nq-du-toan-2026-v2").hexdigest()
    result = budget.result
    assert result is not None
    assert result.outcomes[0].counts == {"approve": 24, "reject": 3, "abstain": 0}
    assert (result.base_count, result.needed, result.passed) == (30, 16, True)
    assert result.roll_call is not None and len(result.roll_call) == 27


def test_secret_resolution_passes_and_names_no_one(sitting: Player) -> None:
    works = _votes(sitting)[1]
    assert works.form is VoteForm.SECRET
    result = works.result
    assert result is not None
    assert result.outcomes[0].counts == {"approve": 24, "reject": 0, "abstain": 3}
    assert result.passed and result.roll_call is None
    ballots = [
        r.event
        for r in sitting.records
        if isinstance(r.event, e.BallotCast) and r.event.vote == works.id
    ]
    assert len(ballots) == 27 and all(b.answers is None for b in ballots)


def test_resolution_fails_for_want_of_the_threshold_though_most_present_approved(
    sitting: Player,
) -> None:
    park = _votes(sitting)[2].result
    assert park is not None
    assert park.present == 20
    assert park.outcomes[0].counts == {"approve": 15, "reject": 3, "abstain": 2}
    assert park.outcomes[0].approvals / park.present == 0.75
    assert (park.needed, park.passed) == (16, False)


def test_election_elects_the_candidate_over_half_the_seats(sitting: Player) -> None:
    election = _votes(sitting)[3]
    assert election.kind is VoteKind.ELECTION
    result = election.result
    assert result is not None
    assert result.elected == ("uv-1",) and result.tied == ()
    approvals = {o.question: o.approvals for o in result.outcomes}
    assert approvals == {"uv-1": 19, "uv-2": 7}
    assert result.needed == 16


def test_confidence_poll_flags_the_official_rated_low_by_over_half(sitting: Player) -> None:
    poll = _votes(sitting)[4]
    result = poll.result
    assert result is not None and poll.kind is VoteKind.CONFIDENCE
    by = {o.question: (o.counts, o.status) for o in result.outcomes}
    assert by["ct-ubnd"] == ({"high": 18, "confident": 8, "low": 0}, "")
    assert by["pct-ubnd"] == ({"high": 4, "confident": 6, "low": 16}, "may_resign")


def test_each_speakers_time_is_accumulated_exactly(sitting: Player) -> None:
    assert sitting.state.speaking_ms == {
        "kh-ubnd": 6 * 60_000 + 4 * 60_000,  # the report, then the answer
        "db09": 5 * 60_000,  # granted first, out of registration order
        "db05": 7 * 60_000,  # the timer ended the 7-minute first speech
        "db14": 4 * 60_000,  # ended by the chair within the 7-minute first speech
        "db06": 150_000,  # debate reply: 90 s, paused 30 s, 60 s more
        "db11": 100_000,  # question
        "db17": 100_000,  # question
    }


def test_the_log_verifies_and_replays_to_the_same_state(sitting: Player) -> None:
    assert verify(sitting.records).ok
    assert replay(sitting.records) == sitting.state
