"""The minutes in words and blocks: ``compose(minutes, lang)`` lays the document model of
chamber/minutes.py out as a header, a title, sections of paragraphs and tables, the
signature blocks and an annex, in the order of an administrative document of Decree
30/2020/NĐ-CP. The PDF (Typst) and DOCX renderers only typeset these blocks, so both say
exactly the same."""

from __future__ import annotations

from dataclasses import dataclass, field

from chamber.ids import TurnKind, VoteKind, VoteStatus
from chamber.minutes import Attended, Minutes, VoteRecord, present_members
from server.i18n import t
from server.record import words as w


@dataclass(frozen=True)
class Para:
    text: str
    style: str = ""  # "", "bold", "italic", "center"
    kind: str = "para"


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1
    kind: str = "heading"


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[int, ...]  # relative
    align: tuple[str, ...]  # "left", "center", "right" per column
    kind: str = "table"


Block = Para | Heading | Table


@dataclass(frozen=True)
class Signature:
    role: str
    hint: str
    name: str


@dataclass(frozen=True)
class Document:
    lang: str
    authority: tuple[str, ...]
    number: str
    motto: tuple[str, str]
    place_date: str
    draft: str  # the draft mark, "" for final minutes
    title: str
    subtitle: str
    blocks: list[Block] = field(default_factory=list)
    signatures: tuple[Signature, ...] = ()
    annex_title: str = ""
    annex: list[Block] = field(default_factory=list)
    footer: str = ""


ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII")


def _attendance(m: Minutes, lang: str) -> list[Block]:
    out: list[Block] = []
    opened = (
        t(
            "record.opened",
            lang,
            present=m.present_at_open,
            seats=m.total_seats,
            needed=m.quorum_needed,
        )
        if m.present_at_open is not None
        else t("record.not_opened", lang)
    )
    out.append(Para(t("record.seats", lang, seats=m.total_seats) + " " + opened))
    out.append(
        Para(
            t(
                "record.attendance.counts",
                lang,
                in_hall=m.count(Attended.IN_HALL),
                remote=m.count(Attended.REMOTE),
                present=present_members(m),
                excused=m.count(Attended.EXCUSED),
                absent=m.count(Attended.ABSENT),
            ),
            "bold",
        )
    )
    rows = []
    for n, a in enumerate(m.attendance, start=1):
        notes = []
        if a.note:
            notes.append(a.note)
        if a.left_at is not None:
            notes.append(t("record.left_at", lang, clock=w.clock(a.left_at, lang)))
        rows.append(
            (str(n), a.name, a.seat, t(f"record.attended.{a.status.value}", lang), "; ".join(notes))
        )
    out.append(
        Table(
            columns=tuple(
                t(f"record.col.{c}", lang) for c in ("no", "name", "seat", "status", "note")
            ),
            rows=tuple(rows),
            widths=(3, 13, 4, 10, 10),
            align=("center", "left", "center", "left", "left"),
        )
    )
    if m.guests:
        guests = "; ".join(
            f"{g.name} ({g.affiliation})" if g.affiliation else g.name for g in m.guests
        )
        out.append(Para(t("record.guests", lang, guests=guests)))
    return out


def _agenda(m: Minutes, lang: str) -> list[Block]:
    out: list[Block] = []
    for n, item in enumerate(m.agenda, start=1):
        line = f"{n}. {item.title}"
        if item.presenter:
            line += " " + t("record.presenter", lang, presenter=item.presenter)
        out.append(Para(line))
        for d in item.documents:
            out.append(
                Para(
                    "– "
                    + t("record.document", lang, title=d.title, version=d.version, pages=d.pages),
                    "italic",
                )
            )
    for d in m.other_documents:
        out.append(
            Para(
                "– " + t("record.document", lang, title=d.title, version=d.version, pages=d.pages),
                "italic",
            )
        )
    return out


