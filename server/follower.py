"""A sitting this node serves but does not sequence (another node holds its lease).

The follower rebuilds the state as a replay does (the log, then the ballot box of open
secret votes) and then follows the log Stream from its last seq, applying each record
with the core's ``apply`` and publishing it through its Room exactly as the owner does
after a durable batch: the node's clients see every seq once, in order. Commands go to
the owner (server/relay.py) with their key, actor and role; the answer comes back to the
sender's reply as if this node had decided it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from redis.exceptions import RedisError

from chamber import AnyCommand, Record, Sitting, replay
from chamber.events import BallotCast
from chamber.ids import MemberId, Role
from chamber.log import BallotBox, apply, counted, load
from server.journal.base import JournalError
from server.journal.redis import RedisJournal
from server.relay import BLOCK_MS, Relay
from server.sequencer import Answer, Guard, Outcome, Pending, resolve
from server.tasks import stop_task

log = logging.getLogger("nghitruong.follower")

#: Told the records applied and the state after them (the Room publishes them).
OnRecords = Callable[[list[Record], Sitting], None]
Resubmit = Callable[[AnyCommand, MemberId | None, Role, str], Awaitable[Outcome]]


class Follower:
    def __init__(
        self, sitting: str, relay: Relay, on_records: OnRecords, keep_recent: int = 10_000
    ) -> None:
        self.sitting, self.relay, self.on_records = sitting, relay, on_records
        self.journal: RedisJournal = relay.journal
        self.state: Sitting | None = None
        self.recent: deque[Record] = deque(maxlen=keep_recent)
        self._task: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self.stopped = False
        #: Decides a command on this node after it took the sitting over (the hub's submit).
        self.resubmit: Resubmit | None = None

    async def start(self, state: Sitting | None = None, recent: list[Record] | None = None) -> None:
        """Load the sitting (or go on from a state this node had), then follow it."""
        if state is None:
            stored = await self.journal.read(self.sitting)
            records = [load(s.payload, s.hash) for s in stored]
            self.state = replay(records, await self.journal.ballot_box(self.sitting))
            self.recent.extend(records)
        else:
            self.state = state
            self.recent.extend(recent or [])
        self._task = asyncio.create_task(self._follow(), name=f"follow:{self.sitting}")

    def seq(self) -> int:
        return self.state.seq if self.state is not None else 0

    async def stop(self) -> None:
        """Stop following; commands still forwarded go on to their answer or timeout,
        or (those with a key) are decided again through ``resubmit``."""
        self.stopped = True
        if self._task is not None:
            await stop_task(self._task)
            self._task = None

    async def _follow(self) -> None:
        while not self.stopped:  # as well as the cancel, which redis-py may swallow
            at = self.state.seq if self.state is not None else 0
            try:
                stored = await self.relay.follow(self.sitting, at)
            except (RedisError, OSError, JournalError) as err:
                log.warning("sitting %s: the log cannot be followed: %r", self.sitting, err)
                await asyncio.sleep(BLOCK_MS / 1000)
                continue
            records = [load(s.payload, s.hash) for s in stored]
            box = None
            if any(isinstance(r.event, BallotCast) and r.event.answers is None for r in records):
                try:  # a secret ballot's choice is in the ballot box, not in the record
                    box = await self.journal.ballot_box(self.sitting)
                except (RedisError, OSError, JournalError) as err:
                    log.warning("sitting %s: the ballot box is unread: %r", self.sitting, err)
            self.take(records, box)

    def take(self, records: list[Record], box: BallotBox | None = None) -> None:
        """Apply the records that follow the state (any already applied are skipped); an
        open secret vote's counts are the box's, read just after the records (they may
        run a ballot or two ahead of the voters applied: never behind once caught up)."""
        at = self.state.seq if self.state is not None else 0
        fresh = [r for r in records if r.seq > at]
        if not fresh:
            return
        state = self.state
        for r in fresh:
            state = apply(state, r)
        if state is not None and box:
            state = counted(state, box)
        self.state = state
        self.recent.extend(fresh)
        if state is not None:
            self.on_records(fresh, state)

    def submit(
        self,
        command: AnyCommand,
        actor: MemberId | None,
        role: Role,
        key: str | None,
        reply: Callable[[Outcome], None] | None = None,
        guard: Guard | None = None,
    ) -> asyncio.Future[Outcome]:
        """Forward the command to the owner; ``reply`` and the future get its answer."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        pending = Pending(command, actor, role, key, future, reply, guard)

        async def run() -> None:
            ended = guard() if guard is not None else None
            if ended is not None:
                resolve(pending, Outcome(Answer(ok=False, code=ended)))
                return
            abandon = (lambda: self.stopped) if key is not None else (lambda: False)
            outcome = await self.relay.forward(self.sitting, command, actor, role, key, abandon)
            if outcome is None:  # taken over here: the key answers it once, whoever decides
                assert self.resubmit is not None and key is not None
                outcome = await self.resubmit(command, actor, role, key)
            resolve(pending, outcome)

        task = asyncio.create_task(run())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return future
