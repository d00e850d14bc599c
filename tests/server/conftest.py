"""A real hub in a subprocess on a free loopback port: it can be killed and restarted."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.demo_data import copy_demo, is_empty
from tests.redis_process import RedisProcess

if TYPE_CHECKING:
    from tests.load.chaos import Nodes
    from tests.load.failover_storm import Node

ROOT = Path(__file__).resolve().parents[2]
SCALE = float(os.environ.get("NGHITRUONG_TEST_TIME_SCALE", "1"))  # every timeout derives from it
SITTING = "ky-hop-thu-nhat"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class HubProcess:
    def __init__(self, data: Path, env: dict[str, str] | None = None) -> None:
        self.data = data
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.logins: dict[str, str] = {}
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.data / "hub.log"

    def start(self, demo: bool = False, fresh: bool = False) -> HubProcess:
        """Start the hub; ``demo``: with the demo council and sitting, from a copy of the
        run's seeded demo folder when the data folder is empty and on SQLite (tests/
        demo_data.py), or seeded by this start when ``fresh``."""
        if demo and not fresh and "NGHITRUONG_JOURNAL" not in self.env and is_empty(self.data):
            copy_demo(self.data)
        cmd = [
            sys.executable,
            "-m",
            "server.cli",
            "serve",
            "--data",
            str(self.data),
            "--port",
            str(self.port),
        ]
        if demo:
            cmd.append("--demo")
        self.data.mkdir(parents=True, exist_ok=True)
        with self.log.open("a") as out:
            self.proc = subprocess.Popen(
                cmd, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        # Generous: a fresh demo hub hashes 33 passwords with Argon2 before it listens,
        # and a loaded CI core can take most of a minute over that.
        deadline = time.monotonic() + 90 * SCALE
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    if demo:
                        self.logins.update(
                            re.findall(r"^\s+([\w.-]+) / (\w+)", self.output(), re.MULTILINE)
                        )
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        self.proc.kill()
        self.proc.wait()
        raise RuntimeError("the hub did not start: " + self.output())

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8") if self.log.exists() else ""

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> str:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.output()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    h = HubProcess(tmp_path_factory.mktemp("hub"), {"NGHITRUONG_PRESENCE_GRACE_S": "1"})
    h.start(demo=True)
    yield h
    h.stop()


def operator_token(hub: HubProcess) -> str:
    r = httpx.post(
        hub.url + "/api/login", json={"username": "vanhanh", "password": hub.logins["vanhanh"]}
    )
    r.raise_for_status()
    return str(r.json()["token"])


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisProcess]:
    """A real redis-server of the test's own on a free loopback port."""
    server = RedisProcess(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def three_nodes(tmp_path: Path) -> Iterator[Nodes]:
    """Three hub processes and the Redis of the chaos harness (tests/load/chaos.py)."""
    from tests.load.chaos import Nodes  # it imports this module

    cluster = Nodes(tmp_path)
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
def two_nodes(
    redis_server: RedisProcess, tmp_path: Path
) -> Iterator[tuple[RedisProcess, Node, Node]]:
    """Two hub processes on one Redis, each with a data folder of its own (what they share
    is in Redis); the first started with the demo council."""
    from tests.load.failover_storm import Node  # it imports this module

    env = {"NGHITRUONG_JOURNAL": redis_server.url}
    a, b = Node(tmp_path / "a", env), Node(tmp_path / "b", env)
    try:
        a.start(demo=True)
        b.start()
        yield redis_server, a, b
    finally:
        for node in (a, b):
            if node.proc is not None and node.proc.poll() is None:
                os.kill(node.proc.pid, signal.SIGCONT)  # a test may have paused it
            node.stop()
