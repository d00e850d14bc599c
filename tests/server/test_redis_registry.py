"""The registry replicated through Redis (server/registry_redis.py): replicas on one real
`redis-server` agree op by op; a conflicting write is won by exactly one; a refused op
changes nothing; a snapshot and a trim let a fresh replica start from the snapshot."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from server.journal.redis_url import parse
from server.member_rules import ImportRow, Invalid
from server.registry import (
    Conflict,
    CouncilRow,
    LoginRow,
    MemberRow,
    NotFound,
    Registry,
    SessionRow,
    Unavailable,
)
from server.registry_redis import DocumentBlobs, ReplicatedRegistry
from tests.redis_process import RedisProcess
from tests.server.conftest import SCALE

pytestmark = pytest.mark.redis


def content(reg: Registry) -> list[str]:
    """Every row of every table, in order: what two replicas must agree on."""
    return list(reg._db.iterdump())


@pytest.fixture
def replicas(redis_server: RedisProcess) -> Iterator[list[ReplicatedRegistry]]:
    made: list[ReplicatedRegistry] = []
    for _ in range(2):
        reg = ReplicatedRegistry(parse(redis_server.url))
        reg.open()
        made.append(reg)
    yield made
    for reg in made:
        reg.close()


def catch_up(reg: ReplicatedRegistry) -> None:
    with reg._apply_lock:
        reg._catch_up()


def test_a_write_on_one_replica_is_read_on_the_other(replicas: list[ReplicatedRegistry]) -> None:
    a, b = replicas
    a.add_council(CouncilRow("phuong-1", "Phường Một", 30))
    b.add_member(MemberRow("m-1", "phuong-1", "Nguyễn Văn An", "1"))  # B catches up first
    catch_up(a)
    assert a.member("m-1").name == "Nguyễn Văn An"
    assert content(a) == content(b)


def test_conflicting_writes_one_wins_and_replicas_converge(
    replicas: list[ReplicatedRegistry],
) -> None:
    a, b = replicas
    a.add_council(CouncilRow("phuong-1", "Phường Một", 30))
    a.add_member(MemberRow("m-a", "phuong-1", "Trần Thị Bình"))
    a.add_member(MemberRow("m-b", "phuong-1", "Lê Văn Cường"))
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def claim(reg: Registry, subject: str) -> None:
        start.wait()
        for i in range(20):  # the same 20 usernames from both: each is won once
            try:
                reg.set_login(LoginRow(f"user{i}", "h", "member", subject + str(i), "phuong-1"))
                outcomes.append(subject)
            except Conflict:
                outcomes.append("conflict")

    threads = [threading.Thread(target=claim, args=(r, s)) for r, s in ((a, "x"), (b, "y"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("conflict") == 20
    catch_up(a)
    catch_up(b)
    assert a.applied == b.applied
    assert content(a) == content(b)
    winners = [a.login(f"user{i}") for i in range(20)]
    assert all(w is not None for w in winners)


def test_a_refused_op_changes_nothing_anywhere(replicas: list[ReplicatedRegistry]) -> None:
    a, b = replicas
    a.add_council(CouncilRow("phuong-1", "Phường Một", 2))
    a.add_member(MemberRow("m-1", "phuong-1", "Phạm Thị Dung", "1"))
    before = content(a)
    with pytest.raises(Invalid):  # seat 1 is taken: the rule runs on the replica
        b.add_member(MemberRow("m-2", "phuong-1", "Hoàng Văn Em", "1"))
    with pytest.raises(NotFound):
        b.add_member(MemberRow("m-3", "khong-co", "Vũ Thị Giang"))
    rows = [ImportRow(2, "Đỗ Văn Hải", "2", ("delegate",)), ImportRow(3, "Ngô Thị Lan", "3", ())]
    check = b.import_members("phuong-1", rows, True)  # over the 2 seats: all or nothing
    assert not check.ok and check.added == []
    catch_up(a)
    assert content(a) == content(b) == before
    assert a.applied == b.applied == 5


def test_revocation_on_one_replica_reaches_the_others_watch(
    replicas: list[ReplicatedRegistry],
) -> None:
    a, b = replicas
    row = SessionRow("t" * 64, "db01", "member", "m-1", None, 0, 10**13, False)
    a.add_session(row)
    seen: list[float] = []
    b.on_revoke.append(lambda: seen.append(time.monotonic()))

    async def run() -> float:
        await b.start()  # follows the Stream (XREAD BLOCK)
        try:
            await asyncio.to_thread(a.revoke_session, row.token_hash)
            sent = time.monotonic()
            for _ in range(500):
                if seen:
                    return seen[0] - sent
                await asyncio.sleep(0.01)
            raise AssertionError("the revocation never reached B")
        finally:
            await b.stop()

    took = asyncio.run(run())
    print(f"\nrevocation applied on the other replica after {took * 1000:.1f} ms")
    session = b.session(row.token_hash)
    assert session is not None and session.revoked


def test_snapshot_and_trim_then_a_fresh_replica_converges(
    redis_server: RedisProcess, replicas: list[ReplicatedRegistry]
) -> None:
    a, b = replicas
    a.add_council(CouncilRow("phuong-1", "Phường Một", 500))
    for i in range(300):
        (a if i % 2 else b).add_member(MemberRow(f"m-{i}", "phuong-1", f"Đại biểu {i}", str(i)))
    catch_up(a)
    at = a.snapshot()
    assert at == 301
    stream = redis_server.url
    with redis.Redis(port=redis_server.port) as r:
        first = r.xrange(a.stream, count=1)[0][0]
    assert first == f"{at + 1 - 200}-0".encode()  # trimmed: the ops before are gone
    b.add_member(MemberRow("m-late", "phuong-1", "Bùi Thị Hoa", "late"))
    c = ReplicatedRegistry(parse(stream))
    try:
        c.open()
        assert c.ops_applied == 1  # the snapshot, then the one op after it
        catch_up(b)
        assert content(c) == content(b)
    finally:
        c.close()


def test_a_replica_far_behind_reloads_the_snapshot(
    redis_server: RedisProcess, replicas: list[ReplicatedRegistry]
) -> None:
    a, b = replicas
    a.add_council(CouncilRow("phuong-1", "Phường Một", 1000))
    for i in range(400):
        a.add_member(MemberRow(f"m-{i}", "phuong-1", f"Đại biểu {i}"))
    a.snapshot()  # B, at op 0, is behind the trimmed Stream
    b.add_member(MemberRow("m-b", "phuong-1", "Lý Văn Khoa"))
    catch_up(a)
    assert content(a) == content(b)


def test_a_write_while_redis_is_down_is_unavailable_fast(
    redis_server: RedisProcess, replicas: list[ReplicatedRegistry]
) -> None:
    a, _ = replicas
    a.add_council(CouncilRow("phuong-1", "Phường Một", 30))
    redis_server.kill()
    started = time.monotonic()
    with pytest.raises(Unavailable):
        a.add_member(MemberRow("m-1", "phuong-1", "Mai Thị Lan"))
    assert time.monotonic() - started < 5
    assert a.council("phuong-1").name == "Phường Một"  # reads stay local


def test_write_latency_redis_and_sqlite(redis_server: RedisProcess, tmp_path: Path) -> None:
    """Not a bound, a measure: a session added (every login writes one) on each store."""
    local = Registry(tmp_path)
    shared = ReplicatedRegistry(parse(redis_server.url))
    shared.open()
    try:
        for name, reg in (("sqlite", local), ("redis", shared)):
            took = []
            for i in range(200):
                row = SessionRow(f"{name}{i:060d}", "u", "member", "m", None, 0, 1, False)
                started = time.perf_counter()
                reg.add_session(row)
                took.append(time.perf_counter() - started)
            took.sort()
            p50, p99 = statistics.median(took) * 1000, took[197] * 1000
            print(f"\n{name}: add_session p50 {p50:.2f} ms, p99 {p99:.2f} ms")
            assert reg.session(f"{name}{199:060d}") is not None
    finally:
        local.close()
        shared.close()


def test_the_operator_command_writes_to_the_shared_registry(
    redis_server: RedisProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from unittest import mock

    from server import cli

    env = {"NGHITRUONG_JOURNAL": redis_server.url, cli.PASSWORD_ENV: "mat-khau-du-dai-1"}
    with mock.patch.dict(os.environ, env):
        assert cli.main(["operator", "add", "vh.chung", "--data", str(tmp_path)]) == 0
        assert cli.main(["operator", "list", "--data", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "vh.chung" in out and f"redis 127.0.0.1:{redis_server.port}/0" in out
    assert not (tmp_path / "registry.sqlite3").exists()
    reg = ReplicatedRegistry(parse(redis_server.url))
    try:
        reg.open()
        row = reg.login("vh.chung")
        assert row is not None and row.kind == "operator"
    finally:
        reg.close()


def test_document_bytes_are_served_only_when_they_match_their_digest(
    redis_server: RedisProcess,
) -> None:
    blobs = DocumentBlobs(parse(redis_server.url))
    try:
        data = "Dự thảo nghị quyết".encode()
        digest = hashlib.sha256(data).hexdigest()
        assert blobs.get(digest) is None
        blobs.put(digest, data)
        blobs.put(digest, b"written once")  # SET NX: the first bytes stay
        assert blobs.get(digest) == data
        forged = hashlib.sha256(b"other").hexdigest()
        blobs.redis.set(blobs.key(forged), data)  # bytes that are not the digest's
        assert blobs.get(forged) is None
    finally:
        blobs.redis.close()


def test_a_write_to_a_paused_redis_is_unavailable_within_its_timeout(
    redis_server: RedisProcess, replicas: list[ReplicatedRegistry]
) -> None:
    """A Redis that hangs (SIGSTOP) rather than dies: the 1 s socket timeout answers.
    Whether or not the op reached Redis, the replicas agree once it wakes."""
    a, b = replicas
    a.add_council(CouncilRow("phuong-1", "Phường Một", 30))
    assert redis_server.proc is not None
    os.kill(redis_server.proc.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(Unavailable):
            a.add_member(MemberRow("m-1", "phuong-1", "Mai Thị Lan"))
        took = time.monotonic() - started
    finally:
        os.kill(redis_server.proc.pid, signal.SIGCONT)
    print(f"\nwrite to a paused Redis: Unavailable after {took * 1000:.0f} ms")
    assert took < 5 * SCALE
    b.add_member(MemberRow("m-2", "phuong-1", "Cao Văn Nam"))  # catches up first
    catch_up(a)
    assert content(a) == content(b)


def test_a_lost_counter_starts_again_from_the_streams_last_op(
    redis_server: RedisProcess, replicas: list[ReplicatedRegistry]
) -> None:
    a, b = replicas
    a.add_council(CouncilRow("phuong-1", "Phường Một", 30))
    a.add_member(MemberRow("m-1", "phuong-1", "Tạ Văn Lâm"))
    with redis.Redis(port=redis_server.port) as r:
        r.delete(a.counter)
    b.add_member(MemberRow("m-2", "phuong-1", "Hồ Thị Minh"))
    assert b.applied == 3
    catch_up(a)
    assert content(a) == content(b)


def test_a_snapshot_is_stored_every_n_ops_by_the_writer(redis_server: RedisProcess) -> None:
    reg = ReplicatedRegistry(parse(redis_server.url), snapshot_every=10)
    try:
        reg.open()
        reg.add_council(CouncilRow("phuong-1", "Phường Một", 100))
        for i in range(24):
            reg.add_member(MemberRow(f"m-{i}", "phuong-1", f"Đại biểu {i}"))
        with redis.Redis(port=redis_server.port) as r:
            assert int(r.hget(reg.snap_key, "id") or 0) == 20
    finally:
        reg.close()


def test_after_redis_restarts_writes_go_on_and_the_follower_catches_up(
    redis_server: RedisProcess, replicas: list[ReplicatedRegistry]
) -> None:
    """Redis killed and started again from its AOF: a write in between is refused; the
    next ones land, and the other replica's follower (XREAD BLOCK) applies them."""
    a, b = replicas
    a.add_council(CouncilRow("phuong-1", "Phường Một", 30))

    async def run() -> None:
        await b.start()
        try:
            redis_server.kill()
            with pytest.raises(Unavailable):
                await asyncio.to_thread(a.add_member, MemberRow("m-0", "phuong-1", "Không Ai"))
            await asyncio.sleep(0.6)  # the follower meets the outage too
            redis_server.start()
            await asyncio.to_thread(a.add_member, MemberRow("m-1", "phuong-1", "Kiều Thị Nga"))
            for _ in range(int(500 * SCALE)):
                if b.applied == a.applied:
                    break
                await asyncio.sleep(0.01)
        finally:
            await b.stop()

    asyncio.run(run())
    assert b.member("m-1").name == "Kiều Thị Nga"
    assert content(a) == content(b)
