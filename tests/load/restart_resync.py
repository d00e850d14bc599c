"""Restart: 2,000 connected gallery screens resynced after a hub restart (run by `make
bench`). The screens (tests/load/node/resync.mjs, one Node.js process on the client core)
follow the sitting's seq; the hub (on its own core) is stopped, once with SIGTERM (a
graceful stop) and once with SIGKILL, and started again at once on the same data and
port. Each screen reconnects with its last seq (50–150 ms between attempts) and counts
as caught up once it is welcomed again at the sitting's last seq or beyond. Reported per
stop: how long the hub took to stop, to listen again, and until every screen was caught
up, counted from the new hub's start and from the signal; target: every one within 5 s.
The baseline in the same run: the time the same screens took to connect the first time
(each sent a snapshot by a hub that was up).

    python tests/load/restart_resync.py [--screens 2000] [--delegates 500]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec
import websockets
import websockets.sync.client

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.load.generator import NODE_DIR, NodeGenerator  # noqa: E402
from tests.load.storm_scale import raise_fd_limit  # noqa: E402
from tests.load.vote_storm import (  # noqa: E402
    CLIENT_CORES,
    CORES,
    PROTO,
    SERVER_CORES,
    create_sitting,
    pct,
    pin,
    seed,
    server_command,
    sync_command,
    wait_listening,
)
from tests.server.conftest import free_port  # noqa: E402

RESYNC = NODE_DIR / "resync.mjs"
TARGET_S = 5.0


class Hub:
    def __init__(self, data: Path, port: int, pinning: bool) -> None:
        self.data, self.port, self.pinning = data, port, pinning
        self.url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}/ws"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        """Start the hub; the instant it was started (epoch s)."""
        started = time.time()
        self.proc = subprocess.Popen(
            server_command("hub", self.port, self.data),
            cwd=ROOT,
            env={**os.environ, "NGHITRUONG_COMMANDS_PER_S": "1000"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=(lambda: os.sched_setaffinity(0, SERVER_CORES)) if self.pinning else None,
        )
        return started

    def listening(self, sitting: str, timeout: float = 60) -> float:
        """Poll (every 20 ms) until the hub answers for the sitting; the instant (epoch s)."""
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=1) as client:
            while time.monotonic() < deadline:
                try:
                    if client.get(f"{self.url}/api/sittings/{sitting}").status_code == 200:
                        return time.time()
                except httpx.HTTPError:
                    pass
                time.sleep(0.02)
        raise TimeoutError("the hub did not come back")

    def stop(self, sig: int) -> float:
        """Signal the hub and wait for it to end; seconds it took."""
        assert self.proc is not None
        sent = time.monotonic()
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return time.monotonic() - sent

    def seq(self, sitting: str) -> int:
        return int(httpx.get(f"{self.url}/api/sittings/{sitting}", timeout=30).json()["seq"])


def advance(hub: Hub, sitting: str, token: str, n: int, members: int) -> None:
    """The chair appends `n` events (members in and out) so the screens have a seq to keep."""
    with websockets.sync.client.connect(hub.ws_url, subprotocols=[PROTO]) as chair:  # type: ignore[attr-defined]
        chair.send(msgspec.msgpack.encode({"t": "hello", "sitting": sitting, "token": token}))
        chair.recv(timeout=30)
        for i in range(n):
            kind = "attendance.check_in" if i % 2 == 0 else "attendance.leave"
            sync_command(
                chair, {"type": kind, "member": f"m{2 + i // 2 % min(40, members - 1):03d}"}
            )


def run(screens: int, delegates: int, signals: list[int], pinning: bool = True) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix="restart-"))
    tokens, op = seed(data, delegates)
    hub = Hub(data, free_port(), pinning)
    hub.start()
    gen = NodeGenerator(CLIENT_CORES if pinning else CORES, script=RESYNC)
    rounds: list[dict[str, Any]] = []
    try:
        wait_listening(hub.ws_url)
        sitting = create_sitting(hub.url, op)
        advance(hub, sitting, tokens[0], 20, delegates)
        ready = gen.start(
            {"url": hub.ws_url, "sitting": sitting, "screens": screens, "connect_parallel": 32},
            timeout=600,
        )
        for sig in signals:
            advance(hub, sitting, tokens[0], 10, delegates)
            last = hub.seq(sitting)
            gen.send({"at": last, "timeout_s": 60})
            if not gen.expect("at", 90)["at"]:
                raise RuntimeError(f"the screens did not reach seq {last} before the stop")
            gen.send({"arm": last})
            signalled = time.time()
            stop_s = hub.stop(sig)
            started = hub.start()
            listening = hub.listening(sitting)
            gen.send({"wait": 60})
            out = gen.expect("caught", 90)
            caught = [c / 1000 for c in out["caught"] if c is not None]
            after_start = [(c - started) * 1000 for c in caught]
            rounds.append(
                {
                    "signal": signal.Signals(sig).name,
                    "screens": ready["connections"],
                    "first_connect_ms": ready["connect_s"] * 1000,
                    "last_seq": last,
                    "caught_up": len(caught),
                    "dropped": out["dropped"],
                    "stop_ms": stop_s * 1000,
                    "listening_after_start_ms": (listening - started) * 1000,
                    "all_caught_up_after_start_ms": max(after_start) if after_start else None,
                    "all_caught_up_after_signal_ms": (
                        (max(caught) - signalled) * 1000 if caught else None
                    ),
                    "caught_up_after_start_p50_ms": pct(after_start, 50),
                    "reconnect_attempts": out["stats"]["attempts"],
                    "refused_attempts": out["stats"]["refused"],
                    "resumed": out["stats"]["resumed"],
                    "snapshots": out["stats"]["snapshots"],
                    "generator_cpu_ms": out["cpu_ms"],
                }
            )
        return {"screens": screens, "delegates": delegates, "rounds": rounds}
    finally:
        gen.stop()
        if hub.proc is not None:
            hub.proc.kill()
            hub.proc.wait()
        shutil.rmtree(data, ignore_errors=True)


ROWS = [
    ("screens connected before the stop", "screens"),
    ("baseline: their first connection, all (ms)", "first_connect_ms"),
    ("their last seq", "last_seq"),
    ("hub stopped after the signal (ms)", "stop_ms"),
    ("new hub listening after its start (ms)", "listening_after_start_ms"),
    ("screens caught up again", "caught_up"),
    ("every screen caught up, after the start (ms)", "all_caught_up_after_start_ms"),
    ("every screen caught up, after the signal (ms)", "all_caught_up_after_signal_ms"),
    ("half of them caught up, after the start (ms)", "caught_up_after_start_p50_ms"),
    ("resumed (welcome without snapshot)", "resumed"),
    ("sent a snapshot", "snapshots"),
    ("connection attempts (refused)", "reconnect_attempts"),
    ("generator CPU until every one was back (ms)", "generator_cpu_ms"),
]


def report(result: dict[str, Any]) -> str:
    rounds = result["rounds"]
    lines = [f"{'':48}" + "".join(f"{r['signal']:>14}" for r in rounds)]
    for label, key in ROWS:
        cells = ""
        for r in rounds:
            v = r[key]
            text = "–" if v is None else f"{v:.0f}" if isinstance(v, float) else str(v)
            if key == "reconnect_attempts":
                text += f" ({r['refused_attempts']})"
            cells += f"{text:>14}"
        lines.append(f"{label:48}{cells}")
    for r in rounds:
        ok = r["caught_up"] == r["screens"] and (r["all_caught_up_after_start_ms"] or 1e9) <= (
            TARGET_S * 1000
        )
        lines.append(
            f"{r['signal']}: {'met' if ok else 'NOT met'}: every one of {r['screens']} screens"
            f" at seq {r['last_seq']} within {TARGET_S:.0f} s of the restart"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--screens", type=int, default=2000)
    parser.add_argument("--delegates", type=int, default=500, help="the council's size")
    args = parser.parse_args()
    raise_fd_limit(args.screens + 4096)

    pin(CLIENT_CORES)
    result = run(args.screens, args.delegates, [signal.SIGTERM, signal.SIGKILL])
    print(
        f"restart: {args.screens} gallery screens, the hub on core(s) {SERVER_CORES} stopped"
        f" and started again at once; screens (Node.js) on {CLIENT_CORES}"
    )
    print(report(result))
    Path("artifacts").mkdir(exist_ok=True)
    Path("artifacts/bench-restart.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
