"""What one group commit of ballots costs the fan-out, with no socket: N delegates'
ballots published in batches to a room of M gallery screens and the N delegates.

    python tests/load/bench_fanout.py [--delegates 500] [--screens 2000] [--batch 16]

Run from another checkout's folder (`cd /tmp/base && python /path/to/bench_fanout.py`)
it measures that checkout's server/fanout.py: the same figure before and after a change.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

sys.path.insert(0, os.getcwd())  # the checkout under test: the current folder's

from chamber import commands as c
from chamber.projection import Audience
from server.fanout import Conn, Room
from server.protocol import CODECS, MSGPACK
from tests.chamber.play import Play, m

DOC = "f" * 64


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--delegates", type=int, default=500)
    parser.add_argument("--screens", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    p = Play(n=args.delegates)
    p.open_and_start(args.delegates)
    p.do(c.RegisterDocument(hash=DOC, title="Dự thảo", pages=1))
    p.do(c.ProposeMotion(title="Nghị quyết", doc=DOC))
    p.do(c.OpenVote(motion=next(iter(p.s.motions))))
    vote = next(iter(p.s.votes))
    state = p.s
    room = Room("bench", lambda: state, view_hz=4)

    async def send(data: bytes) -> None:
        return None

    async def close(code: int) -> None:
        return None

    codec = CODECS[MSGPACK]
    started = time.perf_counter()
    for _ in range(args.screens):
        room.add(Conn(send, close, codec, Audience.PUBLIC, None, 256, 10.0))
    for i in range(1, args.delegates + 1):
        room.add(Conn(send, close, codec, Audience.DELEGATE, m(i), 256, 10.0))
    joined = time.perf_counter() - started
    await room.stop()  # no view ticks: only publish is timed
    first = len(p.records)
    for i in range(1, args.delegates + 1):
        p.as_delegate(i, c.CastBallot(vote=vote, choice="approve"))
    records = p.records[first:]
    batches = [records[k : k + args.batch] for k in range(0, len(records), args.batch)]
    best = float("inf")
    for _ in range(args.rounds):
        started = time.perf_counter()
        for batch in batches:
            room.publish(batch, p.s)
        best = min(best, time.perf_counter() - started)
    per = 1000 * best / len(batches)
    print(
        f"fan-out ({os.getcwd()}): {len(batches)} group commits of {args.batch} ballots to"
        f" {args.screens} screens and {args.delegates} delegates: {1000 * best:.1f} ms in all,"
        f" {per:.2f} ms per commit (best of {args.rounds}): the event loop is held that long"
    )
    conns = args.screens + args.delegates
    print(f"joining the room: {1000 * joined / conns:.3f} ms per connection ({conns})")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
