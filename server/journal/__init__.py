"""Durable journals of sittings: the interface and its backends."""

from server.journal.base import Commit, Journal, JournalClosed, JournalError, SeqConflict, Stored
from server.journal.sqlite import SqliteJournal

__all__ = [
    "Commit",
    "Journal",
    "JournalClosed",
    "JournalError",
    "SeqConflict",
    "SqliteJournal",
    "Stored",
]
