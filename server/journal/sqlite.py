"""The embedded journal: one SQLite file (WAL, synchronous=FULL) written by one thread.

Appends from many sittings and tasks are coalesced: while a transaction is being written,
new appends queue up and go into the next one together (group commit), and each caller's
`append` returns only once its own data is on disk.

Secret ballots: the ballot box is aggregate counters updated in place. SQLite's WAL holds
page images in commit order, which could pair a counter change with the `ballot.cast`
event of the same commit; so when a secret vote finishes, `drop_ballot_box` deletes its
counters with `secure_delete` on and truncates the WAL (checkpoint TRUNCATE).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from queue import SimpleQueue
from typing import Any, TypeVar

from server.journal.base import BallotKey, Commit, JournalClosed, SeqConflict, Stored

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    sitting TEXT NOT NULL, seq INTEGER NOT NULL, hash TEXT NOT NULL, payload BLOB NOT NULL,
    PRIMARY KEY (sitting, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS answers (
    sitting TEXT NOT NULL, key TEXT NOT NULL, answer BLOB NOT NULL,
    PRIMARY KEY (sitting, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ballot_box (
    sitting TEXT NOT NULL, vote TEXT NOT NULL, question TEXT NOT NULL, option TEXT NOT NULL,
    count INTEGER NOT NULL, PRIMARY KEY (sitting, vote, question, option)) WITHOUT ROWID;
"""

_Append = tuple[str, Sequence[Commit], Future[None]]
_Call = tuple[Callable[[sqlite3.Connection], Any], Future[Any]]


