"""Benchmark of the media hub (run by `make bench`, not by `make test`).

    python tests/load/media_fanout.py --receivers N

One publisher sends 640×360 VP8 at 30 fps, 700 kbps, and Opus (aiortc's encoders; the
top half a grey that names the publisher, the bottom half a scrolling texture) to a hub;
N receivers (aiortc peers counting what arrives at the RTP level, 25 per process) take
the floor from the hub. Every party runs in its own process, so the hub's CPU (psutil,
user + system time of the hub process over the measurement window; 100% = one core) is
the hub's alone; the machine's load is recorded beside it, since other work on a shared
machine shows in every figure. Measured in the same run:

- forwarding: the hub is ``media.peers.SittingMedia`` (encoded frames forwarded) with a
  second publisher B, silenced; frame rates on every receiver; then floor switches
  A → B → A … : the time from the hub's switch to the first frame of the new speaker at
  each receiver (that frame is a keyframe, decoded to check whose picture it is), p50 /
  p95 / max, and per switch where the time went (PLI at the publisher, keyframe encoded,
  keyframe at the hub);
- MediaRelay: a hub of plain aiortc with ``MediaRelay`` (decode once, encode per receiver,
  ``buffered=False``) with min(N, --relay-receivers) receivers (default 5: it saturates a
  core at about ten, MEDIA-NOTES.md, and the machine is shared): its CPU per receiver is
  what compares.

Writes artifacts/bench-media.json; the last line printed is
``forwarding: N receivers, X% of one core``. Targets: 100 receivers within one core at
full frame rate; 50 receivers ≤ 40%; switch ≤ 1 s p95. Every wait is bounded and the whole
run stops by itself (--budget seconds).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import multiprocessing
import multiprocessing.connection
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import psutil

from tests.load.media_parties import FPS, HEIGHT, WIDTH, Conn, party_main

PER_PROCESS = 25  # receivers per receiver process


# -- the orchestrator ------------------------------------------------------------------


class Fleet:
    """The processes of one phase; every call has a deadline, and leaving the block
    stops them all (politely, then by force)."""

    def __init__(self, deadline: float) -> None:
        self.ctx = multiprocessing.get_context("spawn")
        self.deadline = deadline
        self.procs: list[tuple[Any, Conn]] = []

    def start(self, role: str, **params: Any) -> tuple[Any, Conn]:
        here, there = self.ctx.Pipe()
        proc = self.ctx.Process(target=party_main, args=(there, role, params), daemon=True)
        proc.start()
        self.procs.append((proc, here))
        return proc, here

    def call(self, conn: Conn, *msg: Any, timeout: float = 60) -> Any:
        conn.send(msg)
        left = min(timeout, self.deadline - time.monotonic())
        if left <= 0 or not conn.poll(left):
            raise TimeoutError(f"no answer to {msg[0]} in time")
        reply = conn.recv()
        if isinstance(reply, tuple) and reply and reply[0] == "error":
            raise RuntimeError(f"{msg[0]} failed: {reply[1]}")
        return reply

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc: object) -> None:
        for _, conn in self.procs:
            with contextlib.suppress(OSError):
                conn.send(("quit",))
        for proc, conn in self.procs:
            with_time = time.monotonic() + 30
            while time.monotonic() < with_time and proc.is_alive():
                if conn.poll(0.2):
                    try:
                        conn.recv()
                    except EOFError:
                        break
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5)


def _cpu(proc: Any) -> float:
    t = psutil.Process(proc.pid).cpu_times()
    return float(t.user + t.system)


def _wait(cond: Callable[[], bool], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.25)


def _connect_receivers(fleet: Fleet, hub: Conn, n: int) -> list[Conn]:
    groups = []
    for g in range(math.ceil(n / PER_PROCESS)):
        count = min(PER_PROCESS, n - g * PER_PROCESS)
        _, conn = fleet.start("receivers", count=count)
        offers = fleet.call(conn, "offers")
        answers = [fleet.call(hub, "join", f"g:{g}-{i}", offer) for i, offer in enumerate(offers)]
        fleet.call(conn, "answers", answers)
        groups.append(conn)
    return groups


def _counts(fleet: Fleet, groups: list[Conn]) -> dict[str, list[int] | int]:
    video: list[int] = []
    audio: list[int] = []
    up = 0
    for conn in groups:
        got = fleet.call(conn, "counts")
        video += got["video"]
        audio += got["audio"]
        up += got["up"]
    return {"video": video, "audio": audio, "up": up}


def _window(
    fleet: Fleet, hub_proc: Any, groups: list[Conn], pub: Conn, seconds: float
) -> dict[str, Any]:
    """CPU of the hub and frame rates on every receiver over ``seconds``."""
    before, frames0 = _counts(fleet, groups), fleet.call(pub, "frames")
    others = [p for p, _ in fleet.procs if p is not hub_proc]
    cpu0, t0 = _cpu(hub_proc), time.monotonic()
    others0 = sum(_cpu(p) for p in others)
    machine = psutil.cpu_percent(interval=None)
    time.sleep(seconds)
    cpu1, t1 = _cpu(hub_proc), time.monotonic()
    others1 = sum(_cpu(p) for p in others)
    machine = psutil.cpu_percent(interval=None)
    after, frames1 = _counts(fleet, groups), fleet.call(pub, "frames")
    wall = t1 - t0
    video = [
        (b - a) / wall
        for a, b in zip(before["video"], after["video"], strict=True)  # type: ignore[arg-type]
    ]
    audio = [
        (b - a) / wall
        for a, b in zip(before["audio"], after["audio"], strict=True)  # type: ignore[arg-type]
    ]
    cpu = 100 * (cpu1 - cpu0) / wall
    n = len(video)
    return {
        "receivers": n,
        "seconds": round(wall, 2),
        "hub_cpu_percent": round(cpu, 1),
        "hub_cpu_percent_per_receiver": round(cpu / n, 3) if n else None,
        "publisher_fps": round((frames1 - frames0) / wall, 1),
        "video_fps_min": round(min(video), 1) if video else None,
        "video_fps_median": round(statistics.median(video), 1) if video else None,
        "audio_fps_min": round(min(audio), 1) if audio else None,
        "audio_fps_median": round(statistics.median(audio), 1) if audio else None,
        "machine_cpu_percent_of_all_cores": machine,
        "publishers_and_receivers_cpu_percent": round(100 * (others1 - others0) / wall, 1),
        "hub_rss_mb": round(psutil.Process(hub_proc.pid).memory_info().rss / 2**20, 1),
    }


def _join_publisher(fleet: Fleet, hub: Conn, label: str) -> Conn:
    _, pub = fleet.start("publisher", label=label)
    answer = fleet.call(hub, "join", label, fleet.call(pub, "offer"))
    fleet.call(pub, "answer", answer)
    return pub


def forwarding(
    n: int, switches: int, window: float, deadline: float, profile: str | None = None
) -> dict[str, Any]:
    with Fleet(deadline) as fleet:
        hub_proc, hub = fleet.start("forward", profile=profile)
        a = _join_publisher(fleet, hub, "A")
        pubs = {"A": a, "B": _join_publisher(fleet, hub, "B")}
        groups = _connect_receivers(fleet, hub, n)
        _wait(lambda: fleet.call(hub, "status")["connected"] == n + 2, 60, "connections")
        fleet.call(hub, "floor", "A")
        _wait(lambda: min(_counts(fleet, groups)["video"]) > 0, 30, "first frames")  # type: ignore[type-var]
        time.sleep(2)  # settle
        result = _window(fleet, hub_proc, groups, a, window)
        latencies: list[float] = []
        per_switch: list[dict[str, Any]] = []
        missed = 0
        for k in range(switches):
            label = "B" if k % 2 == 0 else "A"
            t0 = fleet.call(hub, "floor", label)
            time.sleep(2.5)
            these = []
            for conn in groups:
                for at in fleet.call(conn, "first_key", t0, label):
                    if at is None:
                        missed += 1
                    else:
                        these.append(at - t0)
            latencies += these
            these.sort()
            hub_in = fleet.call(hub, "keyframe_in", t0, label)
            pli_at = fleet.call(pubs[label], "pli_after", t0)
            key_out = fleet.call(pubs[label], "key_after", t0)
            per_switch.append(
                {
                    "keyframe_sent_ms_bytes": None
                    if key_out is None
                    else [round(1000 * (key_out[0] - t0)), key_out[1]],
                    "pli_at_publisher_ms": None if pli_at is None else round(1000 * (pli_at - t0)),
                    "keyframe_at_hub_ms": None if hub_in is None else round(1000 * (hub_in - t0)),
                    "receivers_min_median_max_ms": [
                        round(1000 * x) for x in (these[0], these[len(these) // 2], these[-1])
                    ]
                    if these
                    else [],
                }
            )
        status = fleet.call(hub, "status")
        latencies.sort()
        count = len(latencies) + missed
        p95_index = math.ceil(0.95 * count) - 1
        result["switch"] = {
            "switches": switches,
            "samples": count,
            "missed": missed,
            "p50_ms": round(1000 * latencies[len(latencies) // 2]) if latencies else None,
            "p95_ms": round(1000 * latencies[p95_index]) if p95_index < len(latencies) else None,
            "max_ms": round(1000 * latencies[-1]) if latencies and not missed else None,
            "per_switch": per_switch,
        }
        result["publisher_kbps"] = status["kbps"]
        for key in ("queue_flushes", "frames_dropped", "plis_to_publishers"):
            result[key] = status[key]
        return result


def relay(n: int, window: float, deadline: float) -> dict[str, Any]:
    with Fleet(deadline) as fleet:
        hub_proc, hub = fleet.start("relay")
        a = _join_publisher(fleet, hub, "A")
        _wait(lambda: fleet.call(hub, "status")["connected"] == 1, 60, "publisher")
        time.sleep(1)  # the publisher's tracks exist once media flows
        groups = _connect_receivers(fleet, hub, n)
        _wait(lambda: fleet.call(hub, "status")["connected"] == n + 1, 60, "connections")
        _wait(lambda: min(_counts(fleet, groups)["video"]) > 0, 60, "first frames")  # type: ignore[type-var]
        time.sleep(2)
        return _window(fleet, hub_proc, groups, a, window)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--receivers", type=int, default=50)
    parser.add_argument("--relay-receivers", type=int, default=5)
    parser.add_argument("--switches", type=int, default=6)
    parser.add_argument("--window", type=float, default=10.0, help="measurement, seconds")
    parser.add_argument("--budget", type=float, default=420.0, help="whole run, seconds")
    parser.add_argument("--out", type=Path, default=Path("artifacts") / "bench-media.json")
    parser.add_argument("--profile-hub", help="write the forwarding hub's cProfile stats here")
    parser.add_argument("--no-relay", action="store_true", help="skip the MediaRelay phase")
    args = parser.parse_args()
    deadline = time.monotonic() + args.budget
    n = args.receivers
    fwd = forwarding(n, args.switches, args.window, deadline, args.profile_hub)
    rel = None if args.no_relay else relay(min(n, args.relay_receivers), args.window, deadline)
    report = {
        "machine": {"cores": psutil.cpu_count(), "load_average": psutil.getloadavg()},
        "publisher": {"width": WIDTH, "height": HEIGHT, "fps": FPS, "codecs": "VP8 + Opus"},
        "forwarding": fwd,
        "media_relay": rel,
        "targets": {
            "hub_cpu_percent_at_100": 100,
            "hub_cpu_percent_at_50": 40,
            "switch_p95_ms": 1000,
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2)
    args.out.write_text(text + "\n")
    print(text)
    if rel is not None:
        print(
            f"media_relay: {rel['receivers']} receivers, {rel['hub_cpu_percent']}% of one core"
            f" ({rel['hub_cpu_percent_per_receiver']}% per receiver,"
            f" video ≥ {rel['video_fps_min']} fps)"
        )
    print(
        f"switch: p50 {fwd['switch']['p50_ms']} ms, p95 {fwd['switch']['p95_ms']} ms"
        f" over {fwd['switch']['samples']} receiver switches"
    )
    print(
        f"forwarding per receiver: {fwd['hub_cpu_percent_per_receiver']}% of one core;"
        f" every receiver at video ≥ {fwd['video_fps_min']} fps,"
        f" audio ≥ {fwd['audio_fps_min']} fps"
        f" (publisher {fwd['publisher_fps']} fps)"
    )
    print(f"forwarding: {n} receivers, {fwd['hub_cpu_percent']}% of one core")


if __name__ == "__main__":
    main()
