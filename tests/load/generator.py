"""The load generator's Python side: tests/load/node/storm.mjs in a process of its own,
pinned to the client core(s), spoken to in JSON lines (see that file).

Its CPU is reported beside every figure: a run in which it used more than
`GENERATOR_LIMIT_PCT` of its core measured the generator, not the server, and is INVALID.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

NODE_DIR = Path(__file__).resolve().parent / "node"
STORM = NODE_DIR / "storm.mjs"
GENERATOR_LIMIT_PCT = 80.0


class GeneratorError(RuntimeError):
    pass


def ensure_installed() -> None:
    """The generator's packages (ws, @msgpack/msgpack), from its package-lock.json."""
    if (NODE_DIR / "node_modules" / "ws").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise GeneratorError("the load generator needs Node.js and npm")
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR, check=True
    )


class NodeGenerator:
    """One storm's clients: start() connects them, go() runs the ballots, screens() waits
    for the screens' last sightings."""

    def __init__(self, cores: list[int], script: Path = STORM) -> None:
        self.cores = cores
        self.script = script
        self.proc: subprocess.Popen[bytes] | None = None
        self.ps: psutil.Process | None = None
        self._buffer = b""
        self._cpu0 = 0.0
        self._wall0 = 0.0

    def start(self, config: dict[str, Any], timeout: float = 150) -> dict[str, Any]:
        ensure_installed()
        node = shutil.which("node")
        if node is None:
            raise GeneratorError("the load generator needs Node.js")
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(config, f)
        cores = self.cores
        self.proc = subprocess.Popen(
            [node, str(self.script), f.name],
            cwd=NODE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            preexec_fn=lambda: os.sched_setaffinity(0, cores),  # its threads too
        )
        self.ps = psutil.Process(self.proc.pid)
        try:
            return self._expect("ready", timeout)
        finally:
            os.unlink(f.name)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def go(self, vote: str, timeout: float = 120) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdin is not None
        self._cpu0, self._wall0 = self._cpu(), time.monotonic()
        self.proc.stdin.write((json.dumps({"go": vote}) + "\n").encode())
        self.proc.stdin.flush()
        return self._expect("acks", timeout)

    def screens(self, timeout: float = 120) -> dict[str, Any]:
        return self._expect("screens", timeout)

    def send(self, message: dict[str, Any]) -> None:
        """One command line to the generator (another script's: e.g. resync.mjs)."""
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(message) + "\n").encode())
        self.proc.stdin.flush()

    def expect(self, key: str, timeout: float = 120) -> dict[str, Any]:
        return self._expect(key, timeout)

    def cpu_pct(self) -> float:
        """The generator's CPU since go(), in % of one core (psutil's view of it)."""
        wall = time.monotonic() - self._wall0
        return 100 * (self._cpu() - self._cpu0) / wall if wall > 0 else 0.0

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            for pipe in (self.proc.stdin, self.proc.stdout):
                if pipe is not None:
                    pipe.close()

    def _cpu(self) -> float:
        assert self.ps is not None
        try:
            t = self.ps.cpu_times()
        except psutil.NoSuchProcess:
            return 0.0
        return float(t.user + t.system)

    def _expect(self, key: str, timeout: float) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        out = self.proc.stdout
        with selectors.DefaultSelector() as sel:
            sel.register(out, selectors.EVENT_READ)
            while True:
                while b"\n" in self._buffer:
                    line, self._buffer = self._buffer.split(b"\n", 1)
                    msg: dict[str, Any] = json.loads(line)
                    if "error" in msg:
                        raise GeneratorError(msg["error"])
                    if key in msg:
                        return msg
                left = deadline - time.monotonic()
                if left <= 0:
                    raise GeneratorError(f"no {key!r} from the generator in {timeout} s")
                if sel.select(left):
                    chunk = os.read(out.fileno(), 1 << 20)
                    if not chunk:
                        raise GeneratorError(f"the generator ended before {key!r}")
                    self._buffer += chunk


def verdict(cpu_pct: float) -> str:
    """What the generator's CPU says of a run's figures."""
    if cpu_pct > GENERATOR_LIMIT_PCT:
        return f"INVALID (generator at {cpu_pct:.0f}% of its core > {GENERATOR_LIMIT_PCT:.0f}%)"
    return f"valid (generator at {cpu_pct:.0f}% of its core)"