class SqliteJournal:
    name = "sqlite"

    def __init__(self, folder: Path, max_batch: int = 512) -> None:
        self.path = Path(folder) / "journal.sqlite3"
        self.max_batch = max_batch
        self._queue: SimpleQueue[_Append | _Call | None] = SimpleQueue()
        self._thread: threading.Thread | None = None
        self._closed = True
        self.batches = 0  # transactions written
        self.appends = 0  # appends written

    # Life cycle

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        ready: Future[None] = Future()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="journal-writer", daemon=True
        )
        self._closed = False
        self._thread.start()
        await asyncio.wrap_future(ready)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)

    # The writer thread

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA secure_delete=ON")
        db.executescript(SCHEMA)
        return db

    def _run(self, ready: Future[None]) -> None:
        try:
            db = self._connect()
        except Exception as exc:  # pragma: no cover - a broken data folder
            ready.set_exception(exc)
            return
        ready.set_result(None)
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    return
                if len(item) == 2:
                    self._call(db, item)
                    continue
                appends = [item]
                while len(appends) < self.max_batch and not self._queue.empty():
                    nxt = self._queue.get()
                    if nxt is None or len(nxt) == 2:
                        self._write(db, appends)
                        appends = []
                        if nxt is None:
                            return
                        self._call(db, nxt)
                        break
                    appends.append(nxt)
                if appends:
                    self._write(db, appends)
        finally:
            db.close()

    @staticmethod
    def _call(db: sqlite3.Connection, item: _Call) -> None:
        fn, fut = item
        try:
            fut.set_result(fn(db))
        except Exception as exc:
            fut.set_exception(exc)

    def _write(self, db: sqlite3.Connection, appends: list[_Append]) -> None:
        """One transaction for every append that is valid; a conflicting append fails
        alone (its rows are rolled back to a savepoint) and the others commit."""
        done: list[tuple[Future[None], BaseException | None]] = []
        db.execute("BEGIN IMMEDIATE")
        try:
            for sitting, batch, fut in appends:
                db.execute("SAVEPOINT one")
                try:
                    self._insert(db, sitting, batch)
                    db.execute("RELEASE one")
                    done.append((fut, None))
                except SeqConflict as exc:
                    db.execute("ROLLBACK TO one")
                    db.execute("RELEASE one")
                    done.append((fut, exc))
            db.execute("COMMIT")
        except BaseException as exc:
            db.execute("ROLLBACK")
            for _s, _b, fut in appends:
                fut.set_exception(exc)
            return
        self.batches += 1
        self.appends += len(appends)
        for fut, err in done:
            if err is None:
                fut.set_result(None)
            else:
                fut.set_exception(err)

    @staticmethod
    def _insert(db: sqlite3.Connection, sitting: str, batch: Sequence[Commit]) -> None:
        records = [r for commit in batch for r in commit.records]
        if records:
            last = db.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM events WHERE sitting = ?", (sitting,)
            ).fetchone()[0]
            for expected, rec in enumerate(records, start=last + 1):
                if rec.seq != expected:
                    raise SeqConflict(sitting, expected, rec.seq)
            db.executemany(
                "INSERT INTO events (sitting, seq, hash, payload) VALUES (?, ?, ?, ?)",
                [(sitting, r.seq, r.hash, r.payload) for r in records],
            )
        for commit in batch:
            if commit.answers:
                db.executemany(
                    "INSERT OR REPLACE INTO answers (sitting, key, answer) VALUES (?, ?, ?)",
                    [(sitting, k, a) for k, a in commit.answers],
                )
            for (vote, question, option), delta in commit.ballots:
                db.execute(
                    "INSERT INTO ballot_box (sitting, vote, question, option, count) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET count = count + ?",
                    (sitting, vote, question, option, delta, delta),
                )

    # The interface

    def _submit(self, item: _Append | _Call) -> Future[Any]:
        if self._closed:
            raise JournalClosed("the journal is closed")
        self._queue.put(item)
        return item[-1]

    async def _run_in_writer(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        fut: Future[T] = Future()
        self._submit((fn, fut))
        return await asyncio.wrap_future(fut)

    async def append(self, sitting: str, batch: Sequence[Commit]) -> None:
        fut: Future[None] = Future()
        self._submit((sitting, batch, fut))
        await asyncio.wrap_future(fut)

    async def last_seq(self, sitting: str) -> int:
        def q(db: sqlite3.Connection) -> int:
            row = db.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM events WHERE sitting = ?", (sitting,)
            ).fetchone()
            return int(row[0])

        return await self._run_in_writer(q)

    async def read(self, sitting: str, after: int = 0, limit: int | None = None) -> list[Stored]:
        def q(db: sqlite3.Connection) -> list[Stored]:
            rows = db.execute(
                "SELECT seq, hash, payload FROM events WHERE sitting = ? AND seq > ? "
                "ORDER BY seq LIMIT ?",
                (sitting, after, -1 if limit is None else limit),
            ).fetchall()
            return [Stored(seq, h, bytes(p)) for seq, h, p in rows]

        return await self._run_in_writer(q)

    async def answer(self, sitting: str, key: str) -> bytes | None:
        def q(db: sqlite3.Connection) -> bytes | None:
            row = db.execute(
                "SELECT answer FROM answers WHERE sitting = ? AND key = ?", (sitting, key)
            ).fetchone()
            return None if row is None else bytes(row[0])

        return await self._run_in_writer(q)

    async def answers(self, sitting: str) -> dict[str, bytes]:
        def q(db: sqlite3.Connection) -> dict[str, bytes]:
            rows = db.execute("SELECT key, answer FROM answers WHERE sitting = ?", (sitting,))
            return {k: bytes(a) for k, a in rows}

        return await self._run_in_writer(q)

    async def ballot_box(self, sitting: str) -> dict[BallotKey, int]:
        def q(db: sqlite3.Connection) -> dict[BallotKey, int]:
            rows = db.execute(
                "SELECT vote, question, option, count FROM ballot_box WHERE sitting = ?",
                (sitting,),
            ).fetchall()
            return {(v, qn, o): int(n) for v, qn, o, n in rows}

        return await self._run_in_writer(q)

    async def drop_ballot_box(self, sitting: str, vote: str) -> None:
        def q(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM ballot_box WHERE sitting = ? AND vote = ?", (sitting, vote))
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

        await self._run_in_writer(q)

    async def sittings(self) -> list[str]:
        def q(db: sqlite3.Connection) -> list[str]:
            return [r[0] for r in db.execute("SELECT DISTINCT sitting FROM events ORDER BY 1")]

        return await self._run_in_writer(q)
