"""One durable append through the Redis journal, at rest (run by `make bench`).

A `redis-server` of its own (appendonly yes, appendfsync always) on a free loopback port;
one append at a time (a record of ~300 bytes and its idempotency answer, through the
fencing Lua script with a lease held, as a node appends) against a bare XADD of the same
bytes measured in the same run on the same server, and the SQLite journal's append for
reference. Printed side by side with p50/p99; the target is <= 2 ms p50 for the journal.

    python tests/load/redis_append.py [--n 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from server.journal import Commit, SqliteJournal, Stored
from server.journal.lease import Leases
from server.journal.redis import RedisJournal
from tests.redis_process import RedisProcess

PAYLOAD = b"x" * 300
TARGET_P50_MS = 2.0


def record(seq: int) -> Commit:
    return Commit(records=[Stored(seq, f"{seq:064x}", PAYLOAD)], answers=[(f"m/{seq}", b"ok")])


async def timed(n: int, step: Callable[[int], Awaitable[object]]) -> list[float]:
    for i in range(1, 51):  # warm-up: connections, script cache
        await step(-i)
    out = []
    for i in range(1, n + 1):
        started = time.perf_counter()
        await step(i)
        out.append((time.perf_counter() - started) * 1000)
    return out


def line(name: str, ms: list[float]) -> str:
    ms = sorted(ms)
    p50, p99 = statistics.median(ms), ms[int(len(ms) * 0.99) - 1]
    return f"{name:<46} p50 {p50:6.3f} ms   p99 {p99:6.3f} ms   (n={len(ms)})"


async def run(n: int, folder: Path) -> tuple[float, float]:
    server = RedisProcess(folder / "redis")
    server.start()
    try:
        journal = RedisJournal(server.url)
        await journal.open()
        leases = Leases(journal, ttl_ms=60_000)
        assert await leases.claim("bench")
        await journal.append("bench", [record(s) for s in range(1, 51)])  # the warm-up's seqs
        offset = 50

        async def append(i: int) -> None:
            if i > 0:
                await journal.append("bench", [record(offset + i)])
            else:
                await journal.last_seq("bench")

        async def xadd(i: int) -> None:
            await journal.do("XADD", "bare", "*", "h", f"{i:064x}", "p", PAYLOAD)

        journal_ms = await timed(n, append)
        bare_ms = await timed(n, xadd)
        await journal.close()
    finally:
        server.stop()
    sqlite = SqliteJournal(folder / "sqlite")
    await sqlite.open()

    async def sqlite_append(i: int) -> None:
        if i > 0:
            await sqlite.append("bench", [record(50 + i)])
        else:
            await sqlite.last_seq("bench")

    await sqlite.append("bench", [record(s) for s in range(1, 51)])
    sqlite_ms = await timed(n, sqlite_append)
    await sqlite.close()
    print("one append at rest, appendonly yes, appendfsync always (same run, same server):")
    print(line("bare XADD (no script, no checks)", bare_ms))
    print(line("journal append (Lua: lease + seq check)", journal_ms))
    print(line("SQLite journal append (WAL, synchronous=FULL)", sqlite_ms))
    p50 = statistics.median(journal_ms)
    verdict = "met" if p50 <= TARGET_P50_MS else "NOT met"
    ratio = p50 / statistics.median(bare_ms)
    print(f"journal/bare p50 ratio {ratio:.2f}; target journal p50 <= 2 ms: {verdict}")
    return p50, statistics.median(bare_ms)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="redis-append-") as tmp:
        p50, _bare = asyncio.run(run(args.n, Path(tmp)))
    return 0 if p50 <= TARGET_P50_MS else 1


if __name__ == "__main__":
    sys.exit(main())
