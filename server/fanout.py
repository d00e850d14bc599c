"""Fan-out: every sitting's connections, grouped by audience.

A batch of records is projected and encoded once per audience and encoding, and the same
bytes object is handed to every connection of that audience (a delegate whose own ballot
is in the batch gets a variant with it). A batch a connection sees nothing of (other
members' ballots, for the gallery and the other delegates) is not sent on its own: the
connection notes the quiet range and sends it as one empty `events` frame before its next
visible frame or at the next view tick, so the seq stays contiguous and a ballot storm
costs each screen a few frames a second, not one per group commit.

Each connection has a bounded outbound queue drained by its own writer task: a
connection that falls behind is resynced from a snapshot, and one that stays stalled is
closed (1013); nobody else waits for it.

Fast-changing views (an open vote's ballots cast, the present count) are conflated: the
first change after a quiet spell goes out at once, later ones at most `view_hz` times a
second, each replacing any unsent one (a throttle with leading and trailing edges); the
view in which every member present has voted skips the wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from chamber import Record, Sitting
from chamber import events as e
from chamber.ids import MemberId
from chamber.projection import Audience, project_event, project_state, vote_view
from server.protocol import Codec, EventItem, Events, Snapshot, View

log = logging.getLogger("nghitruong.fanout")

VIEW_PACE = 128  # connections served per loop turn by a view tick

ANSWER, WELCOME = -1, -2  # the seq of a queued frame that is not an event frame

Send = Callable[[bytes], Awaitable[None]]
Close = Callable[[int], Awaitable[None]]


def _counted(frames: Iterable[tuple[int, bytes]]) -> int:
    return sum(len(data) for seq, data in frames if seq != WELCOME)


class Conn:
    """One client connection's outbound side."""

    def __init__(
        self,
        send: Send,
        close: Close,
        codec: Codec,
        audience: Audience,
        member: MemberId | None,
        limit: int,
        stall_s: float,
        max_bytes: int = 1 << 20,
        overflow: Callable[[], None] | None = None,
    ) -> None:
        self.send, self.close, self.codec = send, close, codec
        self.audience, self.member = audience, member
        self.limit, self.stall_s = limit, stall_s
        self.max_bytes, self.overflow = max_bytes, overflow
        self.frames: deque[tuple[int, bytes]] = deque()  # (the seq it brings the client to, bytes)
        self.queued = 0  # bytes in `frames`: bounded by max_bytes
        self.view: bytes | None = None
        self.quiet: tuple[int, int] | None = None  # (from, to] sent nothing of, not yet told
        self.resync = False
        self.behind_since: float | None = None
        self.wake = asyncio.Event()
        self.closed = False
        self.sent = 0
        self.task: asyncio.Task[None] | None = None  # the writer, set by its owner

    def advance(self, first: int, last: int) -> None:
        """The batch (first, last] has nothing this connection sees: note it as quiet."""
        if not self.closed:
            self.quiet = (self.quiet[0] if self.quiet else first, last)

    def flush_quiet(self, encoded: dict[tuple[str, int, int], bytes] | None = None) -> None:
        """Tell the client its quiet range: one empty frame, keeping the seq contiguous.
        ``encoded`` shares the frames among connections with the same range."""
        if self.quiet is not None:
            first, last = self.quiet
            self.quiet = None
            key = (self.codec.kind, first, last)
            data = None if encoded is None else encoded.get(key)
            if data is None:
                data = self.codec.encode(Events(from_=first, to=last, events=[]))
                if encoded is not None:
                    encoded[key] = data
            self.push(last, data)

    def push(self, to_seq: int, data: bytes) -> None:
        if self.closed:
            return
        self.flush_quiet()
        if len(self.frames) >= self.limit or self.queued + len(data) > self.max_bytes:
            # Too far behind: a snapshot replaces the events; answers (-1) are kept.
            self.frames = deque(f for f in self.frames if f[0] < 0)
            self.queued = _counted(self.frames)
            self.resync = True
            if self.behind_since is None:
                self.behind_since = time.monotonic()
        else:
            self.frames.append((to_seq, data))
            self.queued += len(data)
        self.wake.set()

    def push_now(self, data: bytes, welcome: bool = False) -> None:
        """An answer (ack, error, pong): it does not count against the event backlog, but
        against the byte bound: a client whose answers pile up unread past it is cut off
        (it sends and does not read), and what was queued for it is freed. The welcome,
        one a connection and as large as the sitting's snapshot, is not counted."""
        if self.closed:
            return
        if welcome:
            self.frames.append((WELCOME, data))
            self.wake.set()
            return
        self.frames.append((ANSWER, data))
        self.queued += len(data)
        if self.queued > self.max_bytes:
            self.drop()
            if self.overflow is not None:
                self.overflow()
            return
        self.wake.set()

    def drop(self) -> None:
        """Closed for good: forget everything queued and stop the writer."""
        self.closed = True
        self.frames.clear()
        self.queued = 0
        self.view = None
        self.wake.set()
        if self.task is not None:
            self.task.cancel()

    def set_view(self, data: bytes) -> None:
        self.view = data
        self.wake.set()

    def stalled(self) -> bool:
        return self.behind_since is not None and time.monotonic() - self.behind_since > self.stall_s

    async def run(self, snapshot: Callable[[Conn], tuple[int, bytes]]) -> None:
        """Drain the queue until closed; resync from a snapshot when asked."""
        while not self.closed:
            await self.wake.wait()
            self.wake.clear()
            if self.resync:
                self.resync = False
                self.quiet = None  # the snapshot covers it
                seq, data = snapshot(self)
                # Every event frame the snapshot covers goes, also those queued behind an
                # answer; the answers stay, in their order.
                self.frames = deque(f for f in self.frames if not 0 <= f[0] <= seq)
                self.queued = _counted(self.frames)
                await self.send(data)
                self.behind_since = None
            while self.frames and not self.resync:
                seq, data = self.frames.popleft()
                if seq != WELCOME:
                    self.queued -= len(data)
                await self.send(data)
                self.sent += 1
            if self.view is not None and not self.resync:
                view, self.view = self.view, None
                await self.send(view)


