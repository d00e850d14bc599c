"""Fixtures of the media browser tests (marker ``media``): a network namespace per test
module with only ``lo`` up (netns.py says why and how), Playwright, fake cameras, and the
harness's own aiortc peer.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ROOT, SCALE, Hub, ensure_built, free_port
from tests.demo_data import copy_demo, is_empty
from tests.media import netns


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the media tests last, as the browser tests are: Playwright's sync API keeps an
    event loop running in this thread while it lives."""
    items.sort(key=lambda item: item.get_closest_marker("media") is not None)


@pytest.fixture(scope="session")
def netns_usable() -> None:
    reason = netns.unavailable()
    if reason is not None:
        pytest.skip(f"media tests need a network namespace of their own: {reason}")


@pytest.fixture(scope="module")
def ns(netns_usable: None) -> Iterator[netns.Netns]:
    """This module's namespace: only ``lo``, deleted afterwards whatever happened."""
    space = netns.Netns("nt-media")
    try:
        yield space
    finally:
        space.close()


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Fake camera files and Chromium wrapper scripts of this module."""
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="module")
def pw() -> Iterator[Any]:
    from playwright import sync_api

    with sync_api.sync_playwright() as p:
        yield p


class Peer:
    """The harness's aiortc peer (peer.py) as a process inside a namespace."""

    def __init__(self, space: netns.Netns, hosts: list[str] | None = None) -> None:
        argv = [sys.executable, "-m", "tests.media.peer", *(hosts or [])]
        self.proc = subprocess.Popen(
            space.command(argv),
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the test peer exited ({self.proc.wait(10 * SCALE)})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(15 * SCALE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.proc.stdout.close()


@pytest.fixture
def peers() -> Iterator[list[Peer]]:
    """Started test peers, closed after the test."""
    started: list[Peer] = []
    yield started
    for peer in started:
        peer.close()


class NsHub(Hub):
    """The hub (``nghitruong serve --demo``) as a process inside a namespace; the test
    reaches it over HTTP from that namespace's worker thread."""

    def __init__(self, space: netns.Netns, data: Path, env: Mapping[str, str]) -> None:
        self.ns = space
        port = space.call(free_port)
        self.proc = subprocess.Popen(
            space.command([sys.executable, "-m", "server.cli", "serve", "--demo"]),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={
                **os.environ,
                "PYTHONUNBUFFERED": "1",
                "NGHITRUONG_DATA": str(data),
                "NGHITRUONG_PORT": str(port),
                "NGHITRUONG_MEDIA_HOSTS": "127.0.0.1",
                **env,
            },
        )
        self.lines: list[str] = []
        ready = threading.Event()

        def pump() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self.lines.append(line)
                if re.match(r"\s+db30 / ", line):
                    ready.set()
            ready.set()

        self.reader = threading.Thread(target=pump, daemon=True)
        self.reader.start()
        try:
            if not ready.wait(180 * SCALE) or self.proc.poll() is not None:
                raise RuntimeError("the hub did not start:\n" + "".join(self.lines))
            super().__init__(f"http://127.0.0.1:{port}", {})
            space.call(self._until_healthy)
            # Read once serving: every login line (the linked hall's comes after db30's).
            logins = re.findall(r"^\s+(\S+) / (\S+)", "".join(self.lines), re.M)
            self.passwords.update(logins)
            self.port = port
        except BaseException:
            self.close()
            raise

    def _until_healthy(self) -> None:
        deadline = time.monotonic() + 20 * SCALE
        while True:
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as res:
                    res.read()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def http(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        return self.ns.call(super().http, method, path, body, token)

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15 * SCALE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.reader.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def start_hub(space: netns.Netns, data: Path, **env: str) -> NsHub:
    """A hub in ``space`` with a fresh demo sitting (``env``: NGHITRUONG_* overrides)."""
    ensure_built()
    if is_empty(data):
        copy_demo(data)
    return NsHub(space, data, env)
