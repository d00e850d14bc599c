"""Durable journals of sittings: the interface and its backends."""

from pathlib import Path

from server.journal.base import Commit, Journal, JournalClosed, JournalError, SeqConflict, Stored
from server.journal.sqlite import SqliteJournal


def make_journal(url: str, data: Path, unsafe_dev: bool = False) -> Journal:
    """The embedded journal in ``data`` when ``url`` is empty, else the Redis one."""
    if not url:
        return SqliteJournal(data)
    from server.journal.redis import RedisJournal

    return RedisJournal(url, unsafe_dev=unsafe_dev)


__all__ = [
    "Commit",
    "Journal",
    "JournalClosed",
    "JournalError",
    "SeqConflict",
    "SqliteJournal",
    "Stored",
    "make_journal",
]
