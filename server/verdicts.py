"""Verdicts in words: a finished vote's ``Result`` rendered through the catalogue.

The sentence states the rule it applied, e.g. "32 of 60 seats voted in favour; more than
half of the total seats (31) needed: PASSED".
"""

from __future__ import annotations

from typing import Protocol

from chamber.ids import VoteKind
from chamber.model import Result
from chamber.rules import PassRule, Threshold
from server.i18n import catalogue, t


def threshold_words(threshold: Threshold, lang: str) -> str:
    key = f"fraction.{threshold.num}/{threshold.den}"
    fraction = (
        t(key, lang)
        if key in catalogue(lang)
        else t("fraction.other", lang, num=threshold.num, den=threshold.den)
    )
    return t(
        "threshold",
        lang,
        comparison=t(f"comparison.{threshold.comparison.value}", lang),
        fraction=fraction,
        base=t(f"base.{threshold.base.value}", lang),
    )


class HasRule(Protocol):
    """A vote, or a vote as the minutes tell it (chamber/minutes.py): what has a rule."""

    @property
    def rule(self) -> PassRule: ...


def verdict_lines(vote: HasRule, result: Result, lang: str, names: dict[str, str]) -> list[str]:
    """One line for a motion; one per candidate or official otherwise."""
    if result.kind is VoteKind.MOTION:
        outcome = result.outcomes[0]
        return [
            t(
                "verdict.motion",
                lang,
                count=outcome.approvals,
                base_count=result.base_count,
                base_unit=t(f"verdict.unit.{result.threshold.base.value}", lang),
                option=t(f"option.{vote.rule.option}", lang).lower(),
                threshold=threshold_words(result.threshold, lang),
                needed=result.needed,
                outcome=t("verdict.passed" if result.passed else "verdict.failed", lang),
            )
        ]
    if result.kind is VoteKind.ELECTION:
        return [
            t(
                "verdict.candidate",
                lang,
                name=names.get(o.question, o.question),
                count=o.approvals,
                total=result.total_seats,
                needed=result.needed,
                outcome=t(f"verdict.{o.status}", lang),
            )
            for o in result.outcomes
        ]
    return [
        t(
            "verdict.official",
            lang,
            name=names.get(o.question, o.question),
            high=o.counts.get("high", 0),
            confident=o.counts.get("confident", 0),
            low=o.counts.get("low", 0),
            note=t(f"verdict.{o.status}", lang) if o.status else "",
        )
        for o in result.outcomes
    ]
