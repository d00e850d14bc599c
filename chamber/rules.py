"""Rules of procedure as data: quorum, pass thresholds, vote forms and speaking limits.

Presets follow the Law on the Organisation of Local Government (Luật Tổ chức chính quyền
địa phương) and National Assembly practice; every figure is configuration, not a branch.
"""

from __future__ import annotations

from typing import Annotated

from msgspec import UNSET, Struct, UnsetType, field

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
from chamber.limits import OPTIONS_BOUND, PRESETS_BOUND, Id, Option, Small


class Threshold(Struct, frozen=True, kw_only=True):
    """A fraction of a base, compared strictly ("more than") or not ("at least")."""

    base: Base
    num: Small
    den: Small
    comparison: Comparison

    def needed(self, base_count: int) -> int:
        """The smallest count that satisfies the threshold for ``base_count``.

        More than half of 60 is 31; at least two thirds of 60 is 40; more than half of 7
        is 4. Integer arithmetic only, so no rounding surprises. Never less than one: "at
        least half" of no votes cast is not carried by no approval at all.
        """
        product = base_count * self.num
        if self.comparison is Comparison.MORE_THAN:
            return product // self.den + 1
        return max(1, -(-product // self.den))

    def met(self, count: int, base_count: int) -> bool:
        return count >= self.needed(base_count)


class PassRule(Struct, frozen=True, kw_only=True):
    """When a motion passes: ``option`` counts against ``threshold``."""

    threshold: Threshold
    option: Option = APPROVE


class VotePreset(Struct, frozen=True, kw_only=True):
    """A named set of vote settings the chair starts from."""

    id: Id
    form: VoteForm
    options: Annotated[tuple[Option, ...], OPTIONS_BOUND]
    rule: PassRule
    allow_change: bool = False
    unreachable: Unreachable = Unreachable.REFUSE
    duration_s: Small | None = 60


class SpeakingLimits(Struct, frozen=True, kw_only=True):
    """Seconds per kind of turn (National Assembly practice by default)."""

    contribution_first_s: Small = 7 * 60
    contribution_next_s: Small = 3 * 60
    debate_reply_s: Small = 3 * 60
    question_s: Small = 2 * 60
    answer_s: Small = 5 * 60
    point_of_order_s: Small = 60
    explanation_s: Small = 10 * 60

    def limit_s(self, kind: TurnKind, earlier_turns: int) -> int:
        """The limit of a turn of ``kind`` for a speaker with ``earlier_turns`` of that kind
        on the same agenda item (the first contribution is longer than the next ones)."""
        if kind is TurnKind.CONTRIBUTION:
            return self.contribution_first_s if earlier_turns == 0 else self.contribution_next_s
        return {
            TurnKind.DEBATE_REPLY: self.debate_reply_s,
            TurnKind.QUESTION: self.question_s,
            TurnKind.ANSWER: self.answer_s,
            TurnKind.POINT_OF_ORDER: self.point_of_order_s,
            TurnKind.EXPLANATION: self.explanation_s,
        }[kind]


# "Kỳ họp Hội đồng nhân dân được tiến hành khi có ít nhất hai phần ba tổng số đại biểu
# Hội đồng nhân dân tham gia." (Law on the Organisation of Local Government)
TWO_THIRDS_OF_SEATS = Threshold(base=Base.TOTAL_SEATS, num=2, den=3, comparison=Comparison.AT_LEAST)
# "... phải được quá nửa tổng số đại biểu Hội đồng nhân dân biểu quyết tán thành."
MORE_THAN_HALF_OF_SEATS = Threshold(
    base=Base.TOTAL_SEATS, num=1, den=2, comparison=Comparison.MORE_THAN
)
MORE_THAN_HALF_OF_CAST = Threshold(base=Base.CAST, num=1, den=2, comparison=Comparison.MORE_THAN)

MOTION_OPTIONS = (APPROVE, REJECT, ABSTAIN)

# The fractions a chair is offered when changing a vote's threshold (a preset's own is
# offered too when it is another); with every base and comparison (chamber/figures.py).
FRACTIONS: tuple[tuple[int, int], ...] = ((1, 2), (2, 3), (3, 4))

PRESETS: dict[str, VotePreset] = {
    # A resolution passes with more than half of the total number of delegates.
    "resolution": VotePreset(
        id="resolution",
        form=VoteForm.OPEN,
        options=MOTION_OPTIONS,
        rule=PassRule(threshold=MORE_THAN_HALF_OF_SEATS),
    ),
    # Dismissal (bãi nhiệm) of a delegate needs at least two thirds of the total.
    "dismissal": VotePreset(
        id="dismissal",
        form=VoteForm.SECRET,
        options=MOTION_OPTIONS,
        rule=PassRule(
            threshold=Threshold(base=Base.TOTAL_SEATS, num=2, den=3, comparison=Comparison.AT_LEAST)
        ),
    ),
    # Generic: a majority of the votes cast (abstentions are not votes cast).
    "majority_cast": VotePreset(
        id="majority_cast",
        form=VoteForm.OPEN,
        options=MOTION_OPTIONS,
        rule=PassRule(threshold=MORE_THAN_HALF_OF_CAST),
        allow_change=True,
        unreachable=Unreachable.WARN,
    ),
}


class Rules(Struct, frozen=True, kw_only=True):
    """All the rules of procedure a sitting runs under."""

    quorum: Threshold = TWO_THIRDS_OF_SEATS
    quorum_to_open: bool = True
    speaking: SpeakingLimits = field(default_factory=SpeakingLimits)
    max_open_mics: Small = 2
    presets: Annotated[dict[Id, VotePreset], PRESETS_BOUND] = field(
        default_factory=lambda: dict(PRESETS)
    )
    # A candidate is elected with more than half of the total number of delegates.
    election: Threshold = MORE_THAN_HALF_OF_SEATS
    election_duration_s: Small | None = 300
    # Confidence poll (lấy phiếu tín nhiệm): more than half rating "low" lets the official
    # resign; at least two thirds rating "low" puts them to a vote of no confidence.
    confidence_resign: Threshold = MORE_THAN_HALF_OF_SEATS
    confidence_no_confidence: Threshold = TWO_THIRDS_OF_SEATS
    # Whether the hall (the gallery and the delegates) sees a named vote's running count
    # while it is open; off, it sees only how many have voted. Unset means on: a field
    # added after logs were first written is left out of the canonical encoding unless
    # set, so an older record re-encodes to the bytes it was hashed as.
    hall_running_count: bool | UnsetType = UNSET

    @property
    def running_count(self) -> bool:
        """Whether the hall sees a named vote's running count (on unless set off)."""
        return self.hall_running_count is not False


DEFAULT_RULES = Rules()