def _proceedings(m: Minutes, lang: str) -> list[Block]:
    out: list[Block] = []
    times = [t("record.time.opened", lang, at=w.moment(m.opened_at, lang))] if m.opened_at else []
    for pause in m.suspensions:
        if pause.end is None:
            times.append(t("record.time.suspended_open", lang, start=w.clock(pause.start, lang)))
        else:
            times.append(
                t(
                    "record.time.suspended",
                    lang,
                    start=w.clock(pause.start, lang),
                    end=w.clock(pause.end, lang),
                )
            )
    if m.closed_at is not None:
        times.append(t("record.time.closed", lang, at=w.moment(m.closed_at, lang)))
    if times:
        out.append(Para(" ".join(times)))
    titles = {i.id: i.title for i in m.agenda}
    order = [i.id for i in m.agenda]
    for item in order + sorted({s.item for s in m.speeches} - set(order)):
        speeches = [s for s in m.speeches if s.item == item]
        rounds = [r for r in m.rounds if r.item == item]
        if not speeches and not rounds:
            continue
        out.append(Heading(titles.get(item, item), 2))
        rows = []
        for n, s in enumerate(speeches, start=1):
            who = f"{s.name} ({s.affiliation})" if s.affiliation else s.name
            note = (
                t(f"record.ended.{s.reason}", lang)
                if s.reason in ("expired", "suspended", "closed")
                else ""
            )
            if s.ended_at is None:
                note = t("record.ended.speaking", lang)
            rows.append(
                (
                    str(n),
                    who,
                    t(f"turn.{s.kind.value}", lang),
                    w.clock(s.started_at, lang),
                    w.duration(s.elapsed_ms, lang),
                    note,
                )
            )
        if rows:
            out.append(
                Table(
                    columns=tuple(
                        t(f"record.col.{c}", lang)
                        for c in ("no", "speaker", "turn", "start", "duration", "note")
                    ),
                    rows=tuple(rows),
                    widths=(3, 13, 8, 6, 7, 6),
                    align=("center", "left", "left", "center", "right", "left"),
                )
            )
        for r in rounds:
            askers = ", ".join(name for _, name in r.askers) or t("record.round.nobody", lang)
            state = t("record.round.answered" if r.answered else "record.round.unanswered", lang)
            out.append(
                Para(
                    t(
                        "record.round",
                        lang,
                        at=w.clock(r.opened_at, lang),
                        askers=askers,
                        respondent=r.respondent_name,
                        state=state,
                    )
                )
            )
    questions = sum(1 for s in m.speeches if s.kind is TurnKind.QUESTION)
    out.append(
        Para(
            t(
                "record.speeches.total",
                lang,
                turns=len(m.speeches),
                questions=questions,
                rounds=len(m.rounds),
            )
        )
    )
    return out


def _vote_table(v: VoteRecord, lang: str) -> Table:
    r = v.result
    assert r is not None
    if v.kind is VoteKind.MOTION:
        counts = r.outcomes[0].counts
        rows = tuple(
            (
                w.option(o, lang),
                str(counts.get(o, 0)),
                w.share(counts.get(o, 0), r.total_seats, lang),
                w.share(counts.get(o, 0), r.present, lang),
            )
            for o in v.options
        )
        rows += (
            (
                t("record.vote.ballots", lang),
                str(r.ballots),
                w.share(r.ballots, r.total_seats, lang),
                w.share(r.ballots, r.present, lang),
            ),
        )
        return Table(
            columns=tuple(
                t(f"record.col.{c}", lang) for c in ("option", "count", "of_seats", "of_present")
            ),
            rows=rows,
            widths=(6, 2, 3, 3),
            align=("left", "right", "right", "right"),
        )
    names = w.names_of(v)
    lines: list[tuple[str, ...]] = []
    for o in r.outcomes:
        cells = [names.get(o.question, o.question)]
        for code in v.options:
            n = o.counts.get(code, 0)
            cells.append(f"{n} ({w.share(n, r.total_seats, lang)})")
        cells.append(t(f"record.outcome.{o.status or 'none'}", lang))
        lines.append(tuple(cells))
    label = "candidate" if v.kind is VoteKind.ELECTION else "official"
    return Table(
        columns=(
            t(f"record.col.{label}", lang),
            *(w.option(o, lang) for o in v.options),
            t("record.col.result", lang),
        ),
        rows=tuple(lines),
        widths=(5, *([3] * len(v.options)), 5),
        align=("left", *(["right"] * len(v.options)), "left"),
    )


