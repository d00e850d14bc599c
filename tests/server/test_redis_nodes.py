"""Two real hub processes on one `redis-server` (and one data folder, for the registry):
the owner is paused with SIGSTOP past its lease; the other node takes the sitting over;
the paused node, resumed, steps down (its renewal or its append, whichever comes first,
is refused: the in-process fencing test in test_redis_failover.py pins the append), its
command is answered `server.unavailable`, and the record in Redis has one branch."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chamber.log import load, verify
from server.journal.redis import RedisJournal
from tests.load.failover_storm import Node
from tests.redis_process import RedisProcess
from tests.server.conftest import SCALE, SITTING, HubProcess, operator_token

pytestmark = [pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[RedisProcess, Node, Node]]:
    redis = RedisProcess(tmp_path / "redis")
    redis.start()
    env = {"NGHITRUONG_JOURNAL": redis.url}
    a, b = Node(tmp_path / "data", env), Node(tmp_path / "data", env)
    try:
        a.start(demo=True)
        b.start()
        yield redis, a, b
    finally:
        for node in (a, b):
            if node.proc is not None:
                os.kill(node.proc.pid, signal.SIGCONT)
            node.stop()
        redis.stop()


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
    cluster: tuple[RedisProcess, Node, Node], capsys: pytest.CaptureFixture[str]
) -> None:
    redis, a, b = cluster
    token = operator_token(a)
    assert add_item(a, token)[0] == 200
    status, body = add_item(b, token)  # B does not sequence the sitting
    assert status == 503 and body["code"] == "server.unavailable"
    assert a.proc is not None
    os.kill(a.proc.pid, signal.SIGSTOP)
    paused = time.monotonic()
    while (status := add_item(b, token)[0]) != 200:
        assert time.monotonic() - paused < 15 * SCALE, status
        time.sleep(0.05)
    took = time.monotonic() - paused
    with capsys.disabled():
        print(f"\nB sequences the sitting {took * 1000:.0f} ms after A was paused")
    os.kill(a.proc.pid, signal.SIGCONT)
    status, body = add_item(a, token)  # A still believes it owns it, or just learnt it does not
    assert status == 503 and body["code"] == "server.unavailable"
    deadline = time.monotonic() + 10 * SCALE
    while "stepping down" not in a.output():
        assert time.monotonic() < deadline, a.output()[-2000:]
        time.sleep(0.05)
    assert add_item(b, token)[0] == 200
    events = log_of(redis)
    assert events.count("agenda.added") == 3  # A's one, B's two: nothing of A's after the pause
