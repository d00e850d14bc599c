"""Load harness v2, scenario "vote storm" (run by `make bench`, not by `make test`).

N delegates cast within one second while M gallery screens watch. The clients are one
Node.js process (tests/load/node/storm.mjs, the `ws` package) pinned to a core of its own;
the screens count frames and bytes and decode nothing, so the generator stays well under
its core and the server, not the generator, is measured. Its CPU is printed beside every
figure, and a run where it passed 80 % of its core is marked INVALID.

Reported: ballot ack latency p50/p99 at the client and (from /metrics) at the hub; the
time from the last ack until every screen shows the final tally, and from the chair's
close until every screen shows the result; server CPU and RSS per connection; one
command's ack latency at rest. The same clients then run against two peers in the same
run: what a Python team would build instead (tests/load/socketio_peer.py: python-socketio
under uvicorn, a room broadcast of the tally per ballot) and a bare `websockets`
broadcast server (tests/load/bare_broadcast.py) that sends every ballot to every screen.
All three are printed side by side with their ratios to the hub, written to
artifacts/bench-vote-storm.json, and their ack latency distributions plotted to
artifacts/vote-storm-latency.png. The last line sums the hub up.

    python tests/load/vote_storm.py [--delegates 500] [--screens 2000] [--no-bare]
        [--no-socketio] [--no-plot]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec
import psutil
import websockets
import websockets.sync.client

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from server.auth import token_hash  # noqa: E402
from server.registry import CouncilRow, MemberRow, SessionRow  # noqa: E402
from server.registry_redis import open_registry  # noqa: E402
from tests.load.generator import GENERATOR_LIMIT_PCT, GeneratorError, NodeGenerator, verdict  # noqa: E402
from tests.load.hubstats import hub_figures, scrape, stage_table  # noqa: E402
from tests.load.profiling import Profile, summary  # noqa: E402
from tests.server.conftest import free_port  # noqa: E402

PROTO = "nghitruong.v1.msgpack"
pack, unpack = msgspec.msgpack.encode, msgspec.msgpack.decode
DEADLINE_S = 150  # the whole run stops by itself


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * len(ordered)) - 1)]


def _cell(value: object) -> str:
    return f"{value:10.1f}" if isinstance(value, float) else f"{value!s:>10}"


# The server under test gets a core of its own and the load generator the rest, so that
# both servers are measured alike and the clients do not starve the server they measure
# (in a hall they run on other machines). On a one-core machine nothing is pinned.
CORES = sorted(os.sched_getaffinity(0))
SERVER_CORES = CORES[:1] if len(CORES) > 1 else CORES
CLIENT_CORES = CORES[1:] if len(CORES) > 1 else CORES


def pin(cores: list[int], pid: int = 0) -> None:
    os.sched_setaffinity(pid, cores)


# The hub under test


def seed(data: Path, delegates: int, journal: str = "") -> tuple[list[str], str]:
    """A council of `delegates` members with sessions (the storm measures ballots, not
    password hashing, so sessions are written straight into the registry): the data
    folder's, or with a Redis `journal` the one the nodes share."""
    reg, _where = open_registry(journal, data)
    reg.add_council(CouncilRow("bench", "HĐND thử tải", delegates))
    tokens = []
    far = int(time.time() * 1000) + 3600_000
    for i in range(1, delegates + 1):
        roles = ("chair", "delegate") if i == 1 else ("delegate",)
        reg.add_member(MemberRow(f"m{i:03d}", "bench", f"Đại biểu {i}", str(i), roles))
        tok = secrets.token_urlsafe(24)
        reg.add_session(
            SessionRow(token_hash(tok), f"m{i:03d}", "member", f"m{i:03d}", "bench", 0, far, False)
        )
        tokens.append(tok)
    op = secrets.token_urlsafe(24)
    reg.add_session(SessionRow(token_hash(op), "op", "operator", "op", None, 0, far, False))
    reg.close()
    return tokens, op


def prioritise(pid: int, nice: int) -> None:
    """Give the measured processes precedence over whatever else shares the machine."""
    with contextlib.suppress(PermissionError):
        os.setpriority(os.PRIO_PROCESS, pid, nice)
        for thread in psutil.Process(pid).threads():
            os.setpriority(os.PRIO_PROCESS, thread.id, nice)


