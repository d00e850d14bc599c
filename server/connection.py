"""One WebSocket connection: the hello, resume, commands in, answers and events out.

Close codes: 1002 protocol error (no valid hello), 1003 wrong kind of frame for the
subprotocol, 1008 policy (bad token, too many commands), 1009 frame too large,
1013 try again later (a stalled connection), 4404 unknown sitting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from chamber import Sitting
from chamber.ids import MemberId, Role
from chamber.permissions import PERMISSIONS
from chamber.projection import Audience, project_state
from server.auth import Principal
from server.fanout import Conn, Room
from server.hub import Hub, UnknownSitting
from server.i18n import negotiate, t
from server.protocol import (
    CODECS,
    SUBPROTOCOLS,
    Ack,
    Cmd,
    Codec,
    Error,
    FrameError,
    Hello,
    Ping,
    Pong,
    Welcome,
)
from server.sequencer import Outcome, wall_ms

log = logging.getLogger("nghitruong.ws")

PRESIDING_ROLES = {Role.CHAIR, Role.VICE_CHAIR, Role.SECRETARY}
ROLE_ORDER = (Role.CHAIR, Role.VICE_CHAIR, Role.SECRETARY, Role.DELEGATE)


class Closed(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Who:
    audience: Audience
    member: MemberId | None
    roles: frozenset[Role]
    principal: Principal | None

    def role_for(self, command: str) -> Role | None:
        if self.principal is None:
            return None
        if self.principal.kind == "operator":
            return Role.OPERATOR
        permit = PERMISSIONS.get(command)
        for role in ROLE_ORDER:
            if role in self.roles and permit is not None and role in permit.roles:
                return role
        # No role of theirs may: the core refuses it, naming the command, role and state.
        return next((role for role in ROLE_ORDER if role in self.roles), None)

    def key(self, client_id: str) -> str:
        assert self.principal is not None
        return f"{self.principal.kind}:{self.principal.id}/{client_id}"


class Bucket:
    """Commands per second per connection: a token bucket with a burst of two seconds."""

    def __init__(self, rate: float) -> None:
        self.rate, self.capacity = rate, 2 * rate
        self.tokens, self.at = self.capacity, time.monotonic()
        self.refusals = 0

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            self.refusals = 0  # only an unbroken flood closes the connection
            return True
        self.refusals += 1
        return False


class Session:
    def __init__(self, ws: WebSocket, hub: Hub, auth: Any, codec: Codec) -> None:
        self.ws, self.hub, self.auth, self.codec = ws, hub, auth, codec
        self.config = hub.config
        self.lang = "vi"
        self.bucket = Bucket(self.config.commands_per_s)

    # Frames

    async def receive(self) -> bytes | str:
        message = await self.ws.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        data: bytes | str | None = message.get("bytes")
        if data is None:
            data = message.get("text")
        if data is None or (self.codec.binary != isinstance(data, bytes)):
            raise Closed(1003)
        if len(data) > self.config.max_frame_bytes:
            raise Closed(1009)
        return data

    async def send(self, data: bytes) -> None:
        if self.codec.binary:
            await self.ws.send_bytes(data)
        else:
            await self.ws.send_text(data.decode())

    def error(self, code: str, cid: str | None = None, **params: Any) -> bytes:
        message = t(f"error.{code}", self.lang, **params)
        return self.codec.encode(Error(id=cid, code=code, message=message, params=params))

    # The conversation

    async def run(self) -> None:
        try:
            hello = await self._hello()
            await self._serve(hello)
        except Closed as closed:
            with contextlib.suppress(Exception):
                await self.ws.close(code=closed.code)
        except WebSocketDisconnect:
            pass

    async def _hello(self) -> Hello:
        try:
            frame = self.codec.decode(await asyncio.wait_for(self.receive(), timeout=15))
        except FrameError:
            await self.send(self.error("frame.malformed"))
            raise Closed(1002) from None
        except TimeoutError:
            await self.send(self.error("protocol.hello_timeout", seconds=15))
            raise Closed(1002) from None
        if not isinstance(frame, Hello):
            await self.send(self.error("protocol.hello_first"))
            raise Closed(1002)
        self.lang = negotiate(frame.lang)
        return frame

    async def _who(self, hello: Hello, state: Sitting) -> Who:
        if not hello.token:
            return Who(Audience.PUBLIC, None, frozenset(), None)
        principal = await asyncio.to_thread(self.auth.resolve, hello.token, wall_ms())
        if principal is None:
            await self.send(self.error("auth.invalid"))
            raise Closed(1008)
        if principal.kind == "operator":
            return Who(Audience.CHAIR, None, frozenset({Role.OPERATOR}), principal)
        member = state.member(principal.id)
        if member is None or principal.council != state.council.id:
            await self.send(self.error("auth.not_a_member"))
            raise Closed(1008)
        audience = Audience.CHAIR if member.roles & PRESIDING_ROLES else Audience.DELEGATE
        return Who(audience, member.id, member.roles, principal)

    async def _serve(self, hello: Hello) -> None:
        try:
            seq = await self.hub.sequencer(hello.sitting)
        except UnknownSitting:
            await self.send(self.error("sitting.unknown", sitting=hello.sitting))
            raise Closed(4404) from None
        assert seq.state is not None
        who = await self._who(hello, seq.state)
        room = self.hub.rooms[hello.sitting]
        conn = Conn(
            self.send,
            self._close,
            self.codec,
            who.audience,
            who.member,
            self.config.outbound_frames,
            self.config.stall_s,
        )
        self._welcome(conn, room, who, hello)  # no await from here to room.add: no gap
        room.add(conn)
        self.hub.metrics.connections.labels(audience=who.audience.value).inc()
        conn.task = asyncio.create_task(self._write(conn, room))
        if who.member is not None:
            await self.hub.member_connected(hello.sitting, who.member, hello.remote)
        try:
            await self._read(conn, who, hello.sitting)
        finally:
            room.remove(conn)
            conn.task.cancel()
            self.hub.metrics.connections.labels(audience=who.audience.value).dec()
            if who.member is not None:
                self.hub.member_disconnected(hello.sitting, who.member)

    async def _close(self, code: int) -> None:
        await self.ws.close(code=code)

    async def _write(self, conn: Conn, room: Room) -> None:
        with contextlib.suppress(Exception):
            await conn.run(room.snapshot)

    def _welcome(self, conn: Conn, room: Room, who: Who, hello: Hello) -> None:
        state = room.state()
        assert state is not None
        recent = self.hub.sequencers[hello.sitting].recent
        oldest = recent[0].seq if recent else 1
        last = hello.last_seq
        resumable = (
            last is not None
            and 0 <= last <= state.seq
            and last >= oldest - 1
            and state.seq - last <= self.config.resume_window
        )
        snapshot = None if resumable else project_state(state, who.audience, who.member)
        role = (
            None
            if who.principal is None
            else (
                Role.OPERATOR.value
                if who.principal.kind == "operator"
                else max(who.roles, key=lambda r: -ROLE_ORDER.index(r)).value
            )
        )
        conn.push_now(
            self.codec.encode(
                Welcome(
                    sitting=state.id,
                    audience=who.audience.value,
                    member=who.member,
                    role=role,
                    seq=state.seq if snapshot is not None else int(last or 0),
                    snapshot=snapshot,
                    server_time=wall_ms(),
                    lang=self.lang,
                )
            )
        )
        if resumable and last is not None and last < state.seq:
            missing = [r for r in recent if r.seq > last]
            conn.push(
                state.seq,
                room.events_frame(
                    missing, state, who.audience, who.member, self.codec, last, state.seq
                ),
            )

    async def _read(self, conn: Conn, who: Who, sitting: str) -> None:
        while True:
            data = await self.receive()
            try:
                frame = self.codec.decode(data)
            except FrameError as exc:
                cid = self.codec.command_id(data)  # so the sender can settle that command
                conn.push_now(self.error("frame.malformed", cid, detail=str(exc)[:200]))
                continue
            if isinstance(frame, Ping):
                conn.push_now(self.codec.encode(Pong(n=frame.n, server_time=wall_ms())))
            elif isinstance(frame, Cmd):
                self._command(conn, who, sitting, frame)
            else:
                conn.push_now(self.error("protocol.hello_twice"))

    def _command(self, conn: Conn, who: Who, sitting: str, frame: Cmd) -> None:
        if not self.bucket.take():
            conn.push_now(self.error("rate.limited", frame.id))
            if self.bucket.refusals > 4 * self.bucket.capacity:
                raise Closed(1008)
            return
        name = frame.cmd.__struct_config__.tag
        role = who.role_for(str(name))
        if role is None:
            conn.push_now(
                self.error(
                    "permission.denied", frame.id, command=name, role="public", state="read-only"
                )
            )
            return
        started = time.perf_counter()
        metrics = self.hub.metrics

        def reply(outcome: Outcome) -> None:
            metrics.latency.observe(time.perf_counter() - started)
            answer = outcome.answer
            metrics.commands.labels(type=name, outcome="ok" if answer.ok else "refused").inc()
            if answer.ok:
                conn.push_now(
                    self.codec.encode(Ack(id=frame.id, seq=answer.seq, ballot=outcome.ballot))
                )
            else:
                conn.push_now(self.error(answer.code, frame.id, **answer.params))

        actor = who.member
        self.hub.sequencers[sitting].submit(frame.cmd, actor, role, who.key(frame.id), reply)


def choose_subprotocol(offered: list[str]) -> str | None:
    return next((p for p in offered if p in SUBPROTOCOLS), None)


async def websocket_endpoint(ws: WebSocket) -> None:
    services = ws.app.state.services
    chosen = choose_subprotocol(list(ws.scope.get("subprotocols", [])))
    if chosen is None:
        await ws.close(code=1002)  # refused at the handshake: HTTP 403
        return
    await ws.accept(subprotocol=chosen)
    await Session(ws, services.hub, services.auth, CODECS[chosen]).run()
