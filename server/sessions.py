"""Open connections follow their session: revoked or expired, they end.

A socket resolves its token once, at hello; what it may do afterwards depends on the
session staying live. The watch keeps every open connection under its token's hash and
asks the session store which of them have ended:

- at once, in the caller's thread, whenever this process revokes a session (logout, a
  password reset); the revoking call returns only after every connection of that
  session on this node is marked ended, so no command on it is accepted afterwards;
- every `interval_s` (half a second by default), for what other processes did to the
  shared store (another hub node, the command line) and for sessions that expired.

An ended connection is told why (`auth.revoked` or `auth.expired`) and closed with 4401.
With several hub nodes (a Redis journal) each node's registry replica calls `check_now`
as soon as it applies another node's op that may end sessions (server/registry_redis.py);
the periodic check remains for expiries.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

from server.registry import Registry

log = logging.getLogger("nghitruong.sessions")

#: Called with "revoked" or "expired", from any thread, exactly once.
Ending = Callable[[str], None]


class SessionWatch:
    def __init__(
        self, registry: Registry, clock: Callable[[], int], interval_s: float = 0.5
    ) -> None:
        self.registry, self.clock, self.interval_s = registry, clock, interval_s
        self._open: dict[str, set[Ending]] = {}
        self._lock = threading.Lock()
        self._task: asyncio.Task[None] | None = None

    def watch(self, token_hash: str, end: Ending) -> Callable[[], None]:
        """Follow a connection of this session; returns the call that stops following it."""
        with self._lock:
            self._open.setdefault(token_hash, set()).add(end)

        def unwatch() -> None:
            with self._lock:
                ends = self._open.get(token_hash)
                if ends is not None:
                    ends.discard(end)
                    if not ends:
                        del self._open[token_hash]

        return unwatch

    def check_now(self) -> int:
        """Ask the store about every watched session; end the connections of those that
        ended. Safe from any thread; returns how many connections were ended."""
        with self._lock:
            hashes = list(self._open)
        if not hashes:
            return 0
        ended = self.registry.session_states(hashes, self.clock())
        count = 0
        for token_hash, reason in ended.items():
            with self._lock:
                ends = self._open.pop(token_hash, set())
            for end in ends:
                count += 1
                try:
                    end(reason)
                except Exception:  # pragma: no cover - a bug in one must not spare the rest
                    log.exception("ending a connection failed")
        return count

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="sessions")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await asyncio.to_thread(self.check_now)
            except Exception:  # pragma: no cover - the store failed: try again next time
                log.exception("checking sessions failed")
