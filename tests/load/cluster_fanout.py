"""Gallery fan-out over 1, 2 and 3 hub nodes on one Redis (run by `make bench`).

A `redis-server` of its own (appendonly yes, appendfsync always; tests/redis_process.py)
and N hub nodes (`python -m server.cli serve`, NGHITRUONG_JOURNAL=redis://…) on one data
folder, the registry seeded with a council of `--delegates` members. The first node that
is greeted for the sitting sequences it (it holds the lease); the others follow its log
Stream and forward their clients' commands to it. The clients are one Node.js process
(tests/load/node/storm.mjs, `ws`) on a core of its own: `--screens-per-node` gallery
screens per node and the delegates, both spread evenly over the nodes (client i on node
i mod N), so every node has the same screens and a share of the voters. The delegates
check in, the chair opens a named vote, every delegate casts once within one second,
the chair closes it.

Reported for each node count, per node: connections (the node's own
`nghitruong_connections`), the time from the last ack until every screen of the node
showed the final tally (p50/p99/max), the node's CPU seconds over the storm (psutil) and
per screen, the Redis round trips it made; for the whole run: Redis round trips per
decided command (every command the nodes sent, from MONITOR, over the storm, less the
idle rate measured just before it: lease renewals, blocking reads that time out), Redis's
own CPU, one command at rest acknowledged by the owner and
forwarded through a non-owner. The same storm against one node on the SQLite journal
(`--no-baseline` skips it) is the bare baseline of the same run, and so is a bare XADD
beside the journal's append (tests/load/redis_append.py, `--append-n`).

All nodes and Redis share one core (the other core runs the generator): on this 2-core
machine three nodes cannot show three times the throughput by wall time, so the scaling
figure is CPU per screen on each node (screens per core), not latency.

    python tests/load/cluster_fanout.py [--nodes 1,2,3] [--screens-per-node 600]
        [--delegates 100] [--no-baseline] [--append-n 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import psutil
import redis
import websockets.sync.client

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.load import redis_append  # noqa: E402
from tests.load.failover_storm import Node  # noqa: E402
from tests.load.generator import NodeGenerator, verdict  # noqa: E402
from tests.load.vote_storm import (  # noqa: E402
    CLIENT_CORES,
    PROTO,
    SERVER_CORES,
    at_rest,
    core_busy,
    create_sitting,
    open_vote,
    pct,
    pin,
    seed,
    sync_command,
)
from tests.redis_process import RedisProcess  # noqa: E402

IDLE_S = 2.0  # Redis's background rate (leases, blocking reads timing out) is read over this


@dataclass
class Options:
    screens_per_node: int = 600
    delegates: int = 100
    at_rest_n: int = 200
    pin: bool = True
    deadline_s: float = 150.0
    monitor: bool = True  # count the nodes' Redis round trips (MONITOR costs Redis CPU)


@dataclass
class Cluster:
    """Redis (or none: SQLite) and the nodes on one data folder, owner first."""

    folder: Path
    nodes: list[Node] = field(default_factory=list)
    redis: RedisProcess | None = None

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        if self.redis is not None:
            self.redis.stop()

    def ws(self, node: Node) -> str:
        return node.url.replace("http", "ws", 1) + "/ws"


class Monitor:
    """Every command the nodes send Redis, from MONITOR: (Redis time, client port, name).
    A script's own commands (`[0 lua]`) are left out: an EVALSHA is one round trip. Each
    command a node sends is a round trip of its own (the journal pipelines only the appends
    of different sittings, and there is one sitting here)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.client = redis.Redis(port=port)
        self.monitor = self.client.monitor().__enter__()  # type: ignore[no-untyped-call]
        self.seen: list[tuple[float, int, str]] = []
        self.done = False
        self.thread = threading.Thread(target=self._run, name="redis-monitor", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        conn = self.monitor.connection
        while not self.done:
            try:
                line = conn.read_response()
            except (redis.RedisError, OSError):
                return
            if not isinstance(line, bytes):
                continue
            at, rest = line.split(b" ", 1)
            who, _, command = rest.partition(b"] ")
            if who.endswith(b" lua"):
                continue
            port = int(who.rsplit(b":", 1)[1]) if b":" in who else 0
            self.seen.append((float(at), port, command.split(b'"', 2)[1].decode().upper()))

    def close(self) -> None:
        self.done = True
        with redis.Redis(port=self.port) as r:
            r.ping()  # wakes the reader
        self.thread.join(10)
        self.monitor.__exit__(None, None, None)
        self.client.close()

    def calls(self, ports: set[int], since: float, until: float) -> dict[str, int]:
        out: dict[str, int] = {}
        for at, port, name in self.seen:
            if port in ports and since <= at <= until:
                out[name] = out.get(name, 0) + 1
        return out


def redis_ports(pid: int, redis_port: int) -> set[int]:
    """The local ports of a node's connections to Redis (its side of each)."""
    return {
        c.laddr.port
        for c in psutil.Process(pid).net_connections(kind="tcp")
        if c.raddr and c.raddr.port == redis_port
    }


def connections(node: Node) -> int:
    """The node's own count of open WebSocket connections past `welcome`."""
    total = 0.0
    for line in httpx.get(node.url + "/metrics", timeout=30).text.splitlines():
        if line.startswith("nghitruong_connections{"):
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


def owner_first(cluster: Cluster, sitting: str, timeout_s: float = 30.0) -> None:
    """Put the node that holds the sitting's lease first."""
    assert cluster.redis is not None
    deadline = time.monotonic() + timeout_s
    with redis.Redis(port=cluster.redis.port) as r:
        while True:
            held = r.get("nt:{" + sitting + "}:lease")
            pid = int(held.split(b"/")[1]) if held else None
            for node in cluster.nodes:
                if node.proc is not None and node.proc.pid == pid:
                    cluster.nodes.remove(node)
                    cluster.nodes.insert(0, node)
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"nobody holds the lease of {sitting}: {held!r}")
            time.sleep(0.02)


