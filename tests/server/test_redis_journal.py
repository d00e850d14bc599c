"""The Redis journal beyond the shared contract: its address, the durability check at
start, and a `redis-server` killed with SIGKILL during appends and started again from its
AOF. Each test runs a `redis-server` of its own on a free loopback port."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from redis.exceptions import RedisError

from server.config import Config
from server.journal import Commit, Stored
from server.journal.preflight import preflight
from server.journal.redis import RedisJournal, Unsafe
from server.journal.redis_url import BadJournalUrl, parse
from tests.redis_process import RedisProcess

pytestmark = pytest.mark.redis


def rec(seq: int) -> Stored:
    return Stored(seq=seq, hash=f"h{seq}", payload=f'{{"seq":{seq}}}'.encode())


@pytest.mark.parametrize(
    ("url", "hosts", "db", "service", "replicas"),
    [
        ("redis://127.0.0.1:6400/2", (("127.0.0.1", 6400),), 2, None, 0),
        ("redis://:pw@h/0?replicas=1&wait_ms=50", (("h", 6379),), 0, None, 1),
        ("redis+sentinel://a:1,b:2/main/3", (("a", 1), ("b", 2)), 3, "main", 0),
        ("redis+sentinel://[::1]/main", (("::1", 26379),), 0, "main", 0),
    ],
)
def test_urls_name_hosts_db_service_and_replicas(
    url: str, hosts: tuple[tuple[str, int], ...], db: int, service: str | None, replicas: int
) -> None:
    target = parse(url)
    assert (target.hosts, target.db, target.service, target.replicas) == (
        hosts,
        db,
        service,
        replicas,
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://h:1/0",
        "redis://h:port/0",
        "redis://h:1/zero",
        "redis://a:1,b:2/0",
        "redis://h:1/0/1",
        "redis://h:1/0?replica=1",
        "redis://h:1/0?replicas=-1",
        "redis+sentinel://h:1",
    ],
)
def test_a_bad_url_is_refused(url: str) -> None:
    with pytest.raises(BadJournalUrl):
        parse(url)
    problem = preflight(Config(journal=url)) or ""
    assert url in problem and "redis+sentinel://" in problem


def test_a_redis_that_could_lose_acknowledged_records_is_refused(tmp_path: Path) -> None:
    server = RedisProcess(tmp_path, fsync="everysec")
    server.start()
    try:
        problem = preflight(Config(journal=server.url))
        assert problem is not None and "appendfsync" in problem and "everysec" in problem
        with pytest.raises(Unsafe):
            asyncio.run(RedisJournal(server.url).open())
        assert preflight(Config(journal=server.url, unsafe_dev=True)) is None
    finally:
        server.stop()


def test_a_redis_without_aof_is_refused_and_a_missing_one_named(tmp_path: Path) -> None:
    server = RedisProcess(tmp_path, appendonly="no")
    server.start()
    try:
        problem = preflight(Config(journal=server.url))
        assert problem is not None and "appendonly" in problem
    finally:
        server.stop()
    problem = preflight(Config(journal=server.url))  # nobody listens there any more
    assert problem is not None and f"127.0.0.1:{server.port}" in problem


async def test_a_killed_redis_loses_nothing_acknowledged_and_fails_fast_meanwhile(
    tmp_path: Path,
) -> None:
    server = RedisProcess(tmp_path)
    server.start()
    journal = RedisJournal(server.url)
    await journal.open()
    try:
        await kill_during_appends(server, journal)
    finally:
        await journal.close()
        server.stop()


async def kill_during_appends(server: RedisProcess, journal: RedisJournal) -> None:
    acked: dict[str, list[int]] = {s: [] for s in ("a", "b", "c")}
    failed_after: list[float] = []

    async def writer(sitting: str) -> None:
        """Appends until an append fails (they all do once Redis is killed)."""
        seq = 1
        while True:
            started = time.monotonic()
            try:
                await journal.append(
                    sitting, [Commit(records=[rec(seq)], answers=[(f"k{seq}", b"a")])]
                )
            except (RedisError, OSError):
                failed_after.append(time.monotonic() - started)
                return
            acked[sitting].append(seq)
            seq += 1

    writers = [asyncio.create_task(writer(s)) for s in acked]
    await asyncio.sleep(0.3)
    server.kill()
    await asyncio.wait_for(asyncio.gather(*writers), 5)
    assert len(failed_after) == 3 and max(failed_after) < 1.5  # an error, not a hang
    started = time.monotonic()
    with pytest.raises((RedisError, OSError)):
        await journal.append("a", [Commit(records=[rec(10_000)])])
    assert time.monotonic() - started < 1.5
    server.start()  # from its AOF
    for sitting, seqs in acked.items():
        assert seqs, "the writers wrote before the kill"
        stored = [r.seq for r in await journal.read(sitting)]
        assert stored[: len(seqs)] == seqs  # every acknowledged record, in order
        assert stored == list(range(1, len(stored) + 1))  # at most one unacknowledged more
        assert len(stored) - len(seqs) <= 1
        assert await journal.answer(sitting, f"k{seqs[-1]}") == b"a"
    # The journal works again without being reopened (its script is loaded again).
    last = await journal.last_seq("a")
    await journal.append("a", [Commit(records=[rec(last + 1)])])
    assert await journal.last_seq("a") == last + 1
