"""The journal's contract, run against every backend: SQLite and a real `redis-server`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from server.journal import Commit, Journal, SeqConflict, SqliteJournal, Stored
from server.journal.redis import RedisJournal
from tests.redis_process import RedisProcess


class Backend:
    """Makes journals on one storage (a folder, or a Redis of the test's own) and says
    which bytes that storage holds on disk."""

    def __init__(self, kind: str, folder: Path) -> None:
        self.kind, self.folder = kind, folder
        self.redis: RedisProcess | None = None
        if kind == "redis":
            self.redis = RedisProcess(folder / "redis")
            self.redis.start()

    def make(self) -> SqliteJournal | RedisJournal:
        if self.redis is not None:
            return RedisJournal(self.redis.url)
        return SqliteJournal(self.folder)

    def files_containing(self, needle: bytes) -> list[str]:
        root = self.folder if self.redis is None else self.redis.folder
        return [f.name for f in root.rglob("*") if f.is_file() and needle in f.read_bytes()]


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    b = Backend(request.param, tmp_path)
    yield b
    if b.redis is not None:
        b.redis.stop()


@pytest.fixture
async def journal(backend: Backend) -> AsyncIterator[Journal]:
    j = backend.make()
    await j.open()
    yield j
    await j.close()


def rec(seq: int) -> Stored:
    return Stored(seq=seq, hash=f"h{seq}", payload=f'{{"seq":{seq}}}'.encode())


async def test_appends_are_gap_free_and_read_back_in_order(journal: Journal) -> None:
    await journal.append("s", [Commit(records=[rec(1), rec(2)]), Commit(records=[rec(3)])])
    assert await journal.last_seq("s") == 3
    assert [r.seq for r in await journal.read("s")] == [1, 2, 3]
    assert [r.seq for r in await journal.read("s", after=1, limit=1)] == [2]
    assert await journal.read("s", after=3) == []
    assert await journal.last_seq("other") == 0
    assert await journal.sittings() == ["s"]


@pytest.mark.parametrize("seqs", [[2], [1, 3], [0]])
async def test_a_conflicting_append_writes_nothing(journal: Journal, seqs: list[int]) -> None:
    with pytest.raises(SeqConflict):
        await journal.append(
            "s",
            [
                Commit(
                    records=[rec(s) for s in seqs],
                    answers=[("k", b"a")],
                    ballots=[(("v", "q", "o"), 1)],
                )
            ],
        )
    assert await journal.last_seq("s") == 0
    assert await journal.answer("s", "k") is None
    assert await journal.ballot_box("s") == {}


async def test_answers_are_stored_with_their_events(journal: Journal) -> None:
    await journal.append("s", [Commit(records=[rec(1)], answers=[("m1/c1", b"ack:1")])])
    assert await journal.answer("s", "m1/c1") == b"ack:1"
    assert await journal.answer("s", "m1/c2") is None
    assert await journal.answer("t", "m1/c1") is None
    assert await journal.answers("s") == {"m1/c1": b"ack:1"}


async def test_the_ballot_box_sums_and_is_dropped(journal: Journal) -> None:
    for seq in range(1, 6):
        option = "approve" if seq % 2 else "reject"
        await journal.append("s", [Commit(records=[rec(seq)], ballots=[(("v1", "q", option), 1)])])
    await journal.append("s", [Commit(records=[rec(6)], ballots=[(("v2", "q", "approve"), 1)])])
    assert await journal.ballot_box("s") == {
        ("v1", "q", "approve"): 3,
        ("v1", "q", "reject"): 2,
        ("v2", "q", "approve"): 1,
    }
    await journal.drop_ballot_box("s", "v1")
    assert await journal.ballot_box("s") == {("v2", "q", "approve"): 1}


async def test_data_survives_closing_and_reopening(backend: Backend) -> None:
    j = backend.make()
    await j.open()
    await j.append("s", [Commit(records=[rec(1)], answers=[("k", b"x")])])
    await j.close()
    again = backend.make()
    await again.open()
    assert [r.seq for r in await again.read("s")] == [1]
    assert await again.answer("s", "k") == b"x"
    await again.close()


async def test_concurrent_appends_are_each_committed_once_in_order(journal: Journal) -> None:
    next_seq = {"a": 1, "b": 1}
    lock = asyncio.Lock()

    async def writer(sitting: str, n: int) -> None:
        for _ in range(n):
            async with lock:  # the sequencer serialises a sitting; sittings interleave
                seq = next_seq[sitting]
                next_seq[sitting] += 1
                task = asyncio.ensure_future(journal.append(sitting, [Commit(records=[rec(seq)])]))
            await task

    await asyncio.gather(*(writer(s, 40) for s in "ab" for _ in range(3)))
    for s in "ab":
        assert [r.seq for r in await journal.read(s)] == list(range(1, 121))


async def test_appends_that_arrive_together_share_a_transaction(backend: Backend) -> None:
    j = backend.make()
    await j.open()
    await asyncio.gather(*(j.append(f"s{i}", [Commit(records=[rec(1)])]) for i in range(50)))
    assert j.appends == 50 and j.batches < 50
    await j.close()


async def test_a_dropped_ballot_box_leaves_no_trace_in_any_file(backend: Backend) -> None:
    j = backend.make()
    await j.open()
    marker = "vote-marker-7f3a"
    for seq in range(1, 30):
        await j.append("s", [Commit(records=[rec(seq)], ballots=[((marker, "q", "approve"), 1)])])
    await j.drop_ballot_box("s", marker)
    await j.append("s", [Commit(records=[rec(30)])])
    await j.close()
    assert backend.files_containing(marker.encode()) == []


async def test_the_marker_is_found_before_the_drop(backend: Backend) -> None:
    """The check above can fail: before the drop, the counters are on disk."""
    j = backend.make()
    await j.open()
    marker = "vote-marker-91c2"
    await j.append("s", [Commit(records=[rec(1)], ballots=[((marker, "q", "approve"), 1)])])
    if backend.redis is None:
        await j.close()  # SQLite: the WAL is checkpointed into the file at close
    assert backend.files_containing(marker.encode()) != []
    await j.close()