def cpu_s(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return float(t.user + t.system)


def spread(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p99": None, "max": None}
    return {"p50": pct(values, 50), "p99": pct(values, 99), "max": max(values)}


def start(folder: Path, n: int, journal: str, opts: Options) -> tuple[Cluster, list[str], str]:
    data = folder / "data"
    cluster = Cluster(folder)
    env = {"NGHITRUONG_COMMANDS_PER_S": "1000", "NGHITRUONG_FRAMES_PER_S": "2000"}
    if journal == "redis":
        cluster.redis = RedisProcess(folder / "redis")
        cluster.redis.start()
        env["NGHITRUONG_JOURNAL"] = cluster.redis.url
    try:
        # On Redis the registry is the nodes' shared one (server/registry_redis.py).
        tokens, op = seed(data, opts.delegates, env.get("NGHITRUONG_JOURNAL", ""))
        for _ in range(n):
            node = Node(data, env)
            node.start()
            cluster.nodes.append(node)
    except BaseException:
        cluster.stop()
        raise
    return cluster, tokens, op


def storm(n: int, journal: str, opts: Options) -> dict[str, Any]:
    """One storm over `n` nodes on `journal` ("redis" or "sqlite")."""
    with tempfile.TemporaryDirectory(prefix="cluster-fanout-") as tmp:
        cluster, tokens, op = start(Path(tmp), n, journal, opts)
        try:
            return _storm(cluster, tokens, op, opts)
        finally:
            cluster.stop()


def _storm(cluster: Cluster, tokens: list[str], op: str, opts: Options) -> dict[str, Any]:
    n = len(cluster.nodes)
    sitting = create_sitting(cluster.nodes[0].url, op)
    out: dict[str, Any] = {
        "nodes": n,
        "journal": "redis" if cluster.redis else "sqlite",
        "screens_per_node": opts.screens_per_node,
    }
    # The first greeting makes node 0 claim the sitting; one command at rest on it.
    out["at_rest_owner_p50_ms"] = at_rest(
        cluster.ws(cluster.nodes[0]), sitting, tokens[0], False, opts.at_rest_n
    )
    if cluster.redis is not None:
        owner_first(cluster, sitting)
    if n > 1:
        out["at_rest_forwarded_p50_ms"] = at_rest(
            cluster.ws(cluster.nodes[1]), sitting, tokens[0], False, opts.at_rest_n
        )
    procs = [psutil.Process(node.proc.pid) for node in cluster.nodes]  # type: ignore[union-attr]
    red = psutil.Process(cluster.redis.proc.pid) if cluster.redis and cluster.redis.proc else None
    if opts.pin:  # every server process on one core, the generator on the other
        for p in [*procs, *([red] if red else [])]:
            for thread in p.threads():
                pin(SERVER_CORES, thread.id)
    everywhere = sorted(os.sched_getaffinity(0))
    gen = NodeGenerator(CLIENT_CORES if opts.pin else everywhere)
    stack = contextlib.ExitStack()
    if opts.pin:  # this process too (the monitor's reader): off the servers' core
        pin(CLIENT_CORES)
        stack.callback(pin, everywhere)
    try:
        rss0 = [p.memory_info().rss for p in procs]
        urls = [cluster.ws(node) for node in cluster.nodes]
        screens = opts.screens_per_node * n
        ready = gen.start(
            {
                "url": urls[0],
                "urls": urls,
                "sitting": sitting,
                "tokens": tokens,
                "screens": screens,
                "need": opts.delegates,
                "bare": False,
                "check_in": True,
                "spread_ms": 1000,
                "watch_s": 30,
            },
            timeout=opts.deadline_s,
        )
        chair = stack.enter_context(
            websockets.sync.client.connect(urls[0], subprotocols=[PROTO])  # type: ignore[list-item]
        )
        vote = open_vote(chair, cluster.nodes[0].url, sitting, tokens[0])
        per_node_conns = [connections(node) for node in cluster.nodes]
        rss = [p.memory_info().rss for p in procs]
        monitor = Monitor(cluster.redis.port) if cluster.redis and opts.monitor else None
        if monitor is not None:
            stack.callback(monitor.close)
        idle0, red_idle0 = time.time(), cpu_s(red) if red else 0.0
        time.sleep(IDLE_S)
        idle1, red_idle1 = time.time(), cpu_s(red) if red else 0.0
        cpu0 = [cpu_s(p) for p in procs]
        red0 = cpu_s(red) if red else 0.0
        t0, storm0, cores0 = time.monotonic(), time.time(), psutil.cpu_times(percpu=True)
        acked = gen.go(vote, timeout=opts.deadline_s)
        time.sleep(1.0)  # the running tally reaches the screens as views; then the close
        sync_command(chair, {"type": "vote.close", "vote": vote})
        seen = gen.screens(timeout=opts.deadline_s)
        window, storm1 = time.monotonic() - t0, time.time()
        busy = core_busy(cores0, psutil.cpu_times(percpu=True), SERVER_CORES)
        cpu1 = [cpu_s(p) for p in procs]
        red1 = cpu_s(red) if red else 0.0
        if monitor is not None and cluster.redis is not None:
            time.sleep(0.2)  # the monitor's last lines
            ports = [redis_ports(p.pid, cluster.redis.port) for p in procs]
            idle = monitor.calls(set().union(*ports), idle0, idle1)
            storm_calls = [monitor.calls(mine, storm0, storm1) for mine in ports]
        gen_pct = gen.cpu_pct()
    finally:
        stack.close()
        gen.stop()
    acks = [(s / 1000, a / 1000) for s, a in acked["acks"]]
    last_ack = max(a for _, a in acks)
    last_cast = max(s for s, _ in acks)
    finals = seen["screens"]["finals"]
    lat = [(a - s) * 1000 for s, a in acks]
    out.update(
        screens=screens,
        delegates=opts.delegates,
        ready_connections=ready["connections"],
        refused=acked["refused"],
        ack_ms=spread(lat),
        screens_with_final_tally=sum(f is not None for f in finals),
        tally_after_last_ack_ms=spread([f - last_ack * 1000 for f in finals if f is not None]),
        tally_after_last_cast_ms=spread([f - last_cast * 1000 for f in finals if f is not None]),
        window_s=window,
        generator_cpu_pct=gen_pct,
        generator_storm_cpu_pct=acked["cpu"]["pct"],
        frames_to_screens=seen["screens"]["frames"],
        server_core_busy_pct=busy,
    )
    out["per_node"] = []
    for i in range(n):
        mine = [f for j, f in enumerate(finals) if j % n == i]
        used = cpu1[i] - cpu0[i]
        out["per_node"].append(
            {
                "role": "owner" if i == 0 else "follower",
                "connections": per_node_conns[i],
                "screens": len(mine),
                "delegates": len(range(i, opts.delegates, n)),
                "with_final_tally": sum(f is not None for f in mine),
                "tally_after_last_ack_ms": spread(
                    [f - last_ack * 1000 for f in mine if f is not None]
                ),
                "tally_after_last_cast_ms": spread(
                    [f - last_cast * 1000 for f in mine if f is not None]
                ),
                "cpu_s": used,
                "cpu_ms_per_screen": 1000 * used / len(mine) if mine else None,
                "rss_mb": rss[i] / 2**20,
                "rss_per_connection_kb": (rss[i] - rss0[i]) / 1024 / max(1, per_node_conns[i]),
            }
        )
    decided = opts.delegates + 1  # the ballots and the close
    if red is not None:
        idle_cpu = (red_idle1 - red_idle0) * window / (idle1 - idle0)
        out["redis"] = {
            "cpu_s": red1 - red0,
            "cpu_ms_per_command": 1000 * (red1 - red0 - idle_cpu) / decided,
            "monitored": monitor is not None,
        }
    if monitor is not None:
        background = sum(idle.values()) * window / (idle1 - idle0)
        calls: dict[str, int] = {}
        for i, node_calls in enumerate(storm_calls):
            out["per_node"][i]["redis_calls"] = sum(node_calls.values())
            for k, v in node_calls.items():
                calls[k] = calls.get(k, 0) + v
        total = sum(calls.values())
        out["redis"].update(
            calls=calls,
            idle_calls_per_s={k: v / (idle1 - idle0) for k, v in idle.items()},
            calls_per_command_raw=total / decided,
            calls_per_command=(total - background) / decided,
        )
    return out


def append_figures(n: int) -> dict[str, float]:
    """One durable append at rest through the Redis journal against a bare XADD."""
    with tempfile.TemporaryDirectory(prefix="cluster-append-") as tmp:
        journal, bare = asyncio.run(redis_append.run(n, Path(tmp)))
    return {"journal_append_p50_ms": journal, "bare_xadd_p50_ms": bare}


def _ms(v: float | None) -> str:
    return "     -" if v is None else f"{v:6.0f}"


def report(runs: list[dict[str, Any]]) -> None:
    print(
        f"{'':49}{'final tally after last ack':>27}{'…cast':>7}"
        f"\n{'run':16}{'node':>5}{'role':>9}{'conns':>7}{'final':>9}   "
        f"{'p50':>9}{'p99':>9}{'max':>9}{'max':>7}{'CPU s':>7}{'ms/screen':>10}{'RSS MB':>7}"
        f"{'KB/conn':>8}{'Redis RTs':>10}"
    )
    for run in runs:
        name = f"{run['nodes']}×{run['screens_per_node']}×{run['journal']}"
        for i, node in enumerate(run["per_node"]):
            t, c = node["tally_after_last_ack_ms"], node["tally_after_last_cast_ms"]
            per = node["cpu_ms_per_screen"]
            print(
                f"{name:16}{i:>5}{node['role']:>9}{node['connections']:>7}"
                f"{node['with_final_tally']:>6}/{node['screens']:<5}"
                f"{_ms(t['p50']):>8}{_ms(t['p99']):>9}{_ms(t['max']):>9}{_ms(c['max']):>7}"
                f"{node['cpu_s']:7.2f}{per if per is None else round(per, 3):>10}"
                f"{node['rss_mb']:7.0f}{node['rss_per_connection_kb']:8.0f}"
                f"{node.get('redis_calls', '-'):>10}"
            )
    print()
    for run in runs:
        name = f"{run['nodes']}×{run['screens_per_node']}×{run['journal']}"
        t, a = run["tally_after_last_ack_ms"], run["ack_ms"]
        cpu = sum(node["cpu_s"] for node in run["per_node"])
        line = (
            f"{name}: {run['screens']} screens + {run['delegates']} delegates;"
            f" ack p50 {a['p50']:.0f} ms p99 {a['p99']:.0f} ms; final tally on"
            f" {run['screens_with_final_tally']}/{run['screens']} screens, after the last ack"
            f" p50 {_ms(t['p50']).strip()} p99 {_ms(t['p99']).strip()}"
            f" max {_ms(t['max']).strip()} ms (after the last cast: max"
            f" {_ms(run['tally_after_last_cast_ms']['max']).strip()} ms); nodes' CPU {cpu:.2f} s"
            f" ({1000 * cpu / run['screens']:.3f} ms per screen)"
        )
        r = run.get("redis", {})
        if "calls" in r:
            line += (
                f"; Redis {r['calls_per_command']:.1f} round trips per decided command"
                f" ({r['calls_per_command_raw']:.1f} before the idle rate)"
            )
        if r:
            line += (
                f"; Redis CPU {r['cpu_s']:.2f} s ({r['cpu_ms_per_command']:.2f} ms per decided"
                f" command{', MONITOR on' if r['monitored'] else ''})"
            )
        line += f"; server core {run['server_core_busy_pct']:.0f} % busy (every process)"
        line += f"; at rest p50 {run['at_rest_owner_p50_ms']:.2f} ms at the owner"
        if "at_rest_forwarded_p50_ms" in run:
            line += f", {run['at_rest_forwarded_p50_ms']:.2f} ms forwarded"
        print(line + f"; generator {verdict(run['generator_storm_cpu_pct'])}")
        if "calls" in r:
            calls = ", ".join(f"{k} {v}" for k, v in sorted(run["redis"]["calls"].items()))
            print(f"  Redis over the storm ({run['window_s']:.1f} s): {calls}")


def bench(
    nodes: list[int], opts: Options, baseline: bool = True, sweep: tuple[int, ...] = ()
) -> list[dict[str, Any]]:
    """The baseline, the storm over each node count, then one node on Redis with each of
    `sweep` screens (for the cost of one more screen)."""
    runs = []
    if baseline:
        runs.append(storm(1, "sqlite", opts))
    for n in nodes:
        runs.append(storm(n, "redis", opts))
    for screens in sweep:
        runs.append(storm(1, "redis", replace(opts, screens_per_node=screens)))
    return runs


def marginal(runs: list[dict[str, Any]]) -> dict[str, float] | None:
    """One node's CPU over the storm as fixed + per-screen cost (least squares over the
    one-node Redis runs of different sizes), and the screens one core holds while a storm
    takes at most half of it (the other half: headroom for latency and other sittings)."""
    points = [
        (r["screens"], r["per_node"][0]["cpu_s"], r["window_s"])
        for r in runs
        if r["nodes"] == 1 and r["journal"] == "redis"
    ]
    if len({x for x, _, _ in points}) < 2:
        return None
    mx = statistics.fmean(x for x, _, _ in points)
    my = statistics.fmean(y for _, y, _ in points)
    slope = sum((x - mx) * (y - my) for x, y, _ in points) / sum(
        (x - mx) ** 2 for x, _, _ in points
    )
    fixed = my - slope * mx
    window = statistics.fmean(w for _, _, w in points)
    return {
        "fixed_cpu_s": fixed,
        "cpu_ms_per_screen": 1000 * slope,
        "window_s": window,
        "screens_per_core_at_half": (0.5 * window - fixed) / slope if slope > 0 else float("inf"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", default="1,2,3", help="node counts, comma-separated")
    parser.add_argument("--screens-per-node", type=int, default=600)
    parser.add_argument("--delegates", type=int, default=100)
    parser.add_argument(
        "--sweep",
        default="200,2000",
        help="screens for further one-node Redis runs (the cost of one more screen); '' for none",
    )
    parser.add_argument("--at-rest-n", type=int, default=200)
    parser.add_argument("--append-n", type=int, default=1000, help="0: skip the bare XADD")
    parser.add_argument("--no-baseline", action="store_true", help="skip 1 node on SQLite")
    parser.add_argument("--no-pin", action="store_true", help="let every process use any core")
    parser.add_argument(
        "--no-monitor", action="store_true", help="no round-trip count (Redis CPU without MONITOR)"
    )
    args = parser.parse_args()
    opts = Options(
        screens_per_node=args.screens_per_node,
        delegates=args.delegates,
        at_rest_n=args.at_rest_n,
        pin=not args.no_pin,
        monitor=not args.no_monitor,
    )
    sweep = tuple(int(x) for x in args.sweep.split(",") if x)
    runs = bench([int(x) for x in args.nodes.split(",")], opts, not args.no_baseline, sweep)
    fit = marginal(runs)
    appended = append_figures(args.append_n) if args.append_n else {}
    print(
        f"\ncluster fan-out: {args.screens_per_node} screens per node, {args.delegates}"
        f" delegates spread over the nodes; nodes and Redis on core(s) {SERVER_CORES},"
        f" generator on {CLIENT_CORES}" + ("" if opts.pin else " (not pinned)")
    )
    report(runs)
    if fit is not None:
        print(
            f"one node on Redis, CPU over a storm of {fit['window_s']:.1f} s = "
            f"{fit['fixed_cpu_s']:.3f} s + {fit['cpu_ms_per_screen']:.3f} ms per screen"
            f" (least squares over the one-node runs): one core at half load holds"
            f" {fit['screens_per_core_at_half']:.0f} screens through such a storm"
        )
    Path("artifacts").mkdir(exist_ok=True)
    Path("artifacts/bench-cluster-fanout.json").write_text(
        json.dumps({"runs": runs, "append": appended, "marginal": fit}, indent=2)
    )
    ok = all(r["screens_with_final_tally"] == r["screens"] for r in runs)
    print(
        "cluster fan-out: "
        + "; ".join(
            f"{r['nodes']}×{r['journal']} {r['screens']} screens tally max +"
            f"{_ms(r['tally_after_last_ack_ms']['max']).strip()} ms after the last ack"
            f" (+{_ms(r['tally_after_last_cast_ms']['max']).strip()} after the last cast),"
            f" {1000 * sum(x['cpu_s'] for x in r['per_node']) / r['screens']:.3f} CPU ms/screen"
            for r in runs
        )
        + (
            f"; append p50 {appended['journal_append_p50_ms']:.2f} ms"
            f" (bare XADD {appended['bare_xadd_p50_ms']:.2f} ms)"
            if appended
            else ""
        )
        + ("" if ok else " (NOT every screen showed the final tally)")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
