"""Network namespaces for the media browser tests: test traffic never leaves them.

MEDIA-NOTES.md says why: even told to use loopback, Chromium picked one of the machine's
real interface addresses as its source. A namespace made by the test, with only ``lo`` up,
has no other address to pick. Everything that carries media runs inside one:

* a **process** (the hub, a Chromium, an aiortc peer) is started under
  ``ip netns exec NS …``, which enters the namespace and then ``exec``s the program, so the
  pid Popen or Playwright holds is the program itself (signals and pipes reach it).
  Chromium is started by Playwright's driver, so it gets a two-line wrapper script as its
  ``executable_path`` (Playwright talks to it over inherited pipes, which survive the
  ``exec``);
* the **test's own sockets** (HTTP to the hub, its metrics) are opened by one worker
  thread that entered the namespace with setns(2) (through ctypes: Python 3.11 has no
  ``os.setns``). A network namespace is a per-thread attribute, so the pytest thread, the
  Playwright event loop and every other test stay where they were; nothing has to switch
  back, even when a test fails.

A second namespace joined by a veth pair gives one participant a link of its own that a
test can cut (``ip link set … down``) without cutting anybody else: there is no iptables or
nft on the machines we run on, and a namespace's link is the real thing anyway.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

IP = shutil.which("ip") or "/usr/sbin/ip"
CLONE_NEWNET = 0x40000000
T = TypeVar("T")


def _ip(*args: str) -> None:
    done = subprocess.run([IP, *args], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise NetnsError(f"ip {' '.join(args)}: {done.stderr.strip()}")


class NetnsError(RuntimeError):
    """An ``ip`` command failed."""


def unavailable() -> str | None:
    """Why network namespaces cannot be made here, or None when they can."""
    if not Path(IP).exists():
        return "iproute2's `ip` is missing (make system-deps installs it)"
    name = f"nt-probe-{uuid.uuid4().hex[:8]}"
    try:
        _ip("netns", "add", name)
    except (NetnsError, OSError, subprocess.TimeoutExpired) as err:
        return f"cannot create a network namespace ({err}); run as root or with CAP_SYS_ADMIN"
    try:
        _ip("netns", "delete", name)
    except NetnsError as err:
        return f"cannot delete a network namespace: {err}"
    return None


class Netns:
    """A named network namespace with only ``lo`` up; ``close()`` deletes it."""

    def __init__(self, prefix: str = "nt") -> None:
        self.name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        self._worker: ThreadPoolExecutor | None = None
        self._veths: list[str] = []
        _ip("netns", "add", self.name)
        try:
            self.link("lo", up=True)
        except NetnsError:
            _ip("netns", "delete", self.name)
            raise

    @property
    def path(self) -> Path:
        return Path("/run/netns") / self.name

    def command(self, argv: Sequence[str]) -> list[str]:
        """``argv`` run inside this namespace."""
        return [IP, "netns", "exec", self.name, *argv]

    def link(self, dev: str, *, up: bool) -> None:
        """Set a link of this namespace up or down (down on ``lo`` cuts everything in it)."""
        _ip("-n", self.name, "link", "set", dev, "up" if up else "down")

    def addresses(self) -> str:
        done = subprocess.run(
            [IP, "-n", self.name, "-brief", "address"], capture_output=True, text=True, check=True
        )
        return done.stdout

    def call(self, fn: Callable[..., T], *args: object) -> T:
        """``fn(*args)`` on this namespace's worker thread: sockets it opens live here."""
        if self._worker is None:
            self._worker = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix=self.name, initializer=_enter, initargs=(self,)
            )
        return self._worker.submit(fn, *args).result()

    def chromium(self, folder: Path, executable: str) -> Path:
        """A script that starts ``executable`` with its arguments inside this namespace (for
        Playwright's ``executable_path``)."""
        script = folder / f"chromium-{self.name}"
        script.write_text(f'#!/bin/sh\nexec {IP} netns exec {self.name} {executable} "$@"\n')
        script.chmod(0o755)
        return script

    def close(self) -> None:
        """Stop the worker thread and delete the namespace (its veth pairs go with it)."""
        if self._worker is not None:
            self._worker.shutdown(wait=True)
            self._worker = None
        _ip("netns", "delete", self.name)

    def __enter__(self) -> Netns:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def veth(a: Netns, addr_a: str, b: Netns, addr_b: str) -> tuple[str, str]:
    """Join two namespaces by a veth pair, ``addr_a``/``addr_b`` (CIDR, e.g. 10.77.0.1/30)
    on either end, both up; the device names in ``a`` and in ``b``. Deleting either
    namespace deletes the pair."""
    tag = uuid.uuid4().hex[:6]
    dev_a, dev_b = f"va{tag}", f"vb{tag}"
    # Created inside ``a`` so it never appears, even for a moment, among the host's links.
    _ip("-n", a.name, "link", "add", dev_a, "type", "veth", "peer", "name", dev_b, "netns", b.name)
    _ip("-n", a.name, "address", "add", addr_a, "dev", dev_a)
    _ip("-n", b.name, "address", "add", addr_b, "dev", dev_b)
    a.link(dev_a, up=True)
    b.link(dev_b, up=True)
    return dev_a, dev_b


_libc = ctypes.CDLL(None, use_errno=True)


def _enter(ns: Netns) -> None:
    """Move the calling thread (only it) into ``ns``."""
    fd = os.open(ns.path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"setns({ns.name}): {os.strerror(errno)}")
    finally:
        os.close(fd)
