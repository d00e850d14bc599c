"""Load harness v1, scenario "vote storm" (run by `make bench`, not by `make test`).

N delegates cast within one second while M gallery screens watch. Clients run in separate
processes. Reported: ballot ack latency p50/p99; the time from the last ack until every
screen shows the final tally; hub CPU and RSS per connection; one command's ack latency at
rest. The same clients then run against a bare `websockets` broadcast server
(tests/load/bare_broadcast.py) that sends every ballot to every screen; both are printed
with their ratio, and written to artifacts/bench-vote-storm.json.

    python tests/load/vote_storm.py [--delegates 500] [--screens 2000] [--procs 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import secrets
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

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from server.auth import token_hash  # noqa: E402
from server.registry import CouncilRow, MemberRow, Registry, SessionRow  # noqa: E402
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


def scrape(url: str) -> dict[str, dict[float, float]]:
    """The hub's cumulative histogram buckets from /metrics, by metric name."""
    out: dict[str, dict[float, float]] = {}
    for line in httpx.get(url + "/metrics", timeout=30).text.splitlines():
        if "_bucket{" not in line or line.startswith("#"):
            continue
        name, rest = line.split("_bucket{", 1)
        bound = rest.split('le="', 1)[1].split('"', 1)[0]
        out.setdefault(name, {})[float(bound)] = float(line.rsplit(" ", 1)[1])
    return out


def bucket_quantile(before: dict[float, float], after: dict[float, float], q: float) -> float:
    """The upper bound of the bucket holding quantile q of what was observed in between."""
    bounds = sorted(after)
    total = after[bounds[-1]] - before.get(bounds[-1], 0)
    for bound in bounds:
        if after[bound] - before.get(bound, 0) >= q * total:
            return bound
    return float("inf")


# Client processes


async def _connect(url: str, sitting: str, token: str | None) -> Any:
    ws = await websockets.connect(
        url,
        subprotocols=[PROTO],
        max_size=None,  # type: ignore[list-item]
        open_timeout=60,
        ping_interval=None,
    )
    await ws.send(pack({"t": "hello", "sitting": sitting, "token": token}))
    await ws.recv()
    return ws


async def _delegates(
    url: str, sitting: str, tokens: list[str], ready: Any, go: Any, box: Any, out: Any, bare: bool
) -> None:
    conns = []
    for tok in tokens:
        conns.append(await _connect(url, sitting, tok))
    acks: dict[str, float] = {}
    waiters: dict[str, asyncio.Future[None]] = {}

    async def read(ws: Any) -> None:
        async for data in ws:
            frame = unpack(data)
            if frame.get("t") in ("ack", "error"):
                acks[frame["id"]] = time.time()
                fut = waiters.pop(frame["id"], None)
                if fut is not None and not fut.done():
                    fut.set_result(None)

    readers = [asyncio.create_task(read(ws)) for ws in conns]

    async def command(ws: Any, cmd: dict[str, Any]) -> tuple[float, float]:
        cid = secrets.token_hex(6)
        waiters[cid] = asyncio.get_running_loop().create_future()
        sent = time.time()
        await ws.send(pack({"t": "cmd", "id": cid, "cmd": cmd}))
        await asyncio.wait_for(waiters[cid], 60)
        return sent, acks[cid]

    if not bare:
        await asyncio.gather(*(command(ws, {"type": "attendance.check_in"}) for ws in conns))
    ready.release()
    await asyncio.to_thread(go.wait)
    vote = box.get()

    async def cast(ws: Any, choice: str) -> tuple[float, float]:
        await asyncio.sleep(random.uniform(0, 1.0))  # everyone within one second
        return await command(ws, {"type": "vote.cast", "vote": vote, "choice": choice})

    timings = await asyncio.gather(
        *(cast(ws, random.choice(["approve", "reject", "abstain"])) for ws in conns)
    )
    out.put(("delegates", [(s, a) for s, a in timings]))
    await asyncio.sleep(3)
    for r in readers:
        r.cancel()
    for ws in conns:
        await ws.close()


async def _screens(
    url: str,
    sitting: str,
    count: int,
    need: int,
    ready: Any,
    out: Any,
    bare: bool,
    stop_after: float,
) -> None:
    conns = []
    for _ in range(count):
        conns.append(await _connect(url, sitting, None))
    finals: list[float | None] = [None] * count
    closed: list[float | None] = [None] * count

    async def watch(i: int, ws: Any) -> None:
        seen = 0
        async for data in ws:
            frame = unpack(data)
            t = frame.get("t")
            if bare and t == "ballot":
                seen += 1
                if seen == need:
                    finals[i] = time.time()
                    return
            elif t == "view" and frame.get("vote") and frame["vote"]["ballots"] >= need:
                finals[i] = finals[i] or time.time()
            elif t == "events" and any(
                e["event"]["type"] == "vote.closed" for e in frame["events"]
            ):
                closed[i] = time.time()
                return

    ready.release()
    tasks = [asyncio.create_task(watch(i, ws)) for i, ws in enumerate(conns)]
    await asyncio.wait(tasks, timeout=stop_after)
    out.put(("screens", finals, closed))
    for ws in conns:
        await ws.close()


