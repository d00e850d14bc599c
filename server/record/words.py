"""The minutes' values in words: times in Viet Nam's time, durations, shares, the place
and date line, verdicts. Every string goes through the catalogue (server/locale/*/record.json)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from chamber.ids import VoteKind, VoteStatus
from chamber.minutes import Minutes, VoteRecord
from server.i18n import t
from server.verdicts import verdict_lines

# Viet Nam keeps UTC+7 all year (no daylight saving time since 1975): a fixed offset
# needs no time-zone database on the machine.
VIETNAM = timezone(timedelta(hours=7), "ICT")
AUTHORITY_PREFIX = "Hội đồng nhân dân "


def local(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(VIETNAM)


def clock(ms: int, lang: str) -> str:
    """ "07 giờ 10 phút" / "07:10"."""
    d = local(ms)
    return t("record.clock", lang, hour=f"{d.hour:02d}", minute=f"{d.minute:02d}")


def day(ms: int, lang: str) -> str:
    d = local(ms)
    return t("record.date", lang, day=f"{d.day:02d}", month=f"{d.month:02d}", year=d.year)


def moment(ms: int, lang: str) -> str:
    return t("record.moment", lang, clock=clock(ms, lang), date=day(ms, lang))


def duration(ms: int, lang: str) -> str:
    seconds = (ms + 500) // 1000
    return t("record.duration", lang, minutes=seconds // 60, seconds=f"{seconds % 60:02d}")


def share(count: int, base: int, lang: str) -> str:
    """A percentage with two decimals, rounded half up in integer arithmetic: 24 of 30 is
    "80,00%" in Vietnamese, "80.00%" in English; of nothing it is "–"."""
    if base <= 0:
        return "–"
    hundredths = (count * 20_000 + base) // (2 * base)
    text = f"{hundredths // 100}.{hundredths % 100:02d}%"
    return text.replace(".", ",") if lang == "vi" else text


def authority(m: Minutes) -> tuple[str, ...]:
    """The issuing authority's lines in the header: "HỘI ĐỒNG NHÂN DÂN" over the place."""
    name = m.council_name
    if name.startswith(AUTHORITY_PREFIX):
        return (AUTHORITY_PREFIX.strip().upper(), name[len(AUTHORITY_PREFIX) :].upper())
    return (name.upper(),)


def place(m: Minutes) -> str:
    """The place of the place-and-date line: the council's administrative unit."""
    name = m.council_name
    rest = name[len(AUTHORITY_PREFIX) :] if name.startswith(AUTHORITY_PREFIX) else name
    return rest[:1].upper() + rest[1:]


def place_date(m: Minutes, lang: str) -> str:
    d = local(m.opened_at if m.opened_at is not None else m.scheduled_at)
    return t(
        "record.place_date",
        lang,
        place=place(m),
        day=f"{d.day:02d}",
        month=f"{d.month:02d}",
        year=d.year,
    )


def names_of(vote: VoteRecord) -> dict[str, str]:
    return {q.id: q.label for q in vote.questions}


def verdicts(vote: VoteRecord, lang: str) -> list[str]:
    """The verdict sentences of a finished vote under the rule that applied; of an open or
    cancelled vote, why there is none."""
    if vote.status is VoteStatus.CANCELLED:
        reason = f" ({vote.reason})" if vote.reason else ""
        return [t("record.vote.cancelled", lang, reason=reason)]
    if vote.result is None:
        return [t("record.vote.open", lang)]
    lines = verdict_lines(vote, vote.result, lang, names_of(vote))
    if vote.kind is VoteKind.ELECTION:
        names = names_of(vote)
        if vote.result.elected:
            elected = ", ".join(names.get(c, c) for c in vote.result.elected)
            lines.append(t("record.election.elected", lang, names=elected))
        if vote.result.tied:
            tied = ", ".join(names.get(c, c) for c in vote.result.tied)
            lines.append(t("record.election.tied", lang, names=tied))
        if not vote.result.elected and not vote.result.tied:
            lines.append(t("record.election.none", lang))
    return lines


def option(code: str, lang: str) -> str:
    return t(f"option.{code}", lang)
