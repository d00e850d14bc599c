"""Fan-out: every sitting's connections, grouped by audience.

A batch of records is projected and encoded once per audience and encoding, and the same
bytes object is handed to every connection of that audience (a delegate whose own ballot
is in the batch gets a variant with it). A batch a connection sees nothing of (other
members' ballots, for the gallery and the other delegates) is not sent on its own: each
connection knows the seq its client was last brought to, and what lies between that and
the sitting's seq is told as one empty `events` frame before its next visible frame or at
the next view tick, so the seq stays contiguous and a ballot storm costs each screen a few
frames a second, not one per group commit. Such a batch costs nothing per connection: a
batch is handed only to the audiences that see something of it (connections are kept by
audience, and delegates' by member), so a group commit of ballots touches the chair's
connections and the voters', not two thousand screens.

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

import msgspec

from chamber import Record, Sitting
from chamber import events as e
from chamber.figures import figures
from chamber.ids import MemberId
from chamber.projection import Audience, project_event, project_state, vote_view
from server.protocol import Codec, EventItem, Events, Snapshot, View
from server.transport import framed

log = logging.getLogger("nghitruong.fanout")

#: A view tick yields the loop after this long (and after at least one connection), so a
#: command that came in meanwhile waits at most about this long per turn of its way.
VIEW_SLICE_S = 0.001
#: An events frame goes to a public audience this large (gallery screens, which send no
#: commands) in 1 ms slices by a task of the room's, in order, not all in the commit's
#: callback: a public event to 2,000 screens held the loop ≈ 30 ms.
PACE_PUBLIC_FROM = 64

ANSWER, WELCOME = -1, -2  # the seq of a queued frame that is not an event frame

Send = Callable[[bytes], Awaitable[None]]
Close = Callable[[int], Awaitable[None]]
#: Told when a command's answer was written: (received, queued, now), perf_counter times.
Written = Callable[[float, float, float], None]


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
        written: Written | None = None,
        direct: Callable[[bytes], bool] | None = None,
    ) -> None:
        self.send, self.close, self.codec = send, close, codec
        self.audience, self.member = audience, member
        self.limit, self.stall_s = limit, stall_s
        self.max_bytes, self.overflow = max_bytes, overflow
        self.written = written
        self.direct = direct  # writes whole frames at once, if the transport takes them
        # Per queued answer, in order: (when its command was received, when it was queued);
        # received is 0 for an answer that is not a command's (pong, a refused frame).
        self.stamps: deque[tuple[float, float]] = deque()
        self.frames: deque[tuple[int, bytes]] = deque()  # (the seq it brings the client to, bytes)
        self.queued = 0  # bytes in `frames`: bounded by max_bytes
        self.view: bytes | None = None
        self.at = 0  # the seq its client is brought to by what was queued (or a snapshot)
        self.resync = False
        self.behind_since: float | None = None
        self.wake = asyncio.Event()
        self.closed = False
        self.sent = 0
        self.task: asyncio.Task[None] | None = None  # the writer, set by its owner

    def flush_quiet(
        self, to: int, encoded: dict[tuple[str, int, int], bytes] | None = None
    ) -> None:
        """Tell the client the quiet range up to ``to``: one empty frame, keeping the seq
        contiguous. ``encoded`` shares the frames among connections with the same range."""
        if self.at < to and not self.closed:
            self.push(self.at, to, self._quiet_frame(to, encoded))

    def _quiet_frame(self, to: int, encoded: dict[tuple[str, int, int], bytes] | None) -> bytes:
        """The empty events frame for (at, to], from ``encoded`` or encoded into it."""
        key = (self.codec.kind, self.at, to)
        data = None if encoded is None else encoded.get(key)
        if data is None:
            data = self.codec.encode(Events(from_=self.at, to=to, events=[]))
            if encoded is not None:
                encoded[key] = data
        return data

    def push(self, first: int, to_seq: int, data: bytes) -> None:
        """An events frame covering (first, to_seq]."""
        if self.closed:
            return
        if self.at < first:
            self.flush_quiet(first)
        self.at = to_seq
        if self._write_now(data, shared=True):
            return
        if len(self.frames) >= self.limit or self.queued + len(data) > self.max_bytes:
            self.start_resync()  # too far behind
        else:
            self.frames.append((to_seq, data))
            self.queued += len(data)
        self.wake.set()

    def start_resync(self) -> None:
        """A snapshot replaces the queued events (answers, seq -1, are kept)."""
        self.frames = deque(f for f in self.frames if f[0] < 0)
        self.queued = _counted(self.frames)
        self.resync = True
        if self.behind_since is None:
            self.behind_since = time.monotonic()
        self.wake.set()

    def push_now(self, data: bytes, welcome: bool = False, since: float = 0.0) -> None:
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
        if self._write_now(data, shared=False):
            if since and self.written is not None:
                now = time.perf_counter()
                self.written(since, now, now)
            return
        self.frames.append((ANSWER, data))
        self.queued += len(data)
        if self.written is not None:
            self.stamps.append((since, time.perf_counter()))
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
        self.stamps.clear()
        self.queued = 0
        self.view = None
        self.wake.set()
        if self.task is not None:
            self.task.cancel()

    def tick(
        self,
        to: int,
        view: bytes | None,
        quiet: dict[tuple[str, int, int], bytes],
        joined: dict[tuple[str, int, int, bytes], bytes],
    ) -> None:
        """A view tick for this connection: the quiet range up to ``to`` and the audience's
        new ``view`` (None: unchanged). When both go straight to the socket they go in one
        write (one syscall, not two); ``joined`` shares that write among connections with
        the same range and view."""
        if view is not None and self.at < to and self._writable():
            key = (self.codec.kind, self.at, to, view)
            data = joined.get(key)
            if data is None:
                binary = self.codec.binary
                empty = self._quiet_frame(to, quiet)
                data = joined[key] = framed(empty, binary, True) + framed(view, binary, True)
            assert self.direct is not None
            if self.direct(data):
                self.at = to
                self.sent += 2
                return
        self.flush_quiet(to, quiet)
        if view is not None:
            self.set_view(view)

    def set_view(self, data: bytes) -> None:
        if self._write_now(data, shared=True):
            return
        self.view = data
        self.wake.set()

    def _writable(self) -> bool:
        """Nothing waits before a frame written now (the transport may still refuse it)."""
        return not (
            self.direct is None
            or self.frames
            or self.view is not None
            or self.resync
            or self.closed
        )

    def _write_now(self, data: bytes, shared: bool) -> bool:
        """Write ``data`` at once, with no task in between, when nothing waits before it
        and the transport takes it; False: it is to be queued for the writer."""
        if not self._writable():
            return False
        assert self.direct is not None
        if not self.direct(framed(data, self.codec.binary, shared)):
            return False
        self.sent += 1
        return True

    def stalled(self) -> bool:
        return self.behind_since is not None and time.monotonic() - self.behind_since > self.stall_s

    async def run(self, snapshot: Callable[[Conn], tuple[int, bytes]]) -> None:
        """Drain the queue until closed; resync from a snapshot when asked."""
        while not self.closed:
            await self.wake.wait()
            self.wake.clear()
            if self.resync:
                self.resync = False
                seq, data = snapshot(self)
                self.at = seq  # the snapshot covers every quiet range
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
                if seq == ANSWER and self.stamps:
                    since, queued = self.stamps.popleft()
                    if since and self.written is not None:
                        self.written(since, queued, time.perf_counter())
            if self.view is not None and not self.resync:
                view, self.view = self.view, None
                await self.send(view)
                view = b""
            # Nothing sent stays referenced while the connection waits: the last frame
            # of a quiet screen is its welcome, a snapshot of the sitting (~95 KB each, most
            # of a gallery connection's memory before this).
            data = b""


def _view_value(state: Sitting, audience: Audience) -> tuple[Any, int, Any]:
    """What the conflated view tells ``audience``: the open vote's view, the members
    present, and the figures the consoles show (chamber/figures.py)."""
    return vote_view(state, audience), state.present_count(), figures(state, audience)


class Room:
    """The connections watching one sitting."""

    def __init__(self, sitting: str, state: Callable[[], Sitting | None], view_hz: float) -> None:
        self.sitting = sitting
        self.state = state
        self.conns: set[Conn] = set()
        self.audiences: dict[Audience, set[Conn]] = {a: set() for a in Audience}
        self.members: dict[MemberId, set[Conn]] = {}  # delegates' connections, by member
        self.view_interval = 1.0 / view_hz
        self._last_views: dict[Audience, Any] = {}
        self._ticker: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()  # the state moved since the views were last sent
        self._complete = asyncio.Event()  # every member present has voted: no throttle
        self._background: set[asyncio.Task[None]] = set()
        # The last snapshot encoded per (audience, encoding), with the state it shows.
        self._snapshots: dict[tuple[Audience, str], tuple[Sitting, msgspec.Raw]] = {}
        self._views: dict[tuple[Audience, str], tuple[Sitting, bytes]] = {}
        # Public events frames still being written, oldest first: (first, last, items,
        # encoded per encoding); the screens not yet reached get no view tick meanwhile.
        self._paced: deque[tuple[int, int, list[EventItem], dict[str, bytes]]] = deque()
        self._pacer: asyncio.Task[None] | None = None

    def add(self, conn: Conn) -> None:
        """A new connection, just welcomed: it is sent the current view at once (a screen
        that joins mid-vote shows the ballots cast without waiting for the next one)."""
        self.conns.add(conn)
        self.audiences[conn.audience].add(conn)
        if conn.audience is Audience.DELEGATE and conn.member is not None:
            self.members.setdefault(conn.member, set()).add(conn)
        state = self.state()
        if state is not None:
            conn.at = state.seq  # welcomed at this seq (or resumed up to it)
            conn.set_view(self.view_frame(state, conn))
        if self._ticker is None:
            self._ticker = asyncio.create_task(self._tick(), name=f"views:{self.sitting}")

    def remove(self, conn: Conn) -> None:
        conn.closed = True
        conn.wake.set()
        self.conns.discard(conn)
        self.audiences[conn.audience].discard(conn)
        if conn.member is not None and conn.member in self.members:
            mine = self.members[conn.member]
            mine.discard(conn)
            if not mine:
                del self.members[conn.member]

    async def stop(self) -> None:
        for task in (self._ticker, self._pacer):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

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
        frames: dict[tuple[Audience, MemberId | None, str], bytes] = {}

        def push(conn: Conn, items: list[EventItem], member: MemberId | None) -> None:
            key = (conn.audience, member, conn.codec.kind)
            data = frames.get(key)
            if data is None:
                data = frames[key] = conn.codec.encode(Events(from_=first, to=last, events=items))
            conn.push(first, last, data)

        own = {r.event.member for r in records if isinstance(r.event, e.BallotCast)}
        for audience, group in self.audiences.items():
            items = self.visible(records, state, audience, None) if group else []
            if not items:
                continue  # quiet for the whole audience: told at its next frame or tick
            if audience is Audience.PUBLIC and (len(group) >= PACE_PUBLIC_FROM or self._paced):
                self._pace(first, last, items)
                continue
            for conn in list(group):
                # Only a delegate whose own ballot is in the batch sees a variant of its own.
                if audience is not Audience.DELEGATE or conn.member not in own:
                    push(conn, items, None)
        if own:
            self._publish_own(records, state, push)

    def _pace(self, first: int, last: int, items: list[EventItem]) -> None:
        self._paced.append((first, last, items, {}))
        if self._pacer is None or self._pacer.done():
            self._pacer = asyncio.create_task(self._write_paced(), name=f"paced:{self.sitting}")

    async def _write_paced(self) -> None:
        """Write the public events frames, oldest first, to every public connection that
        has not got past them, yielding the loop every VIEW_SLICE_S."""
        until = time.perf_counter() + VIEW_SLICE_S
        try:
            while self._paced:
                first, last, items, encoded = self._paced[0]
                for conn in list(self.audiences[Audience.PUBLIC]):
                    if conn.closed or conn.at >= last:
                        continue  # gone, or joined (welcomed or resumed) after these events
                    data = encoded.get(conn.codec.kind)
                    if data is None:
                        data = encoded[conn.codec.kind] = conn.codec.encode(
                            Events(from_=first, to=last, events=items)
                        )
                    conn.push(first, last, data)
                    if time.perf_counter() >= until:
                        await asyncio.sleep(0)
                        until = time.perf_counter() + VIEW_SLICE_S
                self._paced.popleft()
        except Exception:  # a bug: the screens it had not reached get a snapshot
            log.exception("sitting %s: writing public events failed", self.sitting)
            behind = self._paced[-1][1]
            self._paced.clear()
            for conn in list(self.audiences[Audience.PUBLIC]):
                if not conn.closed and conn.at < behind:
                    conn.start_resync()
        self._changed.set()  # the view ticks skipped the public screens meanwhile

    def _publish_own(
        self,
        records: list[Record],
        state: Sitting,
        push: Callable[[Conn, list[EventItem], MemberId | None], None],
    ) -> None:
        """Each voter's own variant of the batch: what every delegate sees of it (other
        members' ballots: nothing) with their own ballots, projected for them, in seq
        order. A batch of n ballots costs n projections in all, not n per voter. A batch
        that opens a vote, whose projection names the member, is projected whole for each."""
        mine: dict[MemberId, list[Record]] = {}
        for r in records:
            if isinstance(r.event, e.BallotCast) and r.event.member in self.members:
                mine.setdefault(r.event.member, []).append(r)
        if not mine:
            return
        whole = any(isinstance(r.event, e.VoteOpened) for r in records)
        common = [] if whole else self.visible(records, state, Audience.DELEGATE, None)
        for member, theirs in mine.items():
            if whole:
                items = self.visible(records, state, Audience.DELEGATE, member)
            else:
                items = self.visible(theirs, state, Audience.DELEGATE, member)
                if common:
                    items = sorted(common + items, key=lambda item: item.seq)
            for conn in list(self.members[member]):
                push(conn, items, member)

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

    def _drop_stalled(self, conn: Conn) -> None:
        task = asyncio.create_task(self._drop(conn))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def projected(
        self, state: Sitting, audience: Audience, member: MemberId | None, codec: Codec
    ) -> Any:
        """The state as a welcome or a resync shows it to ``audience``. Without a member
        it is the same for every connection of the audience: encoded once per state and
        encoding, not once per screen (a large sitting's is tens of kilobytes)."""
        if member is not None:
            return project_state(state, audience, member)
        key = (audience, codec.kind)
        hit = self._snapshots.get(key)
        if hit is None or hit[0] is not state:
            hit = (state, msgspec.Raw(codec.encode(project_state(state, audience, None))))
            self._snapshots[key] = hit
        return hit[1]

    def snapshot(self, conn: Conn) -> tuple[int, bytes]:
        """A resync: the snapshot, and the current view to follow it."""
        state = self.state()
        seq = state.seq if state is not None else 0
        shown = (
            self.projected(state, conn.audience, conn.member, conn.codec)
            if state is not None
            else None
        )
        if state is not None:
            conn.view = self.view_frame(state, conn)
        return seq, conn.codec.encode(Snapshot(seq=seq, snapshot=shown))

    def view_frame(self, state: Sitting, conn: Conn) -> bytes:
        """The current view for a connection that joins or resyncs: encoded once per
        state, audience and encoding (counting those present walks every member)."""
        key = (conn.audience, conn.codec.kind)
        hit = self._views.get(key)
        if hit is None or hit[0] is not state:
            view, present, shown = _view_value(state, conn.audience)
            data = conn.codec.encode(View(seq=state.seq, vote=view, present=present, figures=shown))
            hit = self._views[key] = (state, data)
        return hit[1]

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
            deliver = self._view_delivery()
            until = time.perf_counter() + VIEW_SLICE_S
            for conn in list(self.conns):
                deliver(conn)
                if time.perf_counter() >= until:
                    # Yield between slices: commands that came in meanwhile are decided
                    # and acknowledged before the views of two thousand screens are all
                    # written (measured: 128 screens a slice held the loop 3-4.6 ms).
                    await asyncio.sleep(0)
                    until = time.perf_counter() + VIEW_SLICE_S
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
        changed: set[Audience] = set()
        for audience in Audience:
            if audience is Audience.PUBLIC and self._paced:
                continue  # not sent to them this tick: still a change at the next one
            value = _view_value(state, audience)
            if self._last_views.get(audience) != value:
                self._last_views[audience] = value
                changed.add(audience)
        frames: dict[tuple[Audience, str], bytes] = {}
        empties: dict[tuple[str, int, int], bytes] = {}
        joined: dict[tuple[str, int, int, bytes], bytes] = {}

        def deliver(conn: Conn) -> None:
            if conn.closed or (self._paced and conn.audience is Audience.PUBLIC):
                return  # gone, or public events still being written to it: next tick
            if conn.stalled():
                self._drop_stalled(conn)
                return
            data = None
            if conn.audience in changed:
                key = (conn.audience, conn.codec.kind)
                data = frames.get(key)
                if data is None:
                    view, present, shown = self._last_views[conn.audience]
                    data = frames[key] = conn.codec.encode(
                        View(seq=state.seq, vote=view, present=present, figures=shown)
                    )
            conn.tick(state.seq, data, empties, joined)

        return deliver
