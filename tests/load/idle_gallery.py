"""Idle gallery connections on one node (run by `make bench`): N screens (10,000 by
default) connect to the hub's sitting of a 500-member council and stay idle; the hub's RSS
per connection is its growth over the empty process divided by N. The same N are then
held by the two peers of the vote storm (the bare `websockets` server and the
python-socketio one), in the same run. The clients are the vote storm's Node.js
generator, holding its screens and nothing else; each connection is a descriptor on both
sides, so the script raises its own `ulimit -n` (inherited by both) first.

    python tests/load/idle_gallery.py [--screens 10000] [--delegates 500] [--settle 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.load.generator import GeneratorError, NodeGenerator  # noqa: E402
from tests.load.storm_scale import raise_fd_limit  # noqa: E402
from tests.load.vote_storm import (  # noqa: E402
    CLIENT_CORES,
    CORES,
    SERVER_CORES,
    SIO_PATH,
    create_sitting,
    pin,
    seed,
    server_command,
    wait_listening,
)
from tests.server.conftest import free_port  # noqa: E402


def hold(
    kind: str,
    screens: int,
    delegates: int,
    settle_s: float,
    pinning: bool = True,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """N idle screens on one server of `kind` (hub, socketio, bare): its RSS growth."""
    data = Path(tempfile.mkdtemp(prefix="idle-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    _tokens, op = seed(data, delegates)
    server = subprocess.Popen(
        server_command(kind, port, data),
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    proc = psutil.Process(server.pid)
    gen = NodeGenerator(CLIENT_CORES if pinning else CORES)
    ws_url = url.replace("http", "ws") + (SIO_PATH if kind == "socketio" else "/ws")
    try:
        wait_listening(ws_url, kind == "socketio")
        sitting = create_sitting(url, op) if kind == "hub" else "bench"
        if pinning:
            pin(SERVER_CORES, server.pid)
            for thread in proc.threads():
                pin(SERVER_CORES, thread.id)
        time.sleep(0.5)
        rss0 = proc.memory_info().rss
        started = time.monotonic()
        ready = gen.start(
            {
                "url": ws_url,
                "sitting": sitting,
                "tokens": [],
                "screens": screens,
                "need": 0,
                "bare": kind == "bare",
                "sio": kind == "socketio",
                "check_in": False,
                "connect_parallel": 64,
            },
            timeout=600,
        )
        connect_s = time.monotonic() - started
        rss1 = proc.memory_info().rss
        time.sleep(settle_s)  # buffers drained, anything lazy done
        rss2 = proc.memory_info().rss
        gen_rss = psutil.Process(gen.pid).memory_info().rss
        return {
            "kind": kind,
            "screens": ready["connections"],
            "connect_s": connect_s,
            "rss_empty_mb": rss0 / 2**20,
            "rss_held_mb": rss2 / 2**20,
            "rss_per_connection_kb": (rss2 - rss0) / 1024 / ready["connections"],
            "rss_per_connection_at_connect_kb": (rss1 - rss0) / 1024 / ready["connections"],
            "generator_rss_per_connection_kb": gen_rss / 1024 / ready["connections"],
            "server_cpu_s": sum(proc.cpu_times()[:2]),
        }
    finally:
        gen.stop()
        server.kill()
        server.wait()
        shutil.rmtree(data, ignore_errors=True)


ROWS = [
    ("connections held", "screens"),
    ("time to connect them all (s)", "connect_s"),
    ("server RSS empty (MB)", "rss_empty_mb"),
    ("server RSS holding them (MB)", "rss_held_mb"),
    ("server RSS per connection (KB)", "rss_per_connection_kb"),
    ("  the same, right after connecting (KB)", "rss_per_connection_at_connect_kb"),
    ("server CPU since start (s)", "server_cpu_s"),
    ("generator RSS per connection (KB)", "generator_rss_per_connection_kb"),
]


def report(columns: dict[str, dict[str, Any]]) -> str:
    names = list(columns)
    lines = [
        f"{'':42}"
        + "".join(f"{n:>10}" for n in names)
        + "".join(f"{n + '/hub':>14}" for n in names[1:])
    ]
    for label, key in ROWS:
        values = [columns[n][key] for n in names]
        cells = "".join(f"{v:10.1f}" if isinstance(v, float) else f"{v:>10}" for v in values)
        ratios = "".join(f"{v / values[0]:14.2f}" if values[0] else f"{'':14}" for v in values[1:])
        lines.append(f"{label:42}{cells}{ratios}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--screens", type=int, default=10_000)
    parser.add_argument("--delegates", type=int, default=500, help="the council's size")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds before RSS is read")
    parser.add_argument("--peers", default="bare,socketio", help="comma-separated, or empty")
    parser.add_argument(
        "--hub-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an environment variable for the hub only; then the hub is also held without",
    )
    args = parser.parse_args()
    limit = raise_fd_limit(args.screens + 4096)

    columns: dict[str, dict[str, Any]] = {}
    hub_env = dict(item.split("=", 1) for item in args.hub_env)
    runs: list[tuple[str, str, dict[str, str] | None]] = [("hub", "hub", None)]
    if hub_env:
        runs.append(("hub+env", "hub", hub_env))
    runs += [(k, k, None) for k in filter(None, args.peers.split(","))]
    for name, kind, env in runs:
        try:
            columns[name] = hold(kind, args.screens, args.delegates, args.settle, env=env)
        except GeneratorError as err:
            print(f"{name}: did not hold {args.screens} connections ({str(err)[:200]})")
    print(
        f"idle gallery: {args.screens} screens on one node (a {args.delegates}-member council's"
        f" sitting for the hub), ulimit -n {limit}; bare = websockets, socketio ="
        " python-socketio under uvicorn"
    )
    if hub_env:
        print(f"hub+env: the hub with {' '.join(args.hub_env)}")
    if "hub" in columns:
        print(report(columns))
    Path("artifacts").mkdir(exist_ok=True)
    Path("artifacts/bench-idle-gallery.json").write_text(json.dumps(columns, indent=2))
    return 0 if "hub" in columns else 1


if __name__ == "__main__":
    raise SystemExit(main())
