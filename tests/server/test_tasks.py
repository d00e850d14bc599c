"""stop_task (server/tasks.py): a task that ends on its cancel is awaited; one that
swallows its cancel is reported and left after the grace, never awaited for ever."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from server.tasks import stop_task


def test_a_task_that_ends_on_cancel_is_stopped() -> None:
    async def run() -> bool:
        task = asyncio.create_task(asyncio.sleep(60))
        await asyncio.sleep(0)
        return await stop_task(task)

    assert asyncio.run(run()) is True


def test_a_task_that_swallows_its_cancel_is_left_after_the_grace(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stop = asyncio.Event()

    async def stubborn() -> None:
        while not stop.is_set():  # swallows every cancel, ends only by its flag
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0.01)

    async def run() -> tuple[bool, bool]:
        task = asyncio.create_task(stubborn())
        await asyncio.sleep(0)
        ended = await stop_task(task, grace_s=0.1)
        stop.set()
        await task
        return ended, task.done()

    with caplog.at_level(logging.WARNING, logger="server.tasks"):
        assert asyncio.run(run()) == (False, True)
    assert "did not stop" in caplog.text


def test_a_task_that_failed_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    async def broken() -> None:
        raise RuntimeError("boom")

    async def run() -> bool:
        task = asyncio.create_task(broken())
        await asyncio.sleep(0)
        return await stop_task(task)

    with caplog.at_level(logging.WARNING, logger="server.tasks"):
        assert asyncio.run(run()) is True
    assert "boom" in caplog.text
