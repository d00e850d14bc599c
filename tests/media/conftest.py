"""Fixtures of the media browser tests (marker ``media``): a network namespace per test
module with only ``lo`` up (netns.py says why and how), Playwright, fake cameras, and the
harness's own aiortc peer.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ROOT, SCALE
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
