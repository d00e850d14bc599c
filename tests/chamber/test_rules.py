"""Rules of procedure as data: thresholds, speaking limits and the vote presets."""

from __future__ import annotations

import pytest

from chamber.ids import (
    ABSTAIN,
    APPROVE,
    REJECT,
    Base,
    Comparison,
    TurnKind,
    Unreachable,
    VoteForm,
)
from chamber.rules import (
    DEFAULT_RULES,
    MORE_THAN_HALF_OF_CAST,
    MORE_THAN_HALF_OF_SEATS,
    PRESETS,
    TWO_THIRDS_OF_SEATS,
    SpeakingLimits,
    Threshold,
)

MORE, LEAST = Comparison.MORE_THAN, Comparison.AT_LEAST


def th(num: int, den: int, comparison: Comparison, base: Base = Base.TOTAL_SEATS) -> Threshold:
    return Threshold(base=base, num=num, den=den, comparison=comparison)


@pytest.mark.parametrize(
    ("num", "den", "comparison", "base_count", "needed"),
    [
        (1, 2, MORE, 60, 31),  # more than half of 60
        (2, 3, LEAST, 60, 40),  # at least two thirds of 60
        (1, 2, MORE, 7, 4),
        (1, 2, MORE, 0, 1),  # more than half of nothing cast: one
        (1, 2, MORE, 1, 1),
        (1, 2, MORE, 2, 2),
        (1, 2, LEAST, 60, 30),
        (1, 2, LEAST, 7, 4),
        (2, 3, LEAST, 30, 20),
        (2, 3, LEAST, 31, 21),
        (2, 3, MORE, 30, 21),
        (2, 3, MORE, 31, 21),
        (3, 4, LEAST, 14, 11),
        (1, 1, LEAST, 25, 25),  # unanimity
        (1, 1, MORE, 25, 26),  # more than all: out of reach
        (2, 3, LEAST, 0, 1),  # never carried by no approval at all
        (1, 2, LEAST, 0, 1),
    ],
)
def test_needed_is_exact_integer_arithmetic(
    num: int, den: int, comparison: Comparison, base_count: int, needed: int
) -> None:
    for base in Base:
        threshold = th(num, den, comparison, base)
        assert threshold.needed(base_count) == needed
        assert threshold.met(needed, base_count)
        assert not threshold.met(needed - 1, base_count)


@pytest.mark.parametrize(
    ("threshold", "seats", "needed"),
    [
        (TWO_THIRDS_OF_SEATS, 60, 40),
        (TWO_THIRDS_OF_SEATS, 30, 20),
        (MORE_THAN_HALF_OF_SEATS, 60, 31),
        (MORE_THAN_HALF_OF_SEATS, 30, 16),
        (MORE_THAN_HALF_OF_CAST, 0, 1),
    ],
)
def test_named_thresholds(threshold: Threshold, seats: int, needed: int) -> None:
    assert threshold.needed(seats) == needed


@pytest.mark.parametrize(
    ("kind", "earlier", "seconds"),
    [
        (TurnKind.CONTRIBUTION, 0, 420),  # first contribution: 7 minutes
        (TurnKind.CONTRIBUTION, 1, 180),  # next ones: 3 minutes
        (TurnKind.CONTRIBUTION, 5, 180),
        (TurnKind.DEBATE_REPLY, 0, 180),
        (TurnKind.DEBATE_REPLY, 3, 180),
        (TurnKind.QUESTION, 0, 120),
        (TurnKind.ANSWER, 0, 300),
        (TurnKind.POINT_OF_ORDER, 0, 60),
        (TurnKind.EXPLANATION, 0, 600),
        (TurnKind.EXPLANATION, 2, 600),
    ],
)
def test_default_speaking_limits(kind: TurnKind, earlier: int, seconds: int) -> None:
    assert SpeakingLimits().limit_s(kind, earlier) == seconds


@pytest.mark.parametrize(
    ("kind", "earlier", "seconds"),
    [
        (TurnKind.CONTRIBUTION, 0, 300),
        (TurnKind.CONTRIBUTION, 1, 100),
        (TurnKind.DEBATE_REPLY, 0, 90),
        (TurnKind.QUESTION, 0, 45),
        (TurnKind.ANSWER, 0, 240),
        (TurnKind.POINT_OF_ORDER, 0, 30),
        (TurnKind.EXPLANATION, 0, 900),
    ],
)
def test_speaking_limits_are_configuration(kind: TurnKind, earlier: int, seconds: int) -> None:
    limits = SpeakingLimits(
        contribution_first_s=300,
        contribution_next_s=100,
        debate_reply_s=90,
        question_s=45,
        answer_s=240,
        point_of_order_s=30,
        explanation_s=900,
    )
    assert limits.limit_s(kind, earlier) == seconds


@pytest.mark.parametrize(
    ("preset", "form", "base", "num", "den", "comparison", "change", "unreachable"),
    [
        ("resolution", VoteForm.OPEN, Base.TOTAL_SEATS, 1, 2, MORE, False, Unreachable.REFUSE),
        ("dismissal", VoteForm.SECRET, Base.TOTAL_SEATS, 2, 3, LEAST, False, Unreachable.REFUSE),
        ("majority_cast", VoteForm.OPEN, Base.CAST, 1, 2, MORE, True, Unreachable.WARN),
    ],
)
def test_presets(
    preset: str,
    form: VoteForm,
    base: Base,
    num: int,
    den: int,
    comparison: Comparison,
    change: bool,
    unreachable: Unreachable,
) -> None:
    p = PRESETS[preset]
    assert (p.id, p.form, p.options, p.allow_change, p.unreachable, p.duration_s) == (
        preset,
        form,
        (APPROVE, REJECT, ABSTAIN),
        change,
        unreachable,
        60,
    )
    assert p.rule.option == APPROVE
    assert p.rule.threshold == th(num, den, comparison, base)
    assert DEFAULT_RULES.presets[preset] == p


def test_default_rules() -> None:
    r = DEFAULT_RULES
    assert (r.quorum, r.quorum_to_open, r.max_open_mics) == (TWO_THIRDS_OF_SEATS, True, 2)
    assert (r.election, r.election_duration_s) == (MORE_THAN_HALF_OF_SEATS, 300)
    assert (r.confidence_resign, r.confidence_no_confidence) == (
        MORE_THAN_HALF_OF_SEATS,
        TWO_THIRDS_OF_SEATS,
    )
    assert r.presets is not PRESETS  # each Rules holds its own copy
