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


# Where a sample is, by the first frame found from the top of its stack (the innermost).
AREAS = [
    ("json/msgpack encode", ("encode (", "Codec.encode")),
    (
        "ws send: uvicorn/websockets framing + transport.write",
        ("websockets_sansio_impl.py", "send_binary", "data_to_send", "protocol.py:"),
    ),
    ("starlette websocket send/receive", ("starlette/websockets.py",)),
    ("fan-out: Conn/Room (server/fanout.py)", ("fanout.py",)),
    ("sequencer + chamber deciding", ("sequencer.py", "chamber/")),
    ("journal (sqlite thread)", ("sqlite.py", "journal-writer")),
    ("asyncio event loop / tasks", ("asyncio/",)),
    ("prometheus metrics", ("prometheus_client",)),
]


def summary(path: Path, top: int = 25) -> str:
    """The share of samples per area (by innermost matching frame) and the functions with
    the most samples of their own."""
    areas: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        if "(idle)" in frames[-1] or "select (" in frames[-1] or "poll (" in frames[-1]:
            areas["idle (selector wait)"] += n
            own[frames[-1]] += n
            continue
        own[frames[-1]] += n
        for frame in reversed(frames):
            hit = next((name for name, keys in AREAS if any(k in frame for k in keys)), None)
            if hit is not None:
                areas[hit] += n
                break
        else:
            areas["other"] += n
    lines = [f"profile: {total} samples ({path})"]
    for name, n in areas.most_common():
        lines.append(f"  {100 * n / total:5.1f}%  {name}")
    lines.append("  functions with the most samples of their own:")
    for name, n in own.most_common(top):
        lines.append(f"  {100 * n / total:5.1f}%  {name[:110]}")
    return "\n".join(lines)
