"""Connections per remote member, shared by the nodes of a cluster through Redis.

Each node counts the connections of each member per sitting (Hub._presence); on a
cluster it also writes them to Redis, so that the sitting's owner decides "left" on the
union of every node's connections, not on its own:

    nt:{S}:here:<node>  a hash: member → this node's connections (expires: ``ttl_ms``)
    nt:{S}:here         a set of the nodes that wrote such a hash

A node rewrites its hashes when a count changes and at every keeper tick, which also
renews their TTL; a node that dies stops renewing, and its connections stop counting
``ttl_ms`` later (its members then get the grace period from the owner, as after any
blip). A reader drops from the set the nodes whose hash has expired.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable

from redis.exceptions import RedisError

from chamber.ids import MemberId
from server.journal.base import JournalError
from server.journal.redis import RedisJournal

log = logging.getLogger("nghitruong.presence")


_ELSEWHERE = """
local out = {}
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if node ~= ARGV[1] then
    local counts = redis.call('HGETALL', ARGV[2] .. node)
    if #counts == 0 then
      redis.call('SREM', KEYS[1], node)
    end
    for i = 1, #counts, 2 do
      out[#out + 1] = counts[i]
      out[#out + 1] = counts[i + 1]
    end
  end
end
return out
"""

Counts = Callable[[str], dict[MemberId, int]]


class SharedPresence:
    def __init__(self, journal: RedisJournal, node: str, ttl_ms: int) -> None:
        self.journal, self.node, self.ttl_ms = journal, node, ttl_ms
        #: This node's connections per member of a sitting (the hub's own counts).
        self.counts: Counts = lambda sitting: {}
        self._dirty: set[str] = set()
        self._writer: asyncio.Task[None] | None = None

    async def write(self, sitting: str) -> None:
        """This node's connections to the sitting's members, as they are now."""
        counts = self.counts(sitting)
        mine = self.journal.key(sitting, f"here:{self.node}")
        assert self.journal.client is not None
        pipe = self.journal.client.pipeline(transaction=True)
        pipe.delete(mine)
        if counts:
            pipe.hset(mine, mapping={str(m): n for m, n in counts.items()})
            pipe.pexpire(mine, self.ttl_ms)
            pipe.sadd(self.journal.key(sitting, "here"), self.node)
        await pipe.execute()

    def changed(self, sitting: str) -> None:
        """Write the sitting's counts soon, one write at a time (each the latest)."""
        self._dirty.add(sitting)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._flush(), name="presence-writer")

    async def _flush(self) -> None:
        while self._dirty:
            sitting = self._dirty.pop()
            try:
                await self.write(sitting)
            except (RedisError, OSError, JournalError) as err:  # the next tick writes it
                log.warning("sitting %s: presence not shared: %r", sitting, err)

    async def refresh(self, sittings: Iterable[str]) -> None:
        """Rewrite (and so renew) this node's counts: at every keeper tick."""
        for sitting in sittings:
            await self.write(sitting)

    async def stop(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._writer

    async def elsewhere(self, sitting: str) -> dict[MemberId, int]:
        """The members' connections on the other live nodes (one script: a node whose
        hash expired is dropped from the set in the same step)."""
        found = await self.journal.do(
            "EVAL", _ELSEWHERE, 1, self.journal.key(sitting, "here"), self.node,
            self.journal.key(sitting, "here:"),
        )  # fmt: skip
        counts: dict[MemberId, int] = {}
        for i in range(0, len(found), 2):
            raw = found[i]
            member = MemberId(raw.decode() if isinstance(raw, bytes) else str(raw))
            counts[member] = counts.get(member, 0) + int(found[i + 1])
        return {m: n for m, n in counts.items() if n > 0}
