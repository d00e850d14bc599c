"""Benchmark of the domain core (run by `make bench`, not by `make test`).

Prints, with the bare baseline measured in the same run:
- decide + apply (+ seal: numbering, canonical encoding, SHA-256 chaining) of one ballot,
  median µs, for councils of 30, 95 and 500 seats; baseline: the same ballot counted in
  plain mutable dicts and sets (no rules, no log).
- replay of 100,000 events (s), from typed records and from the journal's canonical
  bytes; baseline: decoding the same bytes without applying them.
Targets: ballot ≤ 20 µs; replay of 100,000 events ≤ 2 s.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from chamber import Ctx, execute, replay
from chamber import commands as c
from chamber.ids import ABSTAIN, APPROVE, REJECT, ItemId, Role
from chamber.log import Entry, _entry_decoder, load
from chamber.model import AgendaItem
from tests.chamber.play import T0, council, m

CHOICES = (APPROVE, REJECT, ABSTAIN)


def sitting(n: int):  # type: ignore[no-untyped-def]
    now = T0
    state = None
    records = []

    def do(cmd, actor, role):  # type: ignore[no-untyped-def]
        nonlocal state
        step = execute(state, cmd, Ctx(actor=actor, role=role, now=now))
        state = step.state
        records.extend(step.records)
        return step

    agenda = (AgendaItem(id=ItemId("i1"), title="Nghị quyết"),)
    do(
        c.ScheduleSitting(
            sitting="b", council=council(n), title="Bench", scheduled_at=T0, agenda=agenda
        ),
        None,
        Role.OPERATOR,
    )
    for i in range(1, n + 1):
        do(c.CheckIn(), m(i), Role.DELEGATE)
    do(c.OpenSitting(), m(1), Role.CHAIR)
    do(c.StartSitting(), m(1), Role.CHAIR)
    do(c.RegisterDocument(hash="a" * 64, title="Dự thảo", pages=1), None, Role.OPERATOR)
    do(c.ProposeMotion(title="Nghị quyết", doc="a" * 64), m(1), Role.CHAIR)
    return state, records, do


def bench_ballot(n: int, rounds: int) -> tuple[float, float]:
    state, _records, _do = sitting(n)
    motion = next(iter(state.motions))
    samples: list[float] = []
    bare: list[float] = []
    perf = time.perf_counter_ns
    for r in range(rounds):
        step = execute(
            state,
            c.OpenVote(motion=motion, preset="resolution", duration_s=None),
            Ctx(actor=m(1), role=Role.CHAIR, now=T0 + r),
        )
        state = step.state
        vote = state.open_vote().id
        counts = dict.fromkeys(CHOICES, 0)
        voted: set[str] = set()
        for i in range(1, n + 1):
            cmd = c.CastBallot(vote=vote, choice=CHOICES[i % 3])
            ctx = Ctx(actor=m(i), role=Role.DELEGATE, now=T0 + r)
            t0 = perf()
            state = execute(state, cmd, ctx).state
            samples.append(perf() - t0)
            t0 = perf()
            if m(i) not in voted:  # the bare baseline: count it in plain dicts
                voted.add(m(i))
                counts[CHOICES[i % 3]] += 1
            bare.append(perf() - t0)
        state = execute(
            state, c.CloseVote(vote=vote), Ctx(actor=m(1), role=Role.CHAIR, now=T0 + r)
        ).state
    return statistics.median(samples) / 1000, statistics.median(bare) / 1000


def build_log(total: int, n: int = 500):  # type: ignore[no-untyped-def]
    state, records, do = sitting(n)
    motion = next(iter(state.motions))
    while len(records) < total:
        step = do(c.OpenVote(motion=motion, preset="resolution", duration_s=None), m(1), Role.CHAIR)
        vote = step.state.open_vote().id
        for i in range(1, n + 1):
            if len(records) >= total - 1:
                break
            do(c.CastBallot(vote=vote, choice=CHOICES[i % 3]), m(i), Role.DELEGATE)
        do(c.CloseVote(vote=vote), m(1), Role.CHAIR)
    return records[:total], state


def main() -> int:
    results: dict[str, float] = {}
    print("Domain core benchmark (median of each ballot; lower is better)")
    print(f"{'case':44} {'core':>10} {'bare':>10} {'ratio':>7}")
    for n, rounds in ((30, 60), (95, 20), (500, 4)):
        core, bare = bench_ballot(n, rounds)
        results[f"ballot_us_{n}"] = core
        print(
            f"{f'decide+apply+seal one ballot, {n} seats (µs)':44} {core:10.2f} {bare:10.3f} "
            f"{core / bare:7.0f}"
        )
    records, _final = build_log(100_000)
    from chamber.log import canonical

    payloads = [
        (canonical(Entry(seq=r.seq, at=r.at, sitting=r.sitting, event=r.event)), r.hash)
        for r in records
    ]
    t0 = time.perf_counter()
    rebuilt = replay(records)
    typed = time.perf_counter() - t0
    assert rebuilt is not None and rebuilt.seq == len(records) == 100_000
    t0 = time.perf_counter()
    replay(load(p, h) for p, h in payloads)
    from_bytes = time.perf_counter() - t0
    t0 = time.perf_counter()
    for p, _h in payloads:
        _entry_decoder.decode(p)
    decode_only = time.perf_counter() - t0
    results.update(
        replay_100k_s=typed, replay_100k_from_bytes_s=from_bytes, decode_100k_s=decode_only
    )
    print(f"{'replay 100,000 events, typed records (s)':44} {typed:10.3f} {'':>10}")
    print(
        f"{'replay 100,000 events from bytes (s)':44} {from_bytes:10.3f} {decode_only:10.3f} "
        f"{from_bytes / decode_only:7.1f}"
    )
    print(
        "targets: one ballot ≤ 20 µs; replay of 100,000 events ≤ 2 s "
        "(bare column: plain-dict count / decode without apply)"
    )
    out = Path("artifacts")
    out.mkdir(exist_ok=True)
    (out / "bench-core.json").write_text(json.dumps(results, indent=2))
    ok = results["ballot_us_95"] <= 20 and from_bytes <= 2
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
