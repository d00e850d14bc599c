"""A real `redis-server` of a test's own, on a free loopback port, with its AOF in a folder
of the test's: it can be killed with SIGKILL and started again from its AOF. Never the
machine's 6379."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import redis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisProcess:
    def __init__(self, folder: Path, fsync: str = "always", appendonly: str = "yes") -> None:
        self.folder = folder
        self.port = free_port()
        self.fsync, self.appendonly = fsync, appendonly
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 60.0) -> None:
        """Start it and wait until it answers, its AOF loaded (generous: a loaded machine
        can take seconds to fork and exec it)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--appendonly", self.appendonly, "--appendfsync", self.fsync]
        args += ["--dir", str(self.folder), "--save", "", "--daemonize", "no"]
        args += ["--logfile", str(self.folder / "redis.log")]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                with redis.Redis(port=self.port, socket_timeout=1) as r:
                    if r.ping() and r.info("persistence").get("loading") == 0:
                        return
            except redis.RedisError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError((self.folder / "redis.log").read_text())
            time.sleep(0.02)
        self.kill()  # never left running behind a failed start
        raise TimeoutError(f"redis-server on port {self.port} did not start")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final fsync beyond what each write already had."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None

    def aof_bytes(self) -> bytes:
        """Every byte of the AOF files as they are now (Redis 7: appendonlydir/)."""
        return b"".join(p.read_bytes() for p in sorted(self.folder.rglob("*.aof")))