class Room:
    """The connections watching one sitting."""

    def __init__(self, sitting: str, state: Callable[[], Sitting | None], view_hz: float) -> None:
        self.sitting = sitting
        self.state = state
        self.conns: set[Conn] = set()
        self.view_interval = 1.0 / view_hz
        self._last_views: dict[Audience, Any] = {}
        self._ticker: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()  # the state moved since the views were last sent
        self._complete = asyncio.Event()  # every member present has voted: no throttle
        self._background: set[asyncio.Task[None]] = set()

    def add(self, conn: Conn) -> None:
        """A new connection, just welcomed: it is sent the current view at once (a screen
        that joins mid-vote shows the ballots cast without waiting for the next one)."""
        self.conns.add(conn)
        state = self.state()
        if state is not None:
            conn.set_view(self.view_frame(state, conn))
        if self._ticker is None:
            self._ticker = asyncio.create_task(self._tick(), name=f"views:{self.sitting}")

    def remove(self, conn: Conn) -> None:
        conn.closed = True
        conn.wake.set()
        self.conns.discard(conn)

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            await asyncio.gather(self._ticker, return_exceptions=True)

    async def close_all(self, code: int) -> None:
        """Close every connection (the sitting moved to another node): they reconnect."""
        for conn in list(self.conns):
            self.remove(conn)
            conn.drop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(code), timeout=1)

    def counts(self) -> dict[str, int]:
        out = {a.value: 0 for a in Audience}
        for conn in self.conns:
            out[conn.audience.value] += 1
        return out

    # Events

    def publish(self, records: list[Record], state: Sitting) -> None:
        self._changed.set()
        vote = state.open_vote()
        if (
            vote is not None
            and len(vote.voted) >= state.present_count()
            and any(isinstance(r.event, e.BallotCast) and not r.event.changed for r in records)
        ):
            self._complete.set()  # this batch's ballot completed the tally: no waiting
        if not self.conns:
            return
        first, last = records[0].seq - 1, records[-1].seq
        shown: dict[tuple[Audience, MemberId | None], list[EventItem]] = {}
        frames: dict[tuple[Audience, MemberId | None, str], bytes] = {}
        own = {r.event.member for r in records if isinstance(r.event, e.BallotCast)}
        for conn in list(self.conns):
            if conn.stalled():
                task = asyncio.create_task(self._drop(conn))
                self._background.add(task)
                task.add_done_callback(self._background.discard)
                continue
            # Only a delegate whose own ballot is in the batch sees a variant of its own.
            mine = conn.audience is Audience.DELEGATE and conn.member in own
            member = conn.member if mine else None
            view = (conn.audience, member)
            if view not in shown:
                shown[view] = self.visible(records, state, conn.audience, member)
            if not shown[view]:
                conn.advance(first, last)
                continue
            key = (conn.audience, member, conn.codec.kind)
            if key not in frames:
                frames[key] = conn.codec.encode(Events(from_=first, to=last, events=shown[view]))
            conn.push(last, frames[key])

    @staticmethod
    def visible(
        records: Iterable[Record], state: Sitting, audience: Audience, member: MemberId | None
    ) -> list[EventItem]:
        items = []
        for r in records:
            event = project_event(r.event, state, audience, member)
            if event is not None:
                items.append(EventItem(seq=r.seq, at=r.at, event=event))
        return items

    @staticmethod
    def events_frame(
        records: Iterable[Record],
        state: Sitting,
        audience: Audience,
        member: MemberId | None,
        codec: Codec,
        first: int,
        last: int,
    ) -> bytes:
        items = Room.visible(records, state, audience, member)
        return codec.encode(Events(from_=first, to=last, events=items))

    def snapshot(self, conn: Conn) -> tuple[int, bytes]:
        """A resync: the snapshot, and the current view to follow it."""
        state = self.state()
        seq = state.seq if state is not None else 0
        shown = project_state(state, conn.audience, conn.member) if state is not None else None
        if state is not None:
            conn.view = self.view_frame(state, conn)
        return seq, conn.codec.encode(Snapshot(seq=seq, snapshot=shown))

    @staticmethod
    def view_frame(state: Sitting, conn: Conn) -> bytes:
        view = vote_view(state, conn.audience)
        return conn.codec.encode(View(seq=state.seq, vote=view, present=state.present_count()))

    async def _drop(self, conn: Conn) -> None:
        log.info("sitting %s: dropping a stalled %s connection", self.sitting, conn.audience)
        self.remove(conn)
        if conn.task is not None:
            conn.task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(conn.close(1013), timeout=1)

    # Conflated views

    async def _tick(self) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            self._complete.clear()  # this tick shows it; one set from here on is newer
            deliver, conns = self._view_delivery(), list(self.conns)
            for i in range(0, len(conns), VIEW_PACE):
                for conn in conns[i : i + VIEW_PACE]:
                    deliver(conn)
                # Yield between chunks: commands that came in meanwhile are decided and
                # acknowledged before the views of two thousand screens are all written.
                await asyncio.sleep(0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._complete.wait(), self.view_interval)

    def send_views(self) -> None:
        deliver = self._view_delivery()
        for conn in list(self.conns):
            deliver(conn)

    def _view_delivery(self) -> Callable[[Conn], None]:
        """What a view tick sends each connection: its quiet range, and its audience's view
        if that changed since the last tick (encoded once per audience and encoding)."""
        state = self.state()
        if state is None:
            return lambda conn: None
        present = state.present_count()
        changed: set[Audience] = set()
        for audience in Audience:
            value = (vote_view(state, audience), present)
            if self._last_views.get(audience) != value:
                self._last_views[audience] = value
                changed.add(audience)
        frames: dict[tuple[Audience, str], bytes] = {}
        empties: dict[tuple[str, int, int], bytes] = {}

        def deliver(conn: Conn) -> None:
            if conn.closed:
                return
            conn.flush_quiet(empties)
            if conn.audience not in changed:
                return
            key = (conn.audience, conn.codec.kind)
            if key not in frames:
                view, _ = self._last_views[conn.audience]
                frames[key] = conn.codec.encode(View(seq=state.seq, vote=view, present=present))
            conn.set_view(frames[key])

        return deliver
