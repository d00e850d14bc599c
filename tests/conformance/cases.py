"""Conformance cases for the web client's reducer (clients/web/src/lib/reducer.ts), which
re-implements chamber/apply.py for the events a console is sent.

Each case is a log played through the core: the demo's year-end sitting (server/demo.py)
and seeded random command sequences (tests/chamber/play.py). For each audience (the
public, a delegate who votes, the chair) a case holds one frame per record: the events of
that record as the audience is sent them (``project_event``; none for another member's
ballot) and the state the audience would be sent as a snapshot right after it
(``project_state``). A reducer that follows the events must arrive at that snapshot after
every record, field by field; tests/conformance/reducer.test.mjs checks it.

``python -m tests.conformance.cases OUT.json`` writes the cases.
"""

from __future__ import annotations

import contextlib
import random
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec

from chamber import ChamberError, Record, Sitting
from chamber import commands as c
from chamber.ids import (
    APPROVE,
    STRIKE,
    DocHash,
    MemberId,
    Role,
    TurnKind,
    VoteForm,
    VoteKind,
)
from chamber.log import apply
from chamber.model import Question
from chamber.projection import Audience, project_event, project_state
from chamber.rules import Rules
from server.demo import Player
from tests.chamber.play import Play, m

Frame = dict[str, Any]


def states(records: list[Record]) -> Iterator[tuple[Record, Sitting]]:
    """Each record with the state right after it (the log alone: a secret ballot box is
    never projected while its vote is open, so it changes no audience's view)."""
    state: Sitting | None = None
    for record in records:
        state = apply(state, record)
        yield record, state


def frames(records: list[Record], audience: Audience, member: MemberId | None) -> list[Frame]:
    out: list[Frame] = []
    for record, state in states(records):
        event = project_event(record.event, state, audience, member)
        events = [] if event is None else [{"seq": record.seq, "at": record.at, "event": event}]
        out.append(
            {"to": record.seq, "events": events, "state": project_state(state, audience, member)}
        )
    return out


def case(name: str, records: list[Record], delegate: MemberId) -> list[dict[str, Any]]:
    views: list[tuple[Audience, MemberId | None]] = [
        (Audience.PUBLIC, None),
        (Audience.DELEGATE, delegate),
        (Audience.CHAIR, None),
    ]
    return [
        {"name": f"{name} ({audience.value})", "frames": frames(records, audience, member)}
        for audience, member in views
    ]


def demo() -> list[Record]:
    player = Player()
    for _ in player.play():
        pass
    return player.records


DOCS = [DocHash(f"{i:x}" * 64) for i in range(1, 4)]


