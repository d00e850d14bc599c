"""A Python client of the hub, for tests, the load harness and integrators.

    token = await login("http://127.0.0.1:8000", "db01", "…")
    async with Client("http://127.0.0.1:8000", "ky-hop-thu-nhat", token) as client:
        ack = await client.command(CastBallot(vote="v57", choice="approve"))

It keeps the sitting's state (its audience's projection) by applying events with the
core's own `apply`, checks that events arrive gap-free and without duplicates, reconnects
by itself and resumes from the last seq, and re-sends unanswered commands with the SAME id
after a reconnect, so a command is never applied twice nor lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec
import websockets
from websockets.exceptions import ConnectionClosed

from chamber import AnyCommand, AnyEvent, Sitting
from chamber.apply import APPLIERS
from server.protocol import JSON, MSGPACK


class ClientError(Exception):
    pass


class CommandRefused(ClientError):
    def __init__(self, code: str, message: str, params: dict[str, Any]) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.params = code, message, params


class ConnectionLost(ClientError):
    pass


class GapError(ClientError):
    """Events arrived out of order, with a gap or twice: a protocol violation."""


class Closed(ClientError):
    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__(f"closed by the hub: {code} {reason}")
        self.code = code


@dataclass(frozen=True)
class Ack:
    id: str
    seq: tuple[int, int] | None
    ballot: dict[str, str] | None


async def login(base_url: str, username: str, password: str) -> str:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:  # Argon2 on a busy host
        r = await http.post("/api/login", json={"username": username, "password": password})
        if r.status_code != 200:
            body = r.json()
            raise CommandRefused(body["code"], body["message"], body.get("params", {}))
        return str(r.json()["token"])


class Client:
    max_backoff_s = 2.0  # the longest wait between reconnect attempts

    def __init__(
        self,
        base_url: str,
        sitting: str,
        token: str | None = None,
        *,
        binary: bool = True,
        remote: bool = False,
        lang: str = "vi",
        reconnect: bool = True,
        on_event: Callable[[int, Any], None] | None = None,
    ) -> None:
        self.url = base_url.replace("http", "ws", 1).rstrip("/") + "/ws"
        self.sitting, self.token, self.binary = sitting, token, binary
        self.remote, self.lang, self.reconnect = remote, lang, reconnect
        self.on_event = on_event
        self.seq = 0
        self.state: Sitting | None = None
        self.view: dict[str, Any] | None = None
        self.welcome: dict[str, Any] = {}
        self.events: list[tuple[int, Any]] = []
        self.snapshots = 0
        self.reconnects = 0
        self._pending: dict[str, tuple[bytes | str, asyncio.Future[Ack]]] = {}
        self._ws: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._seq_waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._welcomed: asyncio.Event = asyncio.Event()
        self._closing = False
        self.closed_with: int | None = None
        self.violations: list[str] = []
        #: Video frames (`media.*`) and errors that answer no command, in arrival order.
        self.unsolicited: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    # Encoding

    def _encode(self, frame: Any) -> bytes | str:
        if self.binary:
            return msgspec.msgpack.encode(frame)
        return msgspec.json.encode(frame).decode()

    def _decode(self, data: bytes | str) -> Any:
        if isinstance(data, bytes) and self.binary:
            return msgspec.msgpack.decode(data)
        return msgspec.json.decode(data)

    # Connection

    async def __aenter__(self) -> Client:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        self._welcomed.clear()
        protocol = MSGPACK if self.binary else JSON
        self._ws = await websockets.connect(
            self.url,
            subprotocols=[protocol],  # type: ignore[list-item]
            max_size=None,
            open_timeout=10,
        )
        last = self.seq if self.state is not None else None
        await self._ws.send(
            self._encode(
                {
                    "t": "hello",
                    "sitting": self.sitting,
                    "token": self.token,
                    "last_seq": last,
                    "lang": self.lang,
                    "remote": self.remote,
                }
            )
        )
        self._reader = asyncio.create_task(self._read(self._ws))
        waiter = asyncio.ensure_future(self._welcomed.wait())
        await asyncio.wait([waiter, self._reader], return_when=asyncio.FIRST_COMPLETED)
        if not self._welcomed.is_set():
            waiter.cancel()
            raise Closed(self.closed_with or 1006)
        for data, _fut in list(self._pending.values()):  # the same ids, again
            await self._ws.send(data)

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._reader

    async def drop(self) -> None:
        """Cut the connection as a network failure would (the client reconnects)."""
        if self._ws is not None:
            self._ws.transport.abort()

    async def _read(self, ws: Any) -> None:
        try:
            async for data in ws:
                try:
                    self._handle(self._decode(data))
                except GapError as exc:  # a protocol violation: recorded, never hidden
                    self.violations.append(str(exc))
                    await ws.close()
                    self._closing = True
        except ConnectionClosed:
            pass
        finally:
            self.closed_with = ws.close_code if ws.close_code is not None else 1006
        if self._closing or ws is not self._ws:
            return
        if self.reconnect and self.closed_with not in (1002, 1003, 1008, 1009, 4401, 4404):
            # Refused at its hello (1013: another node sequences the sitting): connect()
            # raises and its caller tries again; a second reconnect loop would race it.
            if self._welcomed.is_set():
                asyncio.get_running_loop().create_task(self._reconnect())
        else:
            self._fail(Closed(self.closed_with))

    async def _reconnect(self) -> None:
        delay = 0.05
        while not self._closing:
            try:
                self.reconnects += 1
                await self.connect()
                return
            except (OSError, ConnectionClosed, Closed, TimeoutError):
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff_s)

    def _fail(self, exc: Exception) -> None:
        for _data, fut in self._pending.values():
            if not fut.done():
                fut.set_exception(exc)
        self._pending.clear()

    # Frames

    def _handle(self, frame: dict[str, Any]) -> None:
        kind = frame["t"]
        if kind == "welcome":
            self.welcome = frame
            if frame["snapshot"] is not None:
                self._snapshot(frame["seq"], frame["snapshot"])
            elif frame["seq"] != self.seq:
                raise GapError(f"resumed at {frame['seq']}, had {self.seq}")
            self._welcomed.set()
        elif kind == "events":
            self._events(frame)
        elif kind == "snapshot":
            self._snapshot(frame["seq"], frame["snapshot"])
        elif kind == "view":
            self.view = frame
        elif kind == "ack":
            entry = self._pending.pop(frame["id"], None)
            seq = tuple(frame["seq"]) if frame["seq"] is not None else None
            if entry is not None and not entry[1].done():
                entry[1].set_result(Ack(frame["id"], seq, frame.get("ballot")))
        elif kind == "error":
            entry = self._pending.pop(frame["id"], None) if frame.get("id") else None
            if entry is not None and not entry[1].done():
                entry[1].set_exception(
                    CommandRefused(frame["code"], frame["message"], frame.get("params", {}))
                )
            elif entry is None:
                self.unsolicited.put_nowait(frame)
        elif kind.startswith("media."):
            self.unsolicited.put_nowait(frame)

    def _snapshot(self, seq: int, snapshot: dict[str, Any]) -> None:
        self.state = msgspec.convert(snapshot, Sitting)
        self.seq = seq
        self.snapshots += 1
        self._wake()

    def _events(self, frame: dict[str, Any]) -> None:
        if frame["from"] != self.seq:
            raise GapError(f"events from {frame['from']}, client at {self.seq}")
        for item in frame["events"]:
            event = msgspec.convert(item["event"], AnyEvent)
            if self.state is not None:
                self.state = APPLIERS[type(event)](self.state, event, item["at"])
            self.events.append((item["seq"], event))
            if self.on_event is not None:
                self.on_event(item["seq"], event)
        self.seq = frame["to"]
        if self.state is not None:
            self.state = msgspec.structs.replace(self.state, seq=self.seq)
        self._wake()

    def _wake(self) -> None:
        still = []
        for target, fut in self._seq_waiters:
            if self.seq >= target:
                if not fut.done():
                    fut.set_result(None)
            else:
                still.append((target, fut))
        self._seq_waiters = still

    # Use

    async def command(
        self, cmd: AnyCommand | dict[str, Any], id: str | None = None, timeout: float = 30
    ) -> Ack:
        """Send a command; retried with the same id across reconnects until answered."""
        cid = id or secrets.token_hex(8)
        body = msgspec.to_builtins(cmd) if not isinstance(cmd, dict) else cmd
        data = self._encode({"t": "cmd", "id": cid, "cmd": body})
        fut: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self._pending[cid] = (data, fut)
        with contextlib.suppress(ConnectionClosed):
            await self._ws.send(data)
        return await asyncio.wait_for(fut, timeout)

    async def send_frame(self, frame: dict[str, Any]) -> None:
        """Send a frame that is not a command (a video link's `media.*`)."""
        await self.send_raw(self._encode(frame))

    async def next_frame(self, kind: str, timeout: float = 10) -> dict[str, Any]:
        """The next unsolicited frame of ``kind`` (`media.answer`, `error`, …), skipping
        others; TimeoutError if none comes."""

        async def wait() -> dict[str, Any]:
            while True:
                frame = await self.unsolicited.get()
                if frame["t"] == kind:
                    return frame

        return await asyncio.wait_for(wait(), timeout)

    async def send_raw(self, data: bytes | str) -> None:
        await self._ws.send(data)

    async def wait_seq(self, seq: int, timeout: float = 10) -> None:
        if self.seq >= seq:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._seq_waiters.append((seq, fut))
        await asyncio.wait_for(fut, timeout)
