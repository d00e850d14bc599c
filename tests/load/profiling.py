"""Profiling the server under load with py-spy (sampling; the server is not slowed by
instrumentation), and the share of samples by where the time goes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections import Counter
from pathlib import Path


def py_spy() -> str | None:
    return os.environ.get("PYSPY") or shutil.which("py-spy")


class Profile:
    """py-spy recording `pid` into `out` (collapsed stacks, one line per stack)."""

    def __init__(self, pid: int, out: Path, rate: int = 100) -> None:
        exe = py_spy()
        if exe is None:
            raise RuntimeError("--profile needs py-spy (pip install py-spy, or PYSPY=path)")
        self.out = out
        self.proc = subprocess.Popen(
            [
                exe,
                "record",
                "-p",
                str(pid),
                "-r",
                str(rate),
                "-f",
                "raw",
                "--idle",
                "--threads",
                "--nonblocking",
                "-o",
                str(out),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# Where a main-thread sample is, by the innermost frame that names an area.
AREAS = [
    ("idle: waiting in the selector", ("select (selectors.py", "poll (")),
    ("json/msgpack encode", ("Codec.encode",)),
    ("fan-out: Room/Conn (server/fanout.py)", ("fanout.py",)),
    ("projections (chamber/projection.py)", ("projection.py",)),
    (
        "socket send: starlette, uvicorn, websockets framing, transport.write",
        ("starlette/websockets.py", "websockets_sansio_impl.py", "websockets/", "write ("),
    ),
    ("deciding: sequencer + chamber", ("sequencer.py", "chamber/")),
    ("receiving: transport read, websockets parsing", ("_read_ready", "data_received")),
    ("asyncio event loop, tasks, events", ("asyncio/",)),
    ("prometheus metrics", ("prometheus_client",)),
]


def summary(path: Path, top: int = 15) -> str:
    """The share of the event loop's thread's samples per area (by the innermost frame
    that names one) and the functions with the most samples of their own; threads
    waiting on a queue (the journal's writer, the pool) are left out."""
    areas: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if "MainThread" not in stack.split(";", 1)[0] or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        own[frames[-1]] += n
        for frame in reversed(frames):
            hit = next((name for name, keys in AREAS if any(k in frame for k in keys)), None)
            if hit is not None:
                areas[hit] += n
                break
        else:
            areas["other"] += n
    if not total:
        return f"profile: no samples of the event loop's thread ({path})"
    lines = [f"profile of the event loop's thread: {total} samples ({path})"]
    for name, n in areas.most_common():
        lines.append(f"  {100 * n / total:5.1f}%  {name}")
    lines.append("  functions with the most samples of their own:")
    for name, n in own.most_common(top):
        lines.append(f"  {100 * n / total:5.1f}%  {name[:110]}")
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    for arg in sys.argv[1:]:
        print(summary(Path(arg)))