def _run(target: Any, *args: Any) -> None:
    pin(CLIENT_CORES)
    asyncio.run(target(*args))


# The server under test gets a core of its own and the load generator the rest, so that
# both servers are measured alike and the clients do not starve the server they measure
# (in a hall they run on other machines). On a one-core machine nothing is pinned.
CORES = sorted(os.sched_getaffinity(0))
SERVER_CORES = CORES[:1] if len(CORES) > 1 else CORES
CLIENT_CORES = CORES[1:] if len(CORES) > 1 else CORES


def pin(cores: list[int], pid: int = 0) -> None:
    os.sched_setaffinity(pid, cores)


# The hub under test


def seed(data: Path, delegates: int) -> tuple[list[str], str]:
    """A council of `delegates` members with sessions (the storm measures ballots, not
    password hashing, so sessions are written straight into the registry)."""
    reg = Registry(data)
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


def storm(args: argparse.Namespace, bare: bool) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix="storm-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    tokens, op = seed(data, args.delegates)
    env = {**os.environ, "NGHITRUONG_COMMANDS_PER_S": "1000", "NGHITRUONG_FRAMES_PER_S": "2000"}
    cmd = (
        [sys.executable, str(ROOT / "tests/load/bare_broadcast.py"), str(port)]
        if bare
        else [sys.executable, "-m", "server.cli", "serve", "--data", str(data), "--port", str(port)]
    )
    server = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    proc = psutil.Process(server.pid)
    try:
        for _ in range(200):
            try:
                with websockets.sync.client.connect(
                    url.replace("http", "ws") + "/ws",  # type: ignore[attr-defined]
                    subprotocols=[PROTO],
                ):
                    break
            except Exception:
                time.sleep(0.05)
        sitting = "bench"
        if not bare:
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
            sitting = r.json()["id"]
        at_rest_ms = at_rest(url.replace("http", "ws") + "/ws", sitting, tokens[0], bare)
        # At rest the server had the whole machine, as deployed; for the storm it is pinned.
        pin(SERVER_CORES, server.pid)
        for thread in proc.threads():  # the journal's writer thread too
            pin(SERVER_CORES, thread.id)
        pin(CLIENT_CORES)
        rss_before = proc.memory_info().rss
        ctx = mp.get_context("fork")
        ready, go, out = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
        ws_url = url.replace("http", "ws") + "/ws"
        chunks = [tokens[i :: args.procs] for i in range(args.procs)]
        boxes = [ctx.Queue() for _ in chunks]
        per = args.screens // args.procs
        workers = [
            ctx.Process(
                target=_run,
                args=(_delegates, ws_url, sitting, chunk, ready, go, boxes[i], out, bare),
            )
            for i, chunk in enumerate(chunks)
        ]
        workers += [
            ctx.Process(
                target=_run,
                args=(_screens, ws_url, sitting, per, args.delegates, ready, out, bare, 60),
            )
            for _ in range(args.procs)
        ]
        for w in workers:
            w.start()
        for _ in workers:
            if not ready.acquire(timeout=DEADLINE_S):
                raise TimeoutError("clients did not connect in time")
        connections = args.delegates + per * args.procs
        rss_after = proc.memory_info().rss
        vote = "bare"
        chair = None
        if not bare:
            chair = websockets.sync.client.connect(ws_url, subprotocols=[PROTO])  # type: ignore[attr-defined]
            chair.send(pack({"t": "hello", "sitting": sitting, "token": tokens[0]}))
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
            vote = next(v for v in httpx.get(f"{url}/api/sittings/{sitting}").json()["votes"])
        hist0 = {} if bare else scrape(url)
        cpu0 = proc.cpu_times()
        started = time.time()
        for box in boxes:
            box.put(vote)
        go.set()
        acks: list[tuple[float, float]] = []
        finals: list[float | None] = []
        closed: list[float | None] = []
        received = 0
        closing = 0.0
        while received < len(workers):
            item = out.get(timeout=DEADLINE_S)
            received += 1
            if item[0] == "delegates":
                acks.extend(item[1])
                if len(acks) == args.delegates and chair is not None:
                    # The running tally (ballots cast of present) reaches the screens as
                    # conflated views; give them a second to show it, then close the vote.
                    time.sleep(1.0)
                    closing = time.time()
                    sync_command(chair, {"type": "vote.close", "vote": vote})
            else:
                finals.extend(item[1])
                closed.extend(item[2])
        cpu1 = proc.cpu_times()
        elapsed = time.time() - started
        last_ack = max(a for _, a in acks)
        shown = [f for f in finals if f is not None]
        result = {
            "delegates": args.delegates,
            "screens": len(finals),
            "ack_p50_ms": pct([(a - s) * 1000 for s, a in acks], 50),
            "ack_p99_ms": pct([(a - s) * 1000 for s, a in acks], 99),
            "screens_with_final_tally": len(shown),
            "final_tally_after_last_ack_ms": (max(shown) - last_ack) * 1000 if shown else None,
            "cpu_s": (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system),
            "cpu_pct_of_one_core": 100
            * ((cpu1.user + cpu1.system) - (cpu0.user + cpu0.system))
            / elapsed,
            "rss_per_connection_kb": (rss_after - rss_before) / 1024 / connections,
        }
        if not bare:
            hist1 = scrape(url)
            lat0, lat1 = hist0["nghitruong_command_seconds"], hist1["nghitruong_command_seconds"]
            result["hub_side_ack_p50_ms_at_most"] = 1000 * bucket_quantile(lat0, lat1, 0.5)
            result["hub_side_ack_p99_ms_at_most"] = 1000 * bucket_quantile(lat0, lat1, 0.99)
            b0, b1 = hist0["nghitruong_batch_commands"], hist1["nghitruong_batch_commands"]
            result["group_commit_batch_p50_at_most"] = bucket_quantile(b0, b1, 0.5)
            got = [c for c in closed if c is not None]
            result["screens_with_result"] = len(got)
            result["result_on_every_screen_after_close_ms"] = (
                (max(got) - closing) * 1000 if got and len(got) == len(closed) else None
            )
        result["at_rest_p50_ms"] = at_rest_ms
        if chair is not None:
            chair.close()
        for w in workers:
            w.join(timeout=10)
        return result
    finally:
        server.kill()
        server.wait()


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--delegates", type=int, default=500)
    parser.add_argument("--screens", type=int, default=2000)
    parser.add_argument("--procs", type=int, default=4)
    args = parser.parse_args()
    import websockets.sync.client  # noqa: F401

    hub = storm(args, bare=False)
    bare = storm(args, bare=True)
    rows = [
        ("ballot ack p50 (ms)", "ack_p50_ms"),
        ("ballot ack p99 (ms)", "ack_p99_ms"),
        ("final tally on every screen after last ack (ms)", "final_tally_after_last_ack_ms"),
        ("screens that showed it", "screens_with_final_tally"),
        ("server CPU during the storm (s)", "cpu_s"),
        ("server CPU (% of one core)", "cpu_pct_of_one_core"),
        ("server RSS per connection (KB)", "rss_per_connection_kb"),
        ("one command at rest, p50 (ms)", "at_rest_p50_ms"),
    ]
    print(
        f"vote storm: {args.delegates} delegates within 1 s, {args.screens} gallery screens;"
        f" server pinned to core(s) {SERVER_CORES}, clients to {CLIENT_CORES}"
    )
    print(f"{'':50} {'hub':>10} {'bare':>10} {'hub/bare':>9}")
    for label, key in rows:
        h, b = hub.get(key), bare.get(key)
        ratio = (
            f"{h / b:9.2f}"
            if isinstance(h, int | float) and isinstance(b, int | float) and b
            else ""
        )
        print(f"{label:50} {_cell(h)} {_cell(b)} {ratio}")
    print(
        f"hub side (from /metrics buckets): ack p50 ≤ {hub.get('hub_side_ack_p50_ms_at_most')} ms,"
        f" p99 ≤ {hub.get('hub_side_ack_p99_ms_at_most')} ms;"
        f" commands per group commit p50 ≤ {hub.get('group_commit_batch_p50_at_most')}"
    )
    closed = hub.get("result_on_every_screen_after_close_ms")
    print(
        f"hub: the result (vote.closed with the verdict) on all {hub.get('screens_with_result')}"
        f" screens {closed} ms after the chair's close was sent"
    )
    print(
        "targets: ack p99 ≤ 50 ms; final tally ≤ 300 ms after the last ack; "
        "≤ 100 KB per connection; one command at rest ≤ 1 ms p50"
    )
    Path("artifacts").mkdir(exist_ok=True)
    Path("artifacts/bench-vote-storm.json").write_text(
        json.dumps({"hub": hub, "bare": bare}, indent=2)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
