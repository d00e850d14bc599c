"""The journal: the durable, append-only log of every sitting, behind one small interface
that the embedded SQLite backend implements and a Redis backend will.

    JournalError
    ├── SeqConflict    an append whose first seq is not last_seq + 1 (compare-and-append)
    └── JournalClosed  the journal was closed

Per sitting it holds: the sealed records (seq, hash, canonical bytes), gap-free from 1;
the idempotency answers of commands (key → bytes); and the ballot box of open secret
votes as aggregate counters (vote, question, option) → count, with no member, no time and
no order. A Commit's three parts are written in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


class JournalError(Exception):
    pass


class SeqConflict(JournalError):
    def __init__(self, sitting: str, expected: int, got: int) -> None:
        super().__init__(f"sitting {sitting}: expected seq {expected}, got {got}")
        self.sitting, self.expected, self.got = sitting, expected, got


class JournalClosed(JournalError):
    pass


@dataclass(frozen=True, slots=True)
class Stored:
    """A record as stored: its seq, its hash and its canonical bytes."""

    seq: int
    hash: str
    payload: bytes


BallotKey = tuple[str, str, str]  # (vote, question, option)


@dataclass(frozen=True, slots=True)
class Commit:
    """What one command leaves in the journal, written atomically with the others of a
    batch."""

    records: Sequence[Stored] = ()
    answers: Sequence[tuple[str, bytes]] = ()
    ballots: Sequence[tuple[BallotKey, int]] = field(default_factory=tuple)


class Journal(Protocol):
    name: str

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def append(self, sitting: str, batch: Sequence[Commit]) -> None:
        """Write the whole batch durably in one transaction, or nothing (SeqConflict)."""

    async def last_seq(self, sitting: str) -> int: ...

    async def read(self, sitting: str, after: int = 0, limit: int | None = None) -> list[Stored]:
        """Records with seq > ``after``, in seq order."""

    async def answer(self, sitting: str, key: str) -> bytes | None: ...

    async def answers(self, sitting: str) -> dict[str, bytes]:
        """Every answer given in the sitting (loaded when its sequencer starts)."""

    async def ballot_box(self, sitting: str) -> dict[BallotKey, int]: ...

    async def drop_ballot_box(self, sitting: str, vote: str) -> None:
        """Forget a finished secret vote's counters and make them unrecoverable."""

    async def sittings(self) -> list[str]: ...