def _votes(m: Minutes, lang: str) -> list[Block]:
    out: list[Block] = []
    if not m.votes:
        return [Para(t("record.votes.none", lang))]
    for n, v in enumerate(m.votes, start=1):
        out.append(Heading(f"{n}. {t(f'kind.{v.kind.value}', lang)}: {v.title}", 2))
        facts = [
            t(
                "record.vote.facts",
                lang,
                form=t(f"form.{v.form.value}", lang),
                at=w.clock(v.opened_at, lang),
                present=v.present_at_open,
            )
        ]
        if v.motion is not None:
            facts.append(
                t(
                    "record.vote.text",
                    lang,
                    title=v.motion.doc_title or v.motion.title,
                    version=v.motion.version,
                )
            )
        if v.revote_of is not None:
            facts.append(t("record.vote.revote", lang))
        out.append(Para(" ".join(facts)))
        if v.status is VoteStatus.CLOSED:
            out.append(_vote_table(v, lang))
        for line in w.verdicts(v, lang):
            out.append(Para(line, "bold"))
    return out


def _speaking(m: Minutes, lang: str) -> list[Block]:
    if not m.speaking:
        return []
    rows = tuple(
        (str(n), name, w.duration(ms, lang)) for n, (_, name, ms) in enumerate(m.speaking, start=1)
    )
    return [
        Table(
            columns=tuple(t(f"record.col.{c}", lang) for c in ("no", "speaker", "total")),
            rows=rows,
            widths=(3, 20, 8),
            align=("center", "left", "right"),
        )
    ]


def _annex(m: Minutes, lang: str) -> list[Block]:
    out: list[Block] = []
    for n, v in enumerate(m.votes, start=1):
        if not v.roll_call:
            continue
        out.append(Heading(f"{n}. {v.title}", 2))
        rows = tuple(
            (
                str(i),
                r.name,
                r.seat,
                ", ".join(w.option(code, lang) for code in r.answers.values()),
            )
            for i, r in enumerate(v.roll_call, start=1)
        )
        out.append(
            Table(
                columns=tuple(t(f"record.col.{c}", lang) for c in ("no", "name", "seat", "choice")),
                rows=rows,
                widths=(3, 13, 4, 13),
                align=("center", "left", "center", "left"),
            )
        )
    return out


def compose(m: Minutes, lang: str) -> Document:
    sections = [
        ("attendance", _attendance(m, lang)),
        ("agenda", _agenda(m, lang)),
        ("proceedings", _proceedings(m, lang)),
        ("votes", _votes(m, lang)),
        ("speaking", _speaking(m, lang)),
    ]
    blocks: list[Block] = []
    if m.chair or m.secretary:
        blocks.append(
            Para(t("record.presiding", lang, chair=m.chair or "…", secretary=m.secretary or "…"))
        )
    n = 0
    for key, body in sections:
        if not body:
            continue
        blocks.append(Heading(f"{ROMAN[n]}. {t(f'record.section.{key}', lang)}"))
        blocks.extend(body)
        n += 1
    ending = (
        t("record.ending.closed", lang, at=w.moment(m.closed_at, lang))
        if m.closed_at is not None
        else t("record.ending.open", lang)
    )
    blocks.append(Para(ending))
    footer = t("record.footer", lang, count=m.records, head=m.head)
    if m.held_back is not None:
        footer += " " + t("record.footer.held_back", lang, seq=m.held_back.seq)
    blocks.append(Para(footer, "italic"))
    annex = _annex(m, lang)
    return Document(
        lang=lang,
        authority=w.authority(m),
        number=t("record.number", lang),
        motto=(t("record.motto.state", lang), t("record.motto.words", lang)),
        place_date=w.place_date(m, lang),
        draft="" if m.final else t("record.draft", lang),
        title=t("record.title", lang),
        subtitle=m.title,
        blocks=blocks,
        signatures=(
            Signature(t("record.sign.secretary", lang), t("record.sign.hint", lang), m.secretary),
            Signature(t("record.sign.chair", lang), t("record.sign.hint_seal", lang), m.chair),
        ),
        annex_title=t("record.annex", lang) if annex else "",
        annex=annex,
        footer=footer,
    )
