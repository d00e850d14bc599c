"""Two real hub processes on one `redis-server` (and one data folder, for the registry):
the owner is paused with SIGSTOP past its lease; the other node takes the sitting over;
the paused node, resumed, steps down (its renewal or its append, whichever comes first,
is refused: the in-process fencing test in test_redis_failover.py pins the append), its
command is answered `server.unavailable` (its append was refused) or decided by the new
owner (it already stepped down and forwarded it), and the record in Redis has one
branch: exactly the additions that were answered 200."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import time

import httpx
import pytest

from chamber.log import load, verify
from server.journal.redis import RedisJournal
from tests.load.failover_storm import Node
from tests.redis_process import RedisProcess
from tests.server.conftest import SCALE, SITTING, HubProcess, operator_token

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def add_item(node: HubProcess, token: str) -> tuple[int, dict[str, object]]:
    r = httpx.post(
        f"{node.url}/api/sittings/{SITTING}/commands",
        json={"id": secrets.token_hex(8), "cmd": {"type": "agenda.add", "title": "Mục thêm"}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10 * SCALE,
    )
    return r.status_code, dict(r.json())


def log_of(redis: RedisProcess) -> list[str]:
    """The sitting's record in Redis, verified (gap-free, hash-chained): its event types."""

    async def read() -> list[str]:
        journal = RedisJournal(redis.url)
        await journal.open()
        records = [load(s.payload, s.hash) for s in await journal.read(SITTING)]
        await journal.close()
        assert verify(records).ok
        return [r.event.__struct_config__.tag for r in records]  # type: ignore[misc]

    return asyncio.run(read())


def test_a_paused_owner_is_taken_over_and_steps_down_when_resumed(
    two_nodes: tuple[RedisProcess, Node, Node], capsys: pytest.CaptureFixture[str]
) -> None:
    redis, a, b = two_nodes
    token = operator_token(a)
    assert add_item(a, token)[0] == 200
    assert add_item(b, token)[0] == 200  # B does not sequence the sitting: A decides it
    added = 2
    assert a.proc is not None
    os.kill(a.proc.pid, signal.SIGSTOP)
    paused = time.monotonic()
    while (answer := add_item(b, token))[0] != 200:  # forwarded to A, unanswered: 409
        assert answer[1]["code"] == "server.unavailable", answer
        assert time.monotonic() - paused < 15 * SCALE
        time.sleep(0.05)
    added += 1
    took = time.monotonic() - paused
    with capsys.disabled():
        print(f"\nB sequences the sitting {took * 1000:.0f} ms after A was paused")
    os.kill(a.proc.pid, signal.SIGCONT)
    status, body = add_item(a, token)  # A's append is fenced, or A forwards it to B
    assert status == 200 or body["code"] == "server.unavailable", body
    added += status == 200
    deadline = time.monotonic() + 10 * SCALE
    while "stepping down" not in a.output():
        assert time.monotonic() < deadline, a.output()[-2000:]
        time.sleep(0.05)
    assert add_item(b, token)[0] == 200
    assert add_item(a, token)[0] == 200  # A, a follower now, forwards to B
    events = log_of(redis)
    assert events.count("agenda.added") == added + 2  # nothing A decided after the pause