def core_busy(before: list[Any], after: list[Any], cores: list[int]) -> float:
    """How busy the given cores were in between, in % (every process on them: the machine
    is shared, and this shows how much of a core others took)."""
    busy = total = 0.0
    for c in cores:
        b, a = before[c], after[c]
        spent = sum(a) - sum(b)
        idle = (a.idle + a.iowait) - (b.idle + b.iowait)
        busy += spent - idle
        total += spent
    return 100 * busy / total if total else 0.0


def wait_listening(ws_url: str, sio: bool = False) -> None:
    protocols = None if sio else [PROTO]
    for _ in range(200):
        try:
            with websockets.sync.client.connect(ws_url, subprotocols=protocols):  # type: ignore[attr-defined]
                return
        except Exception:
            time.sleep(0.05)


# The peers of the hub in the same run: their server command and websocket path.
KINDS = ("hub", "socketio", "bare")
SIO_PATH = "/socket.io/?EIO=4&transport=websocket"


def server_command(kind: str, port: int, data: Path) -> list[str]:
    if kind == "bare":
        return [sys.executable, str(ROOT / "tests/load/bare_broadcast.py"), str(port)]
    if kind == "socketio":
        return [sys.executable, str(ROOT / "tests/load/socketio_peer.py"), str(port)]
    return [sys.executable, "-m", "server.cli", "serve", "--data", str(data), "--port", str(port)]


def create_sitting(url: str, op: str) -> str:
    r = httpx.post(
        url + "/api/sittings",
        headers={"authorization": f"Bearer {op}"},
        json={
            "council": "bench",
            "title": "Thử tải",
            "scheduled_at": 0,
            "agenda": [{"title": "Biểu quyết"}],
        },
        timeout=30,
    )
    return str(r.json()["id"])


def open_vote(chair: Any, url: str, sitting: str, token: str) -> str:
    """The chair opens the sitting, proposes a motion and opens its vote."""
    chair.send(pack({"t": "hello", "sitting": sitting, "token": token}))
    chair.recv()
    motion_doc = "f" * 64
    for body in (
        {"type": "sitting.open"},
        {"type": "sitting.start"},
        {"type": "doc.register", "hash": motion_doc, "title": "Dự thảo"},
        {"type": "motion.propose", "title": "Nghị quyết", "doc": motion_doc},
    ):
        sync_command(chair, body)
    state = httpx.get(f"{url}/api/sittings/{sitting}").json()
    motion = next(iter(state["motions"]))
    sync_command(chair, {"type": "vote.open", "motion": motion, "duration_s": 600})
    return str(next(v for v in httpx.get(f"{url}/api/sittings/{sitting}").json()["votes"]))


