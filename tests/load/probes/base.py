"""What every probe shares: scales, results, the hub's memory, demo hubs, HTTP and
socket helpers."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import websockets
from websockets.exceptions import ConnectionClosed

from server.client import login
from server.protocol import JSON
from tests.server.conftest import SITTING, HubProcess
from tests.server.frames import frame_for, frame_of

ROOT = Path(__file__).resolve().parents[3]

MB = 1024 * 1024
OPERATOR = "vanhanh"
CHAIR = "db01"
QUORUM = 20  # the demo council's 30 seats: the law's quorum is more than half
LOGIN_BUDGET = 5  # docs/http-api.md: real password checks per username (and address)
DEADLINE_S = 170  # the whole run stops by itself


@dataclass(frozen=True)
class Scale:
    pings: int
    big_notes: int
    login_mib: int


FULL = Scale(pings=2_000_000, big_notes=200, login_mib=200)
QUICK = Scale(pings=200_000, big_notes=40, login_mib=48)


@dataclass
class Result:
    number: int
    probe: str
    measured: str
    holds: bool

    def line(self) -> str:
        verdict = "HOLDS" if self.holds else "FAILS"
        return f"{self.number:>2}. {verdict}  {self.probe}: {self.measured}"


def mb(n: float) -> str:
    return f"{n / MB:.1f} MB"


# The hub's memory


class Rss:
    """The hub's resident memory, sampled in a thread while a probe runs."""

    def __init__(self, hub: HubProcess, every_s: float = 0.01) -> None:
        assert hub.proc is not None
        self.proc = psutil.Process(hub.proc.pid)
        self.every_s = every_s
        self.before = self.peak = self.after = self.now()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def now(self) -> int:
        try:
            return int(self.proc.memory_info().rss)
        except psutil.Error:
            return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.now())
            time.sleep(self.every_s)

    def __enter__(self) -> Rss:
        self.before = self.peak = self.now()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.after = self.now()
        self.peak = max(self.peak, self.after)

    @property
    def growth(self) -> int:
        return self.after - self.before

    @property
    def peak_growth(self) -> int:
        return self.peak - self.before

    def text(self) -> str:
        return (
            f"RSS {mb(self.before)} -> {mb(self.after)} (peak {mb(self.peak)}, "
            f"+{mb(self.peak_growth)})"
        )


# Hubs: the demo seeded once, copied for each hub


class Hubs:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.seed = root / "seed"
        self.started: list[HubProcess] = []

    def prepare(self) -> None:
        hub = HubProcess(self.seed).start(demo=True)  # Argon2 for 31 logins: the slow part
        hub.stop()

    def fresh(self, name: str) -> HubProcess:
        data = self.root / name
        shutil.copytree(self.seed, data)
        (data / "hub.log").unlink(missing_ok=True)
        hub = HubProcess(data).start(demo=True)
        self.started.append(hub)
        return hub

    def stop(self, hub: HubProcess) -> None:
        hub.stop()
        if hub in self.started:
            self.started.remove(hub)

    def stop_all(self) -> None:
        for hub in list(self.started):
            self.stop(hub)


# HTTP and socket helpers


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def token_of(hub: HubProcess, username: str) -> str:
    return await login(hub.url, username, hub.logins[username])


async def http_command(
    http: httpx.AsyncClient, token: str, cmd: dict[str, Any], cid: str, sitting: str = SITTING
) -> httpx.Response:
    return await http.post(
        f"/api/sittings/{sitting}/commands", headers=bearer(token), json={"id": cid, "cmd": cmd}
    )


async def state_of(http: httpx.AsyncClient, sitting: str = SITTING) -> dict[str, Any]:
    r = await http.get(f"/api/sittings/{sitting}")
    r.raise_for_status()
    return dict(r.json())


async def in_session(hub: HubProcess, http: httpx.AsyncClient) -> None:
    """The operator checks in a quorum (db01..db20); the chair opens and starts."""
    op = await token_of(hub, OPERATOR)
    for n in range(1, QUORUM + 1):
        cmd = {"type": "attendance.check_in", "member": f"db{n:02d}"}
        r = await http_command(http, op, cmd, f"quorum-{n}")
        if r.status_code == 429:  # the operator's command budget: wait for a token
            await asyncio.sleep(1)
            r = await http_command(http, op, cmd, f"quorum-{n}")
        r.raise_for_status()
    chair = await token_of(hub, CHAIR)
    for step in ("sitting.open", "sitting.start"):
        r = await http_command(http, chair, {"type": step}, step)
        if not (r.status_code == 200 and r.json()["ok"]):
            raise RuntimeError(f"{step}: {r.status_code} {r.text}")


@contextlib.asynccontextmanager
async def socket_to(hub: HubProcess, protocol: str = JSON, **options: Any) -> AsyncIterator[Any]:
    url = hub.url.replace("http", "ws", 1) + "/ws"
    ws = await websockets.connect(url, subprotocols=[protocol], **options)  # type: ignore[list-item]
    try:
        yield ws
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(), 5)


async def hello(ws: Any, token: str | None = None) -> dict[str, Any]:
    await ws.send(frame_for(ws, {"t": "hello", "sitting": SITTING, "token": token}))
    return await next_frame(ws, ("welcome",))


async def next_frame(
    ws: Any, kinds: tuple[str, ...], cid: str | None = None, within_s: float = 10
) -> dict[str, Any]:
    while True:
        frame = frame_of(await asyncio.wait_for(ws.recv(), within_s))
        if frame["t"] in kinds and (cid is None or frame.get("id") == cid):
            return frame


async def closed_with(ws: Any, within_s: float) -> tuple[int | None, list[dict[str, Any]]]:
    """Read until the hub closes the socket: its close code (None: still open) and the
    frames before it."""
    frames = []
    deadline = time.monotonic() + within_s
    with contextlib.suppress(ConnectionClosed, TimeoutError):
        while True:
            left = max(deadline - time.monotonic(), 0.001)
            frames.append(frame_of(await asyncio.wait_for(ws.recv(), left)))
    return ws.close_code, frames


def cmd_frame(cid: str, cmd: dict[str, Any]) -> dict[str, Any]:
    return {"t": "cmd", "id": cid, "cmd": cmd}
