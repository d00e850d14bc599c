"""One WebSocket connection: the hello, resume, commands in, answers and events out.

Close codes (docs/protocol.md): 1002 protocol error (no valid hello), 1003 wrong kind of
frame for the subprotocol, 1008 policy (bad token, a flood of frames, answers left unread
past the outbound bound), 1009 frame too large, 1011 an error of the hub's own, 1013 try
again later (a stalled connection), 4401 the session ended (revoked or expired),
4404 unknown sitting.

Every frame a client sends spends a token of its connection's bucket; every command also
spends one of its principal's, shared with its other connections and its HTTP commands.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from chamber import Sitting
from media.peers import OfferError
from media.routing import Endpoint
from server.acting import Refused, Who, who_in
from server.auth import token_hash
from server.fanout import Conn, Room
from server.http_base import field_errors, schema_problems
from server.hub import Hub, UnknownSitting
from server.i18n import negotiate, t
from server.limits import Bucket
from server.logs import Throttled
from server.protocol import (
    CODECS,
    HEARTBEAT_FLOOR_S,
    HEARTBEAT_MISSES,
    SUBPROTOCOLS,
    Ack,
    Cmd,
    Codec,
    Error,
    FrameError,
    Hello,
    MediaAnswer,
    MediaLeave,
    MediaMute,
    MediaOffer,
    MediaStatus,
    Ping,
    Pong,
    Welcome,
)
from server.sequencer import UNAVAILABLE, Outcome, wall_ms
from server.sessions import SessionWatch
from server.transport import ABORT, RECEIVED, WRITE
from server.video import NotAllowed, Video, endpoint_for, presiding

log = logging.getLogger("nghitruong.ws")
#: Client mistakes are logged, but at most a few lines a minute whatever a client sends.
mistakes = Throttled(log, per_minute=10)
#: Connections the hub ends for their conduct: throttled apart, so floods don't hide them.
ends = Throttled(log, per_minute=30)

SESSION_ENDED = 4401


class Closed(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class Session:
    def __init__(
        self,
        ws: WebSocket,
        hub: Hub,
        auth: Any,
        codec: Codec,
        watch: SessionWatch | None,
        video: Video | None = None,
    ) -> None:
        self.ws, self.hub, self.auth, self.codec, self.watch = ws, hub, auth, codec, watch
        self.video = video
        self.media: Endpoint | None = None  # this connection's video link, if it has one
        self._offered = 0.0  # when its last offer came: one a second at most
        self._status_due = False
        self.config = hub.config
        self.lang = "vi"
        self.bucket = Bucket(self.config.frames_per_s)  # every frame, whatever it is
        self.ended: str | None = None  # "revoked" or "expired": the session is over
        self.conn: Conn | None = None
        self.sitting: str | None = None
        self.loop = asyncio.get_running_loop()
        self._abort: Any = ws.scope.get("extensions", {}).get(ABORT)
        self._received: Any = ws.scope.get("extensions", {}).get(RECEIVED)
        self._direct: Any = ws.scope.get("extensions", {}).get(WRITE)
        self.received_at = 0.0  # when the last frame's bytes were read (perf_counter)
        self._unwatch: Any = None
        self._tasks: set[asyncio.Task[None]] = set()
        # The heartbeat the client promised in its hello: when it was last heard, when
        # the watchdog looks next, and how long a silence means the peer is gone.
        self._heard = 0.0
        self._idle = 0.0
        self._due = 0.0
        self._watchdog: asyncio.TimerHandle | None = None

    # Frames

    async def receive(self) -> bytes | str:
        message = await self.ws.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        data: bytes | str | None = message.get("bytes")
        if data is None:
            data = message.get("text")
        self.received_at = self._received() if self._received is not None else time.perf_counter()
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

    def malformed(self, exc: FrameError, cid: str | None) -> bytes:
        """``frame.malformed``; when a field broke the schema's bounds, ``params.fields``
        names it with a message in the sender's language (as the HTTP API's field errors
        do), and the message says what is wrong rather than msgspec's English."""
        detail = str(exc)[:200]
        if exc.invalid is None:
            return self.error("frame.malformed", cid, detail=detail)
        fields = field_errors(schema_problems(exc.invalid), self.lang)
        for f in fields:  # the command's own field, as a console's form names it
            f["field"] = f["field"].removeprefix("cmd.")
        message = " ".join(f["message"] for f in fields)
        params = {"detail": detail, "fields": fields}
        return self.codec.encode(
            Error(id=cid, code="frame.malformed", message=message, params=params)
        )

    # The conversation

    async def run(self) -> None:
        try:
            hello = await self._hello()
            await self._serve(hello)
        except Closed as closed:
            await self._shut(closed.code)
        except WebSocketDisconnect:
            pass
        except Exception:
            mistakes.error("a connection failed", exc_info=True)
            await self._shut(1011)
        finally:
            if self._unwatch is not None:
                self._unwatch()
            if self._watchdog is not None:
                self._watchdog.cancel()

    async def _shut(self, code: int) -> None:
        """Close politely, then cut the connection if the peer does not take the close
        (a peer that never reads would otherwise hold its socket and buffer forever)."""
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(code=code), timeout=1)
        if self._abort is not None:
            self.loop.call_later(2, self._abort)

    async def _hello(self) -> Hello:
        try:
            frame = self.codec.decode(await asyncio.wait_for(self.receive(), timeout=15))
        except FrameError as exc:
            mistakes.info("a hello that is not one: %s", str(exc)[:200])
            await self.send(self.error("frame.malformed"))
            raise Closed(1002) from None
        except TimeoutError:
            await self.send(self.error("protocol.hello_timeout", seconds=15))
            raise Closed(1002) from None
        if not isinstance(frame, Hello):
            await self.send(self.error("protocol.hello_first"))
            raise Closed(1002)
        self.lang = negotiate(frame.lang)
        if frame.heartbeat:
            self._idle = max(HEARTBEAT_FLOOR_S, HEARTBEAT_MISSES * frame.heartbeat / 1000)
        return frame

    # The heartbeat: a peer that promised a frame every n ms and stays silent for several
    # of them is gone (a cut cable, a tablet out of range: no FIN ever comes). Its
    # connection is dropped at once, so its presence is settled within seconds, not after
    # TCP's own timeouts. One timer per connection, moved only when it fires.

    def _arm_watchdog(self, due: float) -> None:
        self._due = due
        self._watchdog = self.loop.call_at(due, self._watch)

    def _watch(self) -> None:
        now = self.loop.time()
        if now - self._due > 0.5:
            # The hub itself was held up: frames may be waiting unread. Look again soon.
            self._arm_watchdog(now + 0.5)
            return
        if now - self._heard < self._idle:
            self._arm_watchdog(self._heard + self._idle)
            return
        ends.info("a connection was silent past its heartbeat (%.1f s): dropped", self._idle)
        self._watchdog = None
        if self._abort is not None:
            self._abort()  # no close handshake with a peer that is not there
        else:  # pragma: no cover - only under a server without the abort extension
            self._spawn(self._shut(1001))

    async def _who(self, hello: Hello, state: Sitting) -> Who:
        if not hello.token:
            return who_in(None, state)
        if self.watch is not None:  # followed before it is resolved: no revocation slips by
            self._unwatch = self.watch.watch(token_hash(hello.token), self._session_ended)
        principal = await asyncio.to_thread(self.auth.resolve, hello.token, wall_ms())
        if principal is None or self.ended is not None:
            await self.send(self.error("auth.invalid"))
            raise Closed(1008)
        try:
            return who_in(principal, state)
        except Refused as refused:
            await self.send(self.error(refused.code, **refused.params))
            raise Closed(1008) from None

    async def _serve(self, hello: Hello) -> None:
        try:
            seq = await self.hub.served(hello.sitting)
        except UnknownSitting as err:  # or NotOwner: another node sequences it
            await self.send(self.error(err.code, sitting=hello.sitting))
            raise Closed(err.close) from None
        assert seq.state is not None
        who = await self._who(hello, seq.state)
        room = self.hub.rooms.get(hello.sitting)
        if room is None:  # handed over or reaped while the hello was checked: again
            await self.send(self.error("server.unavailable", sitting=hello.sitting))
            raise Closed(1013)
        self.sitting = hello.sitting
        conn = self.conn = Conn(
            self.send,
            self._shut,
            self.codec,
            who.audience,
            who.member,
            self.config.outbound_frames,
            self.config.stall_s,
            self.config.outbound_bytes,
            self._overflow,
            self.hub.metrics.written,
            self._direct,
        )
        self._welcome(conn, room, who, hello)  # no await from here to room.add: no gap
        room.add(conn)
        self.hub.metrics.connections.labels(audience=who.audience.value).inc()
        conn.task = asyncio.create_task(self._write(conn, room))
        try:
            if who.member is not None:
                await self.hub.member_connected(hello.sitting, who.member, hello.remote)
            await self._read(conn, who, hello.sitting)
        finally:
            if self.media is not None and self.video is not None:
                await self.video.leave(hello.sitting, self.media.id, owner=self)
            room.remove(conn)
            conn.drop()
            self.hub.metrics.connections.labels(audience=who.audience.value).dec()
            if who.member is not None:
                self.hub.member_disconnected(hello.sitting, who.member)

    async def _write(self, conn: Conn, room: Room) -> None:
        with contextlib.suppress(Exception):
            await conn.run(room.snapshot)

    # Ending a connection from outside its own reading

    def _overflow(self) -> None:
        """The answers queued for this client passed the byte bound: it sends and does
        not read. Cut it at once; the queue is already freed."""
        ends.info("a connection left over %d bytes unread: cut", self.config.outbound_bytes)
        if self._abort is not None:
            self._abort()
        else:  # pragma: no cover - only under a server without the abort extension
            self._spawn(self._shut(1008))

    def _session_ended(self, reason: str) -> None:
        """From the session watch, in any thread: the session was revoked or expired.
        Set before the revoking call returns, so no later command is accepted."""
        self.ended = reason
        with contextlib.suppress(RuntimeError):  # the loop is gone: so is the connection
            self.loop.call_soon_threadsafe(self._spawn, self._end(reason))

    async def _end(self, reason: str) -> None:
        conn = self.conn
        if conn is not None:
            conn.push_now(self.error(f"auth.{reason}"))
            for _ in range(20):  # give the writer a moment to deliver why
                if not conn.frames:
                    break
                await asyncio.sleep(0.01)
        await self._shut(SESSION_ENDED)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _welcome(self, conn: Conn, room: Room, who: Who, hello: Hello) -> None:
        state = room.state()
        assert state is not None
        recent = seq.recent if (seq := self.hub.serving(hello.sitting)) is not None else ()
        oldest = recent[0].seq if recent else 1
        last = hello.last_seq
        resumable = (
            last is not None
            and 0 <= last <= state.seq
            and last >= oldest - 1
            and state.seq - last <= self.config.resume_window
        )
        snapshot = (
            None if resumable else room.projected(state, who.audience, who.member, self.codec)
        )
        conn.push_now(
            self.codec.encode(
                Welcome(
                    sitting=state.id,
                    audience=who.audience.value,
                    member=who.member,
                    role=who.display_role(),
                    seq=state.seq if snapshot is not None else int(last or 0),
                    snapshot=snapshot,
                    server_time=wall_ms(),
                    lang=self.lang,
                    permits=who.permits(),
                )
            ),
            welcome=True,
        )
        conn.at = state.seq if snapshot is not None else int(last or 0)
        if resumable and last is not None and last < state.seq:
            missing = [r for r in recent if r.seq > last]
            conn.push(
                last,
                state.seq,
                room.events_frame(
                    missing, state, who.audience, who.member, self.codec, last, state.seq
                ),
            )

    async def _read(self, conn: Conn, who: Who, sitting: str) -> None:
        if self._idle:  # watched from the first read on: the welcome may take a while
            self._heard = self.loop.time()
            self._arm_watchdog(self._heard + self._idle)
        while True:
            data = await self.receive()
            self._heard = self.loop.time()
            if not self.bucket.take():
                if self.bucket.flooding():
                    ends.info("a connection flooded the hub with frames: closed")
                    raise Closed(1008)
                cid = self.codec.command_id(data)  # only a command's sender waits for word
                if cid is not None:
                    conn.push_now(self.error("rate.limited", cid))
                continue
            try:
                frame = self.codec.decode(data)
            except FrameError as exc:
                mistakes.info("a malformed frame: %s", str(exc)[:200])
                cid = self.codec.command_id(data)  # so the sender can settle that command
                conn.push_now(self.malformed(exc, cid))
                continue
            if isinstance(frame, Ping):
                conn.push_now(self.codec.encode(Pong(n=frame.n, server_time=wall_ms())))
            elif isinstance(frame, Cmd):
                self._command(conn, who, sitting, frame)
            elif isinstance(frame, MediaOffer | MediaLeave | MediaMute):
                self._media(conn, who, sitting, frame)
            else:
                conn.push_now(self.error("protocol.hello_twice"))

    def _command(self, conn: Conn, who: Who, sitting: str, frame: Cmd) -> None:
        if self.ended is not None:
            conn.push_now(self.error(f"auth.{self.ended}", frame.id))
            return
        if who.rate_key is not None and not self.hub.buckets.take(who.rate_key):
            conn.push_now(self.error("rate.limited", frame.id))
            return
        name = str(frame.cmd.__struct_config__.tag)
        role = who.role_for(name)
        if role is None:
            conn.push_now(
                self.error(
                    "permission.denied", frame.id, command=name, role="public", state="read-only"
                )
            )
            return
        started = self.received_at
        metrics = self.hub.metrics
        metrics.stage["read"].observe(time.perf_counter() - started)

        def reply(outcome: Outcome) -> None:
            metrics.latency.observe(time.perf_counter() - started)
            answer = outcome.answer
            metrics.commands.labels(type=name, outcome="ok" if answer.ok else "refused").inc()
            if answer.ok:
                data = self.codec.encode(Ack(id=frame.id, seq=answer.seq, ballot=outcome.ballot))
            else:
                data = self.error(answer.code, frame.id, **answer.params)
            conn.push_now(data, since=started)

        serving = self.hub.serving(sitting)
        if serving is None:  # this node is handing the sitting over: sent again, answered
            reply(Outcome(UNAVAILABLE))
            return
        serving.submit(frame.cmd, who.member, role, who.key(frame.id), reply, self._still_live)

    # Video links (docs/media.md)

    def _media(
        self, conn: Conn, who: Who, sitting: str, frame: MediaOffer | MediaLeave | MediaMute
    ) -> None:
        video = self.video
        if video is None:
            conn.push_now(self.error("media.unavailable"))
            return
        if self.ended is not None:
            conn.push_now(self.error(f"auth.{self.ended}"))
            return
        if isinstance(frame, MediaLeave):
            if self.media is not None:
                self._spawn(video.leave(sitting, self.media.id, owner=self))
                self.media = None
            return
        if isinstance(frame, MediaMute):
            if not presiding(who):
                conn.push_now(self.error("media.not_allowed", mode="mute"))
            elif not video.mute(sitting, frame.endpoint, frame.muted):  # type: ignore[arg-type]
                conn.push_now(self.error("media.unknown_endpoint", endpoint=frame.endpoint))
            return
        now = time.monotonic()
        if now - self._offered < 1.0:
            conn.push_now(self.error("rate.limited"))
            return
        self._offered = now
        try:
            endpoint = endpoint_for(who, frame.mode)
        except NotAllowed:
            conn.push_now(self.error("media.not_allowed", mode=frame.mode))
            return
        self._spawn(self._offer(conn, video, sitting, endpoint, frame))

    async def _offer(
        self, conn: Conn, video: Video, sitting: str, endpoint: Endpoint, frame: MediaOffer
    ) -> None:
        previous = self.media
        if previous is not None and previous.id != endpoint.id:
            await video.leave(sitting, previous.id, owner=self)
        self.media = endpoint
        try:
            answer = await video.join(
                sitting, endpoint, frame.sdp, frame.mode, owner=self, notify=self._status_soon
            )
        except OfferError as refused:
            self.media = None
            conn.push_now(self.error(refused.code))
            return
        except Exception:
            self.media = None
            mistakes.error("a video offer failed", exc_info=True)
            conn.push_now(self.error("media.bad_offer"))
            return
        if self.media is not endpoint:  # left or replaced while it was being answered
            return
        conn.push_now(self.codec.encode(MediaAnswer(endpoint=endpoint.id, sdp=answer)))
        self._status_soon()

    def _status_soon(self) -> None:
        """The sitting's media changed: send this link its status once, soon (changes
        that come together are told together)."""
        if self._status_due or self.media is None:
            return
        self._status_due = True
        self.loop.call_soon(self._send_status)

    def _send_status(self) -> None:
        self._status_due = False
        endpoint, conn, video = self.media, self.conn, self.video
        if endpoint is None or conn is None or video is None or self.sitting is None:
            return
        status = video.status(self.sitting, endpoint.id, endpoint.kind)
        conn.push_now(self.codec.encode(MediaStatus(**status)))

    def _still_live(self) -> str | None:
        """Asked when the command is decided: the error code if the session ended since."""
        return None if self.ended is None else f"auth.{self.ended}"


def choose_subprotocol(offered: list[str]) -> str | None:
    return next((p for p in offered if p in SUBPROTOCOLS), None)


async def websocket_endpoint(ws: WebSocket) -> None:
    services = ws.app.state.services
    chosen = choose_subprotocol(list(ws.scope.get("subprotocols", [])))
    if chosen is None:
        await ws.close(code=1002)  # refused at the handshake: HTTP 403
        return
    await ws.accept(subprotocol=chosen)
    session = Session(
        ws, services.hub, services.auth, CODECS[chosen], services.watch, services.video
    )
    await session.run()