def storm(
    args: argparse.Namespace,
    kind: str = "hub",
    root: Path = ROOT,
    extra_env: list[str] | None = None,
) -> dict[str, Any]:
    """One storm against the hub of the checkout at ``root``, or a peer (`KINDS`)."""
    bare, sio = kind == "bare", kind == "socketio"
    data = Path(tempfile.mkdtemp(prefix="storm-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    tokens, op = seed(data, args.delegates)
    env = {**os.environ, "NGHITRUONG_COMMANDS_PER_S": "1000", "NGHITRUONG_FRAMES_PER_S": "2000"}
    env.update(item.split("=", 1) for item in extra_env or [])  # type: ignore[misc]
    server = subprocess.Popen(
        server_command(kind, port, data),
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    proc = psutil.Process(server.pid)
    pinning = getattr(args, "pin", True)
    gen = NodeGenerator(CLIENT_CORES if pinning else CORES)
    ws_url = url.replace("http", "ws") + (SIO_PATH if sio else "/ws")
    stack = contextlib.ExitStack()
    try:
        wait_listening(ws_url, sio)
        sitting = "bench" if bare or sio else create_sitting(url, op)
        rest_n = getattr(args, "at_rest_n", 200)
        at_rest_ms = (
            sio_at_rest(ws_url, tokens[0], rest_n)
            if sio
            else at_rest(ws_url, sitting, tokens[0], bare, rest_n)
        )
        # At rest the server had the whole machine, as deployed; for the storm it is pinned
        # (not in the smoke tests: `pin=False` leaves the test's process where it was).
        if pinning:
            pin(SERVER_CORES, server.pid)
            prioritise(server.pid, args.nice)
            for thread in proc.threads():  # the journal's writer thread too
                pin(SERVER_CORES, thread.id)
            pin(CLIENT_CORES)
        rss_before = proc.memory_info().rss
        ready = gen.start(
            {
                "url": ws_url,
                "sitting": sitting,
                "tokens": tokens,
                "screens": args.screens,
                "need": args.delegates,
                "bare": bare,
                "sio": sio,
                "check_in": kind == "hub",
                "spread_ms": 1000,
                "watch_s": 30,
            },
            timeout=DEADLINE_S,
        )
        connections = ready["connections"]
        rss_after = proc.memory_info().rss
        vote, chair = kind, None
        if kind == "hub":
            chair = stack.enter_context(
                websockets.sync.client.connect(ws_url, subprotocols=[PROTO])  # type: ignore[attr-defined]
            )
            vote = open_vote(chair, url, sitting, tokens[0])
        hist0 = scrape(url) if kind == "hub" else {}
        cpu0 = proc.cpu_times()
        core0 = psutil.cpu_times(percpu=True)
        started = time.time()
        if pinning:
            prioritise(gen.pid, args.nice)
        profile = (
            Profile(server.pid, Path(args.profile)) if args.profile and kind == "hub" else None
        )
        storm_out = gen.go(vote, timeout=DEADLINE_S)
        acks = [(s / 1000, a / 1000) for s, a in storm_out["acks"]]
        closing = 0.0
        if chair is not None:
            # The running tally (ballots cast of present) reaches the screens as conflated
            # views; give them a second to show it, then close the vote.
            time.sleep(1.0)
            closing = time.time()
            sync_command(chair, {"type": "vote.close", "vote": vote})
        seen = gen.screens(timeout=DEADLINE_S)
        if profile is not None:
            profile.stop()
        gen_pct = gen.cpu_pct()
        cpu1 = proc.cpu_times()
        core1 = psutil.cpu_times(percpu=True)
        elapsed = time.time() - started
        finals, closed = seen["screens"]["finals"], seen["screens"]["closed"]
        last_ack = max(a for _, a in acks)
        shown = [f / 1000 for f in finals if f is not None]
        lat = [(a - s) * 1000 for s, a in acks]
        server_cpu = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
        result: dict[str, Any] = {
            "kind": kind,
            "delegates": args.delegates,
            "screens": len(finals),
            "ack_p50_ms": pct(lat, 50),
            "ack_p99_ms": pct(lat, 99),
            "ack_max_ms": max(lat),
            "ack_ms": lat,
            "refused": storm_out["refused"],
            "screens_with_final_tally": len(shown),
            "final_tally_after_last_ack_ms": (max(shown) - last_ack) * 1000 if shown else None,
            "cpu_s": server_cpu,
            "cpu_pct_of_one_core": 100 * server_cpu / elapsed,
            "rss_per_connection_kb": (rss_after - rss_before) / 1024 / connections,
            "generator_cpu_pct": gen_pct,
            "generator_storm_cpu_pct": storm_out["cpu"]["pct"],
            "generator_peak_250ms_pct": seen["cpu"]["peak_250ms_pct"],
            "generator_loop_lag_p99_ms": storm_out["cpu"]["loop_lag_p99_ms"],
            "client_core_busy_pct": core_busy(core0, core1, CLIENT_CORES),
            "server_core_busy_pct": core_busy(core0, core1, SERVER_CORES),
            "frames_to_screens": seen["screens"]["frames"],
            "bytes_to_screens": seen["screens"]["bytes"],
        }
        if kind == "hub":
            result.update(hub_figures(hist0, scrape(url)))
            got = [c / 1000 for c in closed if c is not None]
            result["screens_with_result"] = len(got)
            result["result_on_every_screen_after_close_ms"] = (
                (max(got) - closing) * 1000 if got and len(got) == len(closed) else None
            )
        result["at_rest_p50_ms"] = at_rest_ms
        return result
    finally:
        stack.close()
        gen.stop()
        server.kill()
        server.wait()
        shutil.rmtree(data, ignore_errors=True)


def sync_command(ws: Any, cmd: dict[str, Any]) -> float:
    cid = secrets.token_hex(6)
    sent = time.perf_counter()
    ws.send(pack({"t": "cmd", "id": cid, "cmd": cmd}))
    while True:
        frame = unpack(ws.recv(timeout=30))
        if frame.get("t") in ("ack", "error") and frame.get("id") == cid:
            if frame["t"] == "error":
                raise RuntimeError(frame)
            return time.perf_counter() - sent


def sio_at_rest(ws_url: str, token: str, n: int = 200) -> float:
    """The Socket.IO peer's one ballot at a time, acknowledged before the next (Engine.IO
    4 text frames over the websocket transport, as the generator speaks them)."""
    times = []
    with websockets.sync.client.connect(ws_url) as ws:  # type: ignore[attr-defined]
        assert str(ws.recv(timeout=30)).startswith("0")
        ws.send("40" + json.dumps({"token": token}))
        assert str(ws.recv(timeout=30)).startswith("40")
        for i in range(n):
            sent = time.perf_counter()
            ws.send(f'42{i}["ballot",{{"choice":"approve"}}]')
            while not str(ws.recv(timeout=30)).startswith(f"43{i}["):
                pass
            times.append((time.perf_counter() - sent) * 1000)
    return statistics.median(times)


def at_rest(ws_url: str, sitting: str, token: str, bare: bool, n: int = 200) -> float:
    """One command at a time, acknowledged (durably, for the hub) before the next."""
    times = []
    with websockets.sync.client.connect(ws_url, subprotocols=[PROTO]) as ws:  # type: ignore[attr-defined]
        ws.send(pack({"t": "hello", "sitting": sitting, "token": token}))
        ws.recv()
        for i in range(n):
            cmd = (
                {"type": "vote.cast", "choice": "approve"}
                if bare
                else {"type": "attendance.leave", "member": "m002"}
                if i % 2 == 0
                else {"type": "attendance.check_in", "member": "m002"}
            )
            times.append(sync_command(ws, cmd) * 1000)
    return statistics.median(times)


ROWS = [
    ("ballot ack p50 (ms)", "ack_p50_ms"),
    ("ballot ack p99 (ms)", "ack_p99_ms"),
    ("ballot ack max (ms)", "ack_max_ms"),
    ("final tally on every screen after last ack (ms)", "final_tally_after_last_ack_ms"),
    ("screens that showed it", "screens_with_final_tally"),
    ("server CPU during the storm (s)", "cpu_s"),
    ("server CPU (% of one core)", "cpu_pct_of_one_core"),
    ("server RSS per connection (KB)", "rss_per_connection_kb"),
    ("one command at rest, p50 (ms)", "at_rest_p50_ms"),
    ("frames to the screens", "frames_to_screens"),
    ("generator CPU, go to last ack (% of its core)", "generator_storm_cpu_pct"),
    ("generator CPU, busiest 250 ms (% of its core)", "generator_peak_250ms_pct"),
    ("generator event-loop lag p99 (ms)", "generator_loop_lag_p99_ms"),
    ("client core busy, all processes (%)", "client_core_busy_pct"),
    ("server core busy, all processes (%)", "server_core_busy_pct"),
]


def table(columns: dict[str, dict[str, Any]]) -> None:
    """The figures side by side, with each column's ratio to the first."""
    names = list(columns)
    head = "".join(f"{n:>10}" for n in names)
    ratios = "".join(f"{n + '/' + names[0]:>14}" for n in names[1:])
    print(f"{'':50}{head}{ratios}")
    for label, key in ROWS:
        values = [columns[n].get(key) for n in names]
        cells = "".join(_cell(v) for v in values)
        base = values[0]
        rel = "".join(
            f"{v / base:14.2f}"
            if isinstance(v, int | float) and isinstance(base, int | float) and base
            else f"{'':14}"
            for v in values[1:]
        )
        print(f"{label:50}{cells}{rel}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--delegates", type=int, default=500)
    parser.add_argument("--screens", type=int, default=2000)
    parser.add_argument("--no-bare", action="store_true", help="skip the bare baseline")
    parser.add_argument("--no-socketio", action="store_true", help="skip the python-socketio peer")
    parser.add_argument(
        "--no-plot", action="store_true", help="no artifacts/vote-storm-latency.png"
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=-10,
        help="the server's and generator's nice value (the machine may be shared; root only)",
    )
    parser.add_argument("--profile", help="py-spy the hub during the storm into this file")
    parser.add_argument(
        "--hub-env",
        action="append",
        metavar="KEY=VALUE",
        help="an environment variable for this checkout's hub only (A/B against --before)",
    )
    parser.add_argument(
        "--before",
        metavar="CHECKOUT",
        help="also storm the hub of another checkout (e.g. a worktree of an earlier commit)",
    )
    args = parser.parse_args()
    import websockets.sync.client  # noqa: F401

    columns: dict[str, dict[str, Any]] = {}
    if args.before:  # measured first, then this checkout: the same machine, minutes apart
        columns["before"] = storm(args, root=Path(args.before).resolve())
    columns["hub"] = storm(args, extra_env=args.hub_env)
    peers = [k for k, skip in (("socketio", args.no_socketio), ("bare", args.no_bare)) if not skip]
    for kind in peers:
        try:
            columns[kind] = storm(args, kind)
        except GeneratorError as err:  # the peers can take minutes on a busy machine
            print(f"{kind}: no figures ({err})")
    hub = columns["hub"]
    print(
        "peers: socketio = python-socketio (AsyncServer, ASGI) under uvicorn, a room broadcast"
        " of the tally per ballot; bare = websockets, every ballot to every screen"
    )
    print(
        f"vote storm: {args.delegates} delegates within 1 s, {args.screens} gallery screens;"
        f" server pinned to core(s) {SERVER_CORES}, generator (Node.js, ws) to {CLIENT_CORES};"
        f" both at nice {args.nice}"
    )
    table(columns)
    for name, col in columns.items():
        print(f"{name}: {verdict(col['generator_storm_cpu_pct'])}")
    print(
        f"hub side (from /metrics buckets): ack p50 ≤ {hub.get('hub_side_ack_p50_ms_at_most')} ms,"
        f" p99 ≤ {hub.get('hub_side_ack_p99_ms_at_most')} ms;"
        f" commands per group commit p50 ≤ {hub.get('group_commit_batch_p50_at_most')}"
    )
    for name in ("before", "hub"):
        if name in columns:
            print(f"{name}: " + stage_table(columns[name]))
    if args.profile:
        print(summary(Path(args.profile)))
    closed = hub.get("result_on_every_screen_after_close_ms")
    print(
        f"hub: the result (vote.closed with the verdict) on all {hub.get('screens_with_result')}"
        f" screens {closed} ms after the chair's close was sent"
    )
    print(
        "targets: ack p99 ≤ 50 ms (hub side ≤ 10 ms); final tally ≤ 300 ms after the last ack;"
        " result ≤ 300 ms after the close; ≤ 50 KB per connection; one command at rest ≤ 1 ms p50"
    )
    Path("artifacts").mkdir(exist_ok=True)
    Path("artifacts/bench-vote-storm.json").write_text(json.dumps(columns, indent=2))
    if not args.no_plot:
        from tests.load.plot import latency_plot

        png = latency_plot(columns, Path("artifacts/vote-storm-latency.png"))
        print(f"ack latency distributions: {png}")
    # The line sums up the hub: its validity is the hub's (and `--before`'s) generator's;
    # a peer's own verdict is printed above with its figures.
    valid = all(
        columns[n]["generator_storm_cpu_pct"] <= GENERATOR_LIMIT_PCT
        for n in ("before", "hub")
        if n in columns
    )
    print(
        f"vote storm: ack p99 {hub['ack_p99_ms']:.0f} ms,"
        f" tally +{_ms(hub['final_tally_after_last_ack_ms'])} ms,"
        f" close +{_ms(closed)} ms, RSS {hub['rss_per_connection_kb']:.0f} KB/conn"
        + ("" if valid else " (INVALID: the generator passed 80% of its core)")
    )
    return 0


def _ms(value: float | None) -> str:
    return "?" if value is None else f"{value:.0f}"


if __name__ == "__main__":
    raise SystemExit(main())
