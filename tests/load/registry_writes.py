"""Registry writes shared through Redis, under contention (server/registry_redis.py).

A `redis-server` of its own (appendonly yes, appendfsync always) on a free loopback port;
``--nodes`` replicas (as many hub nodes) with ``--threads`` writers each (as the worker
threads of a node) add ``--n`` sessions each, all at once, as a login storm at the start
of a sitting would. Printed: the write latency p50/p99, the writes per second, how many
appends were lost to another node's (and retried), and whether the replicas converge.
The SQLite registry's `add_session` one at a time, for reference.

    python tests/load/registry_writes.py [--nodes 2] [--threads 4] [--n 250]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from server.journal.redis_url import parse
from server.registry import Registry, SessionRow
from server.registry_redis import ReplicatedRegistry
from tests.redis_process import RedisProcess


def session(name: str) -> SessionRow:
    return SessionRow(f"{name:0>64}", "u", "member", "m", None, 0, 1, False)


def line(name: str, ms: list[float]) -> str:
    ms = sorted(ms)
    p50, p99 = statistics.median(ms), ms[int(len(ms) * 0.99) - 1]
    return f"{name:<40} p50 {p50:6.3f} ms   p99 {p99:6.3f} ms   (n={len(ms)})"


def storm(url: str, nodes: int, threads: int, n: int, tag: str) -> None:
    replicas = [ReplicatedRegistry(parse(url)) for _ in range(nodes)]
    for r in replicas:
        r.open()
    took: list[float] = []
    start = threading.Barrier(nodes * threads)

    def writer(reg: ReplicatedRegistry, name: str) -> None:
        start.wait()
        for i in range(n):
            began = time.perf_counter()
            reg.add_session(session(f"{name}-{i}"))
            took.append((time.perf_counter() - began) * 1000)

    workers = [
        threading.Thread(target=writer, args=(r, f"{tag}-{k}-{t}"))
        for k, r in enumerate(replicas)
        for t in range(threads)
    ]
    began = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - began
    for r in replicas:
        with r._apply_lock:
            r._catch_up()
    total = nodes * threads * n
    applied = replicas[0].applied
    same = len({tuple(r._db.iterdump()) for r in replicas}) == 1
    print(line(f"redis, {nodes} nodes x {threads} writers", took))
    print(f"  {total / elapsed:.0f} writes/s; {applied} ops in the Stream; converged: {same}")
    for r in replicas:
        r.close()


def sqlite(folder: Path, n: int) -> None:
    reg = Registry(folder)
    took = []
    for i in range(n):
        began = time.perf_counter()
        reg.add_session(session(f"s-{i}"))
        took.append((time.perf_counter() - began) * 1000)
    reg.close()
    print(line("sqlite file, one writer", took))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--n", type=int, default=250)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisProcess(Path(tmp) / "redis")
        server.start()
        try:
            storm(server.url, 1, 1, args.n, "alone")
            storm(server.url, args.nodes, args.threads, args.n, "storm")
        finally:
            server.stop()
        sqlite(Path(tmp) / "sqlite", args.n)


if __name__ == "__main__":
    main()
