"""A hub node among others on one Redis: it sequences the sittings whose leases it holds,
keeps those leases alive, steps down from a sitting whose lease it lost, and takes over
the sittings of a node that died (its leases expire): it replays their logs and re-arms
their timers.

Every ``lease_ms / 4`` the keeper renews this node's leases and looks for sittings with a
free lease. An owner that dies stops renewing; its leases expire after at most
``lease_ms``, and another node's keeper takes them within one more period: with the
default 2 s lease, a sitting is sequenced again about 2.5 s after its owner's death.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis.exceptions import RedisError

from server.hub import Hub, NotOwner, UnknownSitting
from server.journal.base import JournalError
from server.journal.lease import Leases
from server.journal.redis import RedisJournal
from server.tasks import stop_task

log = logging.getLogger("nghitruong.cluster")


class Keeper:
    def __init__(self, hub: Hub, journal: RedisJournal, leases: Leases) -> None:
        self.hub, self.journal, self.leases = hub, journal, leases
        self.period_s = leases.ttl_ms / 4000
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        journal.on_fenced.append(self._fenced)

    async def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="cluster-keeper")

    async def stop(self) -> None:
        """Stop renewing and hand the leases back, so another node takes over at once."""
        if self._task is not None:
            # Also a flag: a cancel landing inside a redis-py command was seen swallowed
            # (tests/server/test_redis_presence.py hung on such a loop); the loop ends at
            # its next period either way.
            self._stopping = True
            await stop_task(self._task)
            self._task = None

    async def release_all(self) -> None:
        for sitting in self.leases.owned():
            with contextlib.suppress(RedisError, OSError):  # else they expire on their own
                await self.leases.release(sitting)

    def _fenced(self, sitting: str) -> None:
        log.warning("sitting %s: the lease was lost, stepping down", sitting)
        self.hub.spawn(self.hub.step_down(sitting))

    async def _run(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.period_s)
            try:
                await self.tick()
            except (RedisError, OSError, JournalError) as err:
                log.warning("keeper: Redis is not answering: %r", err)

    async def tick(self) -> None:
        """Renew what is ours, step down from what is not, take what is free, stop
        following what no client here watches any more."""
        await self.hub.reap()
        for sitting in list(self.hub.sequencers):
            if not await self.leases.renew(sitting):
                log.warning("sitting %s: the lease expired, stepping down", sitting)
                await self.hub.step_down(sitting)
        for sitting in await self.journal.sittings():
            if sitting in self.hub.sequencers:
                continue
            try:
                await self.hub.adopt(sitting)
            except NotOwner:
                continue
            except UnknownSitting:  # pragma: no cover - listed, so it has a log
                continue
            log.info("sitting %s: taken over by %s", sitting, self.leases.node)
        await self.hub.sweep()  # presence: every node's connections, the owner decides
