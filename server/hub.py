"""The hub: a sequencer and a room per sitting, timers armed from the state, and
presence that follows remote delegates' connections."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from redis.exceptions import RedisError

from chamber import AnyCommand, Record, Sitting
from chamber import commands as c
from chamber import events as e
from chamber.ids import MemberId, Presence, Role, TurnStatus, VoteForm, VoteStatus
from server.config import Config
from server.fanout import Room
from server.follower import Follower
from server.journal import Journal
from server.journal.base import JournalError
from server.limits import Buckets
from server.metrics import LagMonitor, Metrics
from server.presence import SharedPresence
from server.relay import Relay
from server.sequencer import UNAVAILABLE, Guard, Outcome, Pending, Sequencer, wall_ms

log = logging.getLogger("nghitruong.hub")


class UnknownSitting(Exception):
    code = "sitting.unknown"
    close = 4404  # the WebSocket close code of a hello naming it


class NotOwner(UnknownSitting):
    """Another node of the cluster sequences this sitting (server/cluster.py)."""

    code = "server.unavailable"
    close = 1013  # try again later


class Claims(Protocol):
    """Who may sequence a sitting: on a cluster, the holder of its lease."""

    async def claim(self, sitting: str) -> bool: ...

    async def release(self, sitting: str) -> None: ...


class Hub:
    def __init__(
        self,
        journal: Journal,
        config: Config,
        metrics: Metrics,
        clock: Callable[[], int] = wall_ms,
        claims: Claims | None = None,
        relay: Relay | None = None,
        shared: SharedPresence | None = None,
    ) -> None:
        self.journal, self.config, self.metrics, self.clock = journal, config, metrics, clock
        self.claims, self.relay = claims, relay
        #: On a cluster: every node's connections per member, so the owner decides "left".
        self.shared = shared
        if shared is not None:
            shared.counts = self.connections
        self.sequencers: dict[str, Sequencer] = {}
        #: Sittings another node sequences and this node serves (server/follower.py).
        self.followers: dict[str, Follower] = {}
        self._consumers: dict[str, asyncio.Task[None]] = {}
        self._unwatched: set[str] = set()  # followed, with no client at the last reap
        self.rooms: dict[str, Room] = {}
        self._timers: dict[str, dict[str, asyncio.TimerHandle]] = {}
        self._presence: dict[tuple[str, MemberId], int] = {}
        self._leaving: dict[tuple[str, MemberId], asyncio.TimerHandle] = {}
        self._lock = asyncio.Lock()
        self._background: set[asyncio.Task[object]] = set()
        self.buckets = Buckets(config.commands_per_s)  # commands per principal
        self.lag = LagMonitor(metrics.loop_lag)
        #: Told every sitting's state after each durable batch (video routing follows it).
        self.listeners: list[Callable[[str, Sitting], None]] = []

    async def start(self) -> None:
        self.lag.start()
        for sitting in await self.journal.sittings():
            try:
                await self.adopt(sitting)
            except NotOwner:
                continue  # another node sequences it

    async def adopt(self, sitting: str) -> Sequencer:
        """Sequence a sitting that has a log: rebuild its state, re-arm its timers (at
        start, or when this node takes it over from one that died). NotOwner if another
        node holds it."""
        seq = await self.sequencer(sitting)
        assert seq.state is not None
        # Remote members were present through connections that died with the last
        # process: each gets the grace period to come back, as after any blip (on a
        # cluster, one still connected through another node stays: the union decides).
        for member, presence in seq.state.attendance.items():
            key = (sitting, member)
            if presence is Presence.REMOTE and key not in self._presence:
                self._grace(key)
        return seq

    async def step_down(self, sitting: str) -> None:
        """Stop sequencing a sitting whose lease this node lost: no timer fires here any
        more; its clients stay, served by a follower (on a cluster with a relay), else
        they are closed so that they reconnect to the owner."""
        for h in self._timers.pop(sitting, {}).values():
            h.cancel()
        for key in [k for k in self._leaving if k[0] == sitting]:
            self._leaving.pop(key).cancel()
        room = self.rooms.get(sitting)
        seq = self.sequencers.get(sitting)
        if self.relay is not None and room is not None and seq is not None and room.conns:
            async with self._lock:
                self._stop_consuming(sitting)
                await self._follow(sitting, room, seq.state, list(seq.recent))
                self.sequencers.pop(sitting, None)
                await seq.stop()
        else:
            if room is not None:
                await room.close_all(1012)
            async with self._lock:
                await self._forget(sitting)
        if self.claims is not None:
            await self.claims.release(sitting)

    async def stop(self) -> None:
        self.lag.stop()
        if self.shared is not None:
            await self.shared.stop()
        for sitting in list(self._consumers):
            self._stop_consuming(sitting)
        for follower in self.followers.values():
            await follower.stop()
        for handles in self._timers.values():
            for h in handles.values():
                h.cancel()
        for h in self._leaving.values():
            h.cancel()
        for room in self.rooms.values():
            await room.stop()
        for seq in self.sequencers.values():
            await seq.stop()
        for task in list(self._background):
            task.cancel()

    async def sequencer(self, sitting: str, create: bool = False) -> Sequencer:
        """The sitting's sequencer; UnknownSitting unless it exists or is being created."""
        seq = self.sequencers.get(sitting)
        if seq is None:
            async with self._lock:
                seq = self.sequencers.get(sitting) or await self._open(sitting, create)
        if seq.state is None and not create:
            raise UnknownSitting(sitting)
        return seq

    async def served(self, sitting: str) -> Sequencer | Follower:
        """What serves the sitting's clients here: its sequencer, or (another node
        sequences it, and this node has a relay) a follower of it."""
        self._unwatched.discard(sitting)  # not reaped under a client that is joining
        follower = self.followers.get(sitting)
        if follower is not None:
            return follower
        try:
            return await self.sequencer(sitting)
        except NotOwner:
            if self.relay is None:
                raise
        async with self._lock:
            follower = self.followers.get(sitting)
            if follower is None:
                if sitting not in await self.journal.sittings():
                    raise UnknownSitting(sitting) from None
                follower = await self._follow(sitting, None, None, [])
        if follower.state is None:
            raise UnknownSitting(sitting)
        return follower

    def serving(self, sitting: str) -> Sequencer | Follower | None:
        """The sitting's sequencer or follower here; None only while a node that lost
        the sitting has not yet started following it."""
        return self.sequencers.get(sitting) or self.followers.get(sitting)

    async def _follow(
        self, sitting: str, room: Room | None, state: Sitting | None, recent: list[Record]
    ) -> Follower:
        assert self.relay is not None
        follower = Follower(sitting, self.relay, lambda records, st: None)
        room = room or Room(sitting, lambda: follower.state, self.config.view_hz)
        room.state = lambda: follower.state

        def on_records(records: list[Record], state: Sitting) -> None:
            room.publish(records, state)
            self._tell(sitting, state)

        follower.on_records = on_records

        async def resubmit(
            command: AnyCommand, actor: MemberId | None, role: Role, key: str
        ) -> Outcome:
            return await self.submit(sitting, command, actor, role, key)

        follower.resubmit = resubmit
        await follower.start(state, recent)
        self.followers[sitting] = follower
        self.rooms[sitting] = room
        return follower

    async def reap(self) -> None:
        """Stop following the sittings that had no client here at the last call and
        still have none (the keeper calls this every period)."""
        for sitting, follower in list(self.followers.items()):
            room = self.rooms.get(sitting)
            if room is not None and room.conns:
                self._unwatched.discard(sitting)
            elif sitting not in self._unwatched:
                self._unwatched.add(sitting)
            else:
                async with self._lock:
                    if self.followers.get(sitting) is follower and not (room and room.conns):
                        self._unwatched.discard(sitting)
                        del self.followers[sitting]
                        self.rooms.pop(sitting, None)
                        await follower.stop()
                        if room is not None:
                            await room.stop()

    def _stop_consuming(self, sitting: str) -> None:
        task = self._consumers.pop(sitting, None)
        if task is not None:
            task.cancel()

    async def _open(self, sitting: str, create: bool) -> Sequencer:
        if self.claims is not None and not await self.claims.claim(sitting):
            raise NotOwner(sitting)
        follower = self.followers.get(sitting)
        if follower is not None:  # taking over a sitting this node followed
            await follower.stop()
        seq = Sequencer(
            sitting,
            self.journal,
            self._committed(sitting),
            self.clock,
            on_stages=self.metrics.batch_stages,
        )
        try:
            await seq.start()
        except Exception:
            if self.claims is not None:
                await self.claims.release(sitting)
            raise
        if seq.state is None and not create:
            await seq.stop()
            if self.claims is not None:
                await self.claims.release(sitting)
            raise UnknownSitting(sitting)
        self.sequencers[sitting] = seq
        self.followers.pop(sitting, None)
        room = self.rooms.get(sitting) if follower is not None else None
        if room is None:
            room = self.rooms[sitting] = Room(sitting, lambda: seq.state, self.config.view_hz)
        room.state = lambda: seq.state
        if follower is not None and seq.state is not None:
            # What was written between the follower's last read and this load: its
            # clients get those seqs once, from here.
            missed = [r for r in seq.recent if r.seq > follower.seq()]
            if missed:
                room.publish(missed, seq.state)
        if seq.state is not None:
            self._arm(sitting, seq.state)
        if self.relay is not None:
            task: asyncio.Task[None] | None = None

            def alive() -> bool:
                return self._consumers.get(sitting) is task

            task = asyncio.create_task(
                self.relay.consume(sitting, self._relayed(sitting), alive),
                name=f"relay:{sitting}",
            )
            self._consumers[sitting] = task
        return seq

    def _relayed(
        self, sitting: str
    ) -> Callable[[AnyCommand, MemberId | None, Role, str | None], Awaitable[Outcome]]:
        async def submit(
            command: AnyCommand, actor: MemberId | None, role: Role, key: str | None
        ) -> Outcome:
            seq = self.sequencers.get(sitting)
            if seq is None:  # no longer the owner: the sender's timeout says unavailable
                return Outcome(UNAVAILABLE)
            return await seq.submit(command, actor, role, key)

        return submit

    async def _forget(self, sitting: str) -> None:
        self._stop_consuming(sitting)
        seq, room = self.sequencers.pop(sitting, None), self.rooms.pop(sitting, None)
        if room is not None:
            await room.stop()
        if seq is not None:
            await seq.stop()

    def state(self, sitting: str) -> Sitting | None:
        seq = self.sequencers.get(sitting) or self.followers.get(sitting)
        return None if seq is None else seq.state

    async def submit(
        self,
        sitting: str,
        command: AnyCommand,
        actor: MemberId | None,
        role: Role,
        key: str | None,
        reply: Callable[[Outcome], None] | None = None,
        guard: Guard | None = None,
    ) -> Outcome:
        started = time.perf_counter()
        try:
            seq = await self.sequencer(sitting, create=isinstance(command, c.ScheduleSitting))
        except NotOwner:
            if self.relay is None or isinstance(command, c.ScheduleSitting):
                raise
            follower = await self.served(sitting)
            return await follower.submit(command, actor, role, key, reply, guard)
        outcome = await seq.submit(command, actor, role, key, reply, guard)
        if seq.state is None and seq.idle():
            await self._forget(sitting)  # a refused sitting.schedule leaves nothing behind
            if self.claims is not None:
                await self.claims.release(sitting)
        self.metrics.latency.observe(time.perf_counter() - started)
        self.metrics.commands.labels(
            type=command.__struct_config__.tag, outcome="ok" if outcome.answer.ok else "refused"
        ).inc()
        return outcome

    def records(self, sitting: str) -> list[Record]:
        seq = self.sequencers.get(sitting) or self.followers.get(sitting)
        return [] if seq is None else list(seq.recent)

    # After every durable batch

    def _committed(self, sitting: str) -> Callable[[list[Record], Sitting, list[Pending]], None]:
        def on_commit(records: list[Record], state: Sitting, batch: list[Pending]) -> None:
            self.metrics.events.inc(len(records))
            self.metrics.batch.observe(len(batch))
            room = self.rooms.get(sitting)
            if room is not None:
                room.publish(records, state)
            self._arm(sitting, state)
            self._tell(sitting, state)
            for r in records:
                if isinstance(r.event, e.VoteClosed | e.VoteCancelled):
                    vote = state.votes.get(r.event.vote)
                    if vote is not None and vote.form is VoteForm.SECRET:
                        self._spawn(self.journal.drop_ballot_box(sitting, vote.id))

        return on_commit

    def _tell(self, sitting: str, state: Sitting) -> None:
        for listener in self.listeners:
            try:
                listener(sitting, state)
            except Exception:  # pragma: no cover - a listener's fault is not the record's
                log.exception("sitting %s: a listener failed", sitting)

    def spawn(self, coro: object) -> None:
        """Run ``coro`` in the background, kept until it ends and cancelled at stop."""
        self._spawn(coro)

    def _spawn(self, coro: object) -> None:
        task = asyncio.ensure_future(coro)  # type: ignore[call-overload]
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # Timers: a deadline in the state becomes an ordinary command when it passes.

    def _arm(self, sitting: str, state: Sitting) -> None:
        wanted: dict[str, tuple[int, AnyCommand]] = {}
        for turn in state.turns.values():
            if turn.status is TurnStatus.SPEAKING and turn.deadline is not None:
                wanted[f"turn:{turn.id}:{turn.deadline}"] = (
                    turn.deadline,
                    c.ExpireTurn(turn=turn.id),
                )
        for vote in state.votes.values():
            if vote.status is VoteStatus.OPEN and vote.deadline is not None:
                wanted[f"vote:{vote.id}:{vote.deadline}"] = (
                    vote.deadline,
                    c.CloseVote(vote=vote.id),
                )
        handles = self._timers.setdefault(sitting, {})
        for key in list(handles):
            if key not in wanted:
                handles.pop(key).cancel()
        loop = asyncio.get_running_loop()
        for key, (deadline, command) in wanted.items():
            if key not in handles:
                delay = max(0.0, (deadline - self.clock()) / 1000)
                handles[key] = loop.call_later(delay, self._fire, sitting, key, command)

    def _fire(self, sitting: str, key: str, command: AnyCommand) -> None:
        self._timers.get(sitting, {}).pop(key, None)
        self._spawn(self._system(sitting, command))

    async def _system(self, sitting: str, command: AnyCommand) -> None:
        try:
            outcome = await self.submit(sitting, command, None, Role.SYSTEM, None)
        except Exception:  # pragma: no cover
            log.exception("sitting %s: a timer's command failed", sitting)
            return
        if outcome.answer.ok and outcome.answer.seq is None:
            # The deadline moved (a clock running early): look again shortly.
            state = self.state(sitting)
            if state is not None:
                asyncio.get_running_loop().call_later(0.05, self._arm, sitting, state)

    # Presence of remote members follows their connections, with a grace period. On a
    # cluster the counts are every node's (server/presence.py) and the owner decides.

    def connections(self, sitting: str) -> dict[MemberId, int]:
        """This node's connections per member of the sitting."""
        return {m: n for (s, m), n in self._presence.items() if s == sitting}

    async def member_connected(self, sitting: str, member: MemberId, remote: bool) -> None:
        key = (sitting, member)
        self._presence[key] = self._presence.get(key, 0) + 1
        if self.shared is not None:
            self.shared.changed(sitting)
        pending = self._leaving.pop(key, None)
        if pending is not None:
            pending.cancel()
        state = self.state(sitting)
        if remote and state is not None and state.attendance.get(member) is not Presence.IN_HALL:
            await self.submit(sitting, c.JoinRemote(member=member), None, Role.SYSTEM, None)

    def member_disconnected(self, sitting: str, member: MemberId) -> None:
        key = (sitting, member)
        left = self._presence.get(key, 1) - 1
        if left > 0:
            self._presence[key] = left
            return
        self._presence.pop(key, None)
        if self.shared is not None:
            self.shared.changed(sitting)
            if sitting not in self.sequencers:
                return  # the owner sees it at its next sweep and decides on every node's
        state = self.state(sitting)
        if state is None or state.attendance.get(member) is not Presence.REMOTE:
            return
        self._grace(key)

    def _grace(self, key: tuple[str, MemberId]) -> None:
        if key not in self._leaving:
            loop = asyncio.get_running_loop()
            self._leaving[key] = loop.call_later(self.config.presence_grace_s, self._left, key)

    def _left(self, key: tuple[str, MemberId]) -> None:
        self._leaving.pop(key, None)
        if key in self._presence:
            return
        if self.shared is not None:
            self._spawn(self._left_everywhere(key))
            return
        sitting, member = key
        state = self.state(sitting)
        if state is not None and state.attendance.get(member) is Presence.REMOTE:
            self._spawn(self.submit(sitting, c.Leave(member=member), None, Role.SYSTEM, None))

    async def _left_everywhere(self, key: tuple[str, MemberId]) -> None:
        """The grace period ended: left only if no node has a connection of the member
        now (and this node still sequences the sitting)."""
        assert self.shared is not None
        sitting, member = key
        try:
            elsewhere = await self.shared.elsewhere(sitting)
        except (RedisError, OSError, JournalError) as err:  # the next sweep looks again
            log.warning("sitting %s: presence unread: %r", sitting, err)
            return
        state = self.state(sitting)
        if (
            key not in self._presence
            and not elsewhere.get(member)
            and sitting in self.sequencers
            and state is not None
            and state.attendance.get(member) is Presence.REMOTE
        ):
            await self.submit(sitting, c.Leave(member=member), None, Role.SYSTEM, None)

    async def sweep(self) -> None:
        """On a cluster, at every keeper tick: renew this node's counts in Redis; for
        each sitting it sequences, give the grace period to each remote member with no
        connection on any node, and take it back from those connected somewhere."""
        if self.shared is None:
            return
        await self.shared.refresh({s for s, _m in self._presence})
        for sitting, seq in list(self.sequencers.items()):
            if seq.state is None:
                continue
            elsewhere = await self.shared.elsewhere(sitting)
            for member, presence in seq.state.attendance.items():
                key = (sitting, member)
                if presence is not Presence.REMOTE:
                    continue
                if key in self._presence or elsewhere.get(member):
                    pending = self._leaving.pop(key, None)
                    if pending is not None:
                        pending.cancel()
                else:
                    self._grace(key)

    def queue_depths(self) -> tuple[int, int]:
        depths = [len(conn.frames) for room in self.rooms.values() for conn in room.conns]
        return (max(depths, default=0), sum(depths))
