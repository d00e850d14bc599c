"""A sitting's sequencer lease on Redis, with a fencing token.

Claiming a free lease increments the sitting's fence counter and sets the lease key to
``node:token`` with a TTL (SET NX PX in one Lua script). The node keeps the value in
``RedisJournal.leases``; every append carries it and the append script refuses it unless
the lease key still holds exactly that value. A node that was paused or cut off past its
lease therefore cannot append, even before it knows it lost the lease: its append fails
(Fenced) and it steps down. Renewal extends the TTL only while the value is still ours.
"""

from __future__ import annotations

import os
import secrets
import socket

from server.journal import redis_lua
from server.journal.redis import RedisJournal


def node_id() -> str:
    """This process, recognisable in Redis (host, pid) and unique (a random suffix)."""
    return f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(3)}"


class Leases:
    def __init__(self, journal: RedisJournal, ttl_ms: int, node: str | None = None) -> None:
        self.journal, self.ttl_ms = journal, ttl_ms
        self.node = node or node_id()
        journal.fencing = True

    def owned(self) -> list[str]:
        return list(self.journal.leases)

    async def claim(self, sitting: str) -> bool:
        """Take the sitting's lease if it is free (or already ours)."""
        held = self.journal.leases.get(sitting)
        if held is not None:
            return await self.renew(sitting)
        value = await self.journal.do(
            "EVAL",
            redis_lua.CLAIM,
            2,
            self.journal.key(sitting, "lease"),
            self.journal.key(sitting, "fence"),
            self.node,
            self.ttl_ms,
        )
        value = value.decode() if isinstance(value, bytes) else str(value)
        if value.rpartition(":")[0] != self.node:
            return False
        self.journal.leases[sitting] = value
        return True

    async def renew(self, sitting: str) -> bool:
        """Extend the lease; False (and forgotten) if it is no longer ours."""
        value = self.journal.leases.get(sitting)
        if value is None:
            return False
        kept = await self.journal.do(
            "EVAL", redis_lua.RENEW, 1, self.journal.key(sitting, "lease"), value, self.ttl_ms
        )
        if not kept:
            self.journal.leases.pop(sitting, None)
        return bool(kept)

    async def release(self, sitting: str) -> None:
        value = self.journal.leases.pop(sitting, None)
        if value is not None:
            await self.journal.do(
                "EVAL", redis_lua.RELEASE, 1, self.journal.key(sitting, "lease"), value
            )

    async def holder(self, sitting: str) -> str | None:
        """The lease's value as Redis holds it now (node:token), or None if free."""
        value = await self.journal.do("GET", self.journal.key(sitting, "lease"))
        return None if value is None else value.decode()
