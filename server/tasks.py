"""Stopping a background task without hanging on it.

A loop around redis-py's blocking reads was seen to outlive its cancel (CI hung in the
registry's stop for 300 s): each such loop also checks a flag of its own, and whoever stops
it waits a bounded time, so a task that does not end is reported and left, never awaited
for ever."""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)

#: Long enough for a loop blocked in a read of at most 0.5 s to notice its flag.
GRACE_S = 2.0


async def stop_task(task: asyncio.Task[None], grace_s: float = GRACE_S) -> bool:
    """Cancel ``task`` and wait for it at most ``grace_s``; True if it ended."""
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=grace_s)
    if not done:
        log.warning("task %s did not stop within %.1f s: left to end by itself", task, grace_s)
        return False
    if not task.cancelled() and task.exception() is not None:
        log.warning("task %s ended with %r", task, task.exception())
    return True
