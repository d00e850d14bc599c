"""What one durable commit costs on this disk, against the bare fsync beneath it (run by
`make bench`).

The vote storm's ack waits for its group commit to reach the disk, so the journal stage's
tail is bounded below by the disk's own fsync tail. In one run, in one temporary folder
on the data disk, one commit at a time (a ballot's record and its idempotency answer),
two ways, interleaved in rounds so that a noisy minute hits both alike:

- **bare**: 1 KB written to a preallocated file and `os.fdatasync` (the floor);
- **the SQLite journal's append** (`server/journal/sqlite.py`: its writer thread, WAL,
  synchronous=FULL, SQLite's automatic checkpoints).

Each prints p50, p99, p99.9 and max, and its ratio to the bare figure. (Checkpoints run
on a second connection beside the writer were tried and measured worse: p50 0.38-0.41
against 0.27-0.29 ms, p99.9 1.7-4.1 against 1.2-1.5 ms; not kept.)

    python tests/load/journal_commit.py [--n 3000] [--rounds 6]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from server.journal import Commit, SqliteJournal, Stored
from tests.load.vote_storm import pct

PAYLOAD = b"x" * 300
BLOCK = b"y" * 1024


def record(seq: int) -> Commit:
    return Commit(records=[Stored(seq, f"{seq:064x}", PAYLOAD)], answers=[(f"m/{seq}", b"ok")])


class Bare:
    def __init__(self, folder: Path, n: int) -> None:
        self.path = folder / "bare.bin"
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        os.posix_fallocate(self.fd, 0, (n + 16) * len(BLOCK))
        os.fsync(self.fd)
        self.offset = 0

    def commit(self) -> float:
        started = time.perf_counter()
        os.pwrite(self.fd, BLOCK, self.offset)
        os.fdatasync(self.fd)
        self.offset += len(BLOCK)
        return (time.perf_counter() - started) * 1000

    def close(self) -> None:
        os.close(self.fd)


async def run(n: int, rounds: int, folder: Path) -> dict[str, list[float]]:
    bare = Bare(folder, n)
    journals = {"SQLite journal append (the hub's)": SqliteJournal(folder / "journal")}
    for journal in journals.values():
        await journal.open()
    seqs = dict.fromkeys(journals, 0)
    out: dict[str, list[float]] = {"bare write + fdatasync (1 KB)": []}
    out.update({name: [] for name in journals})
    per_round = n // rounds
    for _ in range(rounds):
        out["bare write + fdatasync (1 KB)"].extend(bare.commit() for _ in range(per_round))
        for name, journal in journals.items():
            for _ in range(per_round):
                seqs[name] += 1
                started = time.perf_counter()
                await journal.append("bench", [record(seqs[name])])
                out[name].append((time.perf_counter() - started) * 1000)
    for journal in journals.values():
        await journal.close()
    bare.close()
    return out


def report(out: dict[str, list[float]]) -> None:
    base = {q: pct(next(iter(out.values())), q) for q in (50, 99, 99.9)}
    print(f"{'one durable commit at rest (ms)':44}{'p50':>8}{'p99':>8}{'p99.9':>8}{'max':>8}")
    for name, ms in out.items():
        cells = [pct(ms, q) for q in (50, 99, 99.9)]
        print(f"{name:44}" + "".join(f"{c:8.2f}" for c in cells) + f"{max(ms):8.2f}")
        ratios = [c / base[q] for c, q in zip(cells, (50, 99, 99.9), strict=True)]
        print(f"{'  ÷ bare':44}" + "".join(f"{r:8.2f}" for r in ratios))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=3000, help="commits of each kind")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--dir", default=None, help="a folder on the disk to measure")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="journal-commit-", dir=args.dir) as tmp:
        out = asyncio.run(run(args.n, args.rounds, Path(tmp)))
    report(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