class Random:
    """A seeded random sitting: whoever acts, whatever the core refuses is dropped."""

    def __init__(self, seed: int, rules: Rules | None) -> None:
        self.rng = random.Random(seed)
        self.p = Play(n=12, seats=13, rules=rules)

    def attempt(self, act: Callable[[], object]) -> None:
        with contextlib.suppress(ChamberError):
            act()

    def member(self) -> int:
        return self.rng.randint(1, 12)

    def ballot(self) -> None:
        vote = self.p.s.open_vote()
        if vote is None:
            return
        who = self.member()
        if vote.kind is VoteKind.MOTION:
            cmd = c.CastBallot(vote=vote.id, choice=self.rng.choice(vote.options))
        else:
            answers = {q.id: self.rng.choice(vote.options) for q in vote.questions}
            if vote.kind is VoteKind.ELECTION:  # approve no more than the positions
                approvals = [q for q, o in answers.items() if o == APPROVE][vote.positions :]
                answers.update(dict.fromkeys(approvals, STRIKE))
            cmd = c.CastBallot(vote=vote.id, answers=answers)
        self.attempt(lambda: self.p.as_delegate(who, cmd))

    def step(self) -> None:
        p, rng = self.p, self.rng
        roll = rng.random()
        vote = p.s.open_vote()
        latest = list(p.s.votes.values())[-1] if p.s.votes else None
        if roll < 0.35:
            self.ballot()
        elif roll < 0.45:
            who = self.member()
            self.attempt(lambda: p.as_delegate(who, rng.choice([c.CheckIn(), c.Leave()])))
        elif roll < 0.5:
            self.attempt(
                lambda: p.do(c.Excuse(member=m(self.member()), reason="Ốm"), m(3), Role.SECRETARY)
            )
        elif roll < 0.58 and vote is not None:
            self.attempt(
                lambda: p.do(rng.choice([c.CloseVote(vote=vote.id), c.CancelVote(vote=vote.id)]))
            )
        elif roll < 0.62 and latest is not None:
            self.attempt(lambda: p.do(c.Revote(vote=latest.id)))
        elif roll < 0.7 and p.s.motions:
            motion = rng.choice(list(p.s.motions))
            preset = rng.choice(list(p.s.rules.presets))
            form = rng.choice([None, VoteForm.OPEN, VoteForm.SECRET])
            self.attempt(lambda: p.do(c.OpenVote(motion=motion, preset=preset, form=form)))
        elif roll < 0.73:
            lines = tuple(Question(id=f"u{i}", label=f"Ứng viên {i}") for i in range(1, 4))
            self.attempt(lambda: p.do(c.OpenElection(title="Bầu", positions=2, candidates=lines)))
        elif roll < 0.75:
            lines = tuple(Question(id=f"c{i}", label=f"Chức danh {i}") for i in range(1, 3))
            self.attempt(lambda: p.do(c.OpenConfidencePoll(title="Tín nhiệm", officials=lines)))
        elif roll < 0.8:
            doc = rng.choice(DOCS)
            self.attempt(lambda: p.do(c.RegisterDocument(hash=doc, title="Dự thảo")))
            self.attempt(lambda: p.do(c.ProposeMotion(title=f"Nghị quyết {p.s.seq}", doc=doc)))
        elif roll < 0.86:
            who = self.member()
            self.attempt(
                lambda: p.as_delegate(who, c.RequestFloor(kind=rng.choice(list(TurnKind))))
            )
        elif roll < 0.9:
            self.attempt(lambda: p.do(c.GrantNext()))
        elif roll < 0.93 and p.s.turns:
            turn = rng.choice(list(p.s.turns))
            self.attempt(lambda: p.do(c.EndTurn(turn=turn)))
        elif roll < 0.95 and p.s.documents:
            doc = rng.choice(list(p.s.documents))
            self.attempt(lambda: p.do(c.PresentDocument(doc=doc, page=1)))
        elif roll < 0.97:
            self.attempt(lambda: p.do(rng.choice([c.SuspendSitting(), c.ResumeSitting()])))
        else:
            self.attempt(lambda: p.do(c.AddItem(title=f"Mục {p.s.seq}")))
        p.tick(rng.randint(1, 20))

    def play(self, steps: int) -> list[Record]:
        self.p.open_and_start(10)
        for _ in range(steps):
            self.step()
        if self.rng.random() < 0.5:
            self.attempt(lambda: self.p.do(c.CloseSitting()))
        return self.p.records


SEEDS = range(1, 9)
STEPS = 300


def all_cases() -> list[dict[str, Any]]:
    out = case("demo", demo(), MemberId("db05"))
    for seed in SEEDS:
        rules = Rules(hall_running_count=False) if seed % 2 else None
        out += case(f"random {seed}", Random(seed, rules).play(STEPS), m(4))
    return out


def write(path: Path) -> tuple[int, int]:
    """Write the cases to ``path``; returns (cases, frames)."""
    cases = all_cases()
    path.write_bytes(msgspec.json.encode({"cases": cases}))
    return len(cases), sum(len(x["frames"]) for x in cases)


if __name__ == "__main__":  # pragma: no cover - the command line
    count, total = write(Path(sys.argv[1]))
    print(f"{count} cases, {total} frames")
