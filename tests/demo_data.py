"""The demo data folder, seeded once per test run and copied for every hub that wants it.

`serve --demo` on an empty folder spends most of its start hashing the 33 demo logins
with Argon2 (about 3.5 s on a quiet core, several times that on a loaded CI core). The
hubs of the tests start from a copy of one folder seeded that way instead: the same
registry, journal, documents and logins file a fresh `serve --demo` writes, so the hub
they start is the demo hub. Tests of the seeding itself start on an empty folder
(``HubProcess.start(demo=True, fresh=True)``).
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCALE = float(os.environ.get("NGHITRUONG_TEST_TIME_SCALE", "1"))
_template: Path | None = None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(folder: Path) -> None:
    port = _free_port()
    log = folder.parent / "seed.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("NGHITRUONG_JOURNAL", None)  # the embedded default: SQLite in the folder
    cmd = [sys.executable, "-m", "server.cli", "serve", "--data", str(folder)]
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*cmd, "--port", str(port), "--demo"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120 * SCALE
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the demo hub did not start: " + log.read_text(encoding="utf-8"))
    finally:
        proc.send_signal(signal.SIGINT)  # a clean stop: the journal checkpointed and closed
        try:
            proc.wait(timeout=20 * SCALE)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def copy_demo(dest: Path) -> None:
    """Fill ``dest`` (empty or missing) with the demo data folder."""
    global _template
    if _template is None:
        home = Path(tempfile.mkdtemp(prefix="nghitruong-demo-"))
        atexit.register(shutil.rmtree, home, True)
        folder = home / "data"
        folder.mkdir()
        _seed(folder)
        _template = folder
    shutil.copytree(_template, dest, dirs_exist_ok=True)


def is_empty(folder: Path) -> bool:
    return not folder.exists() or not any(folder.iterdir())
