"""The registry: councils, members, guests, sittings, logins and sessions (SQLite).

A plain synchronous store in its own file (`registry.sqlite3`); the HTTP layer calls it
through `asyncio.to_thread`. Rows that belong to a council carry its id, so one
deployment's councils keep their data apart.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from chamber.limits import MEMBERS_MAX, Id, Name

SCHEMA = """
CREATE TABLE IF NOT EXISTS councils (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, total_seats INTEGER NOT NULL,
    kind TEXT NOT NULL DEFAULT 'ward', parent TEXT);
CREATE TABLE IF NOT EXISTS members (
    id TEXT PRIMARY KEY, council TEXT NOT NULL REFERENCES councils(id), name TEXT NOT NULL,
    seat TEXT NOT NULL DEFAULT '', roles TEXT NOT NULL DEFAULT 'delegate');
CREATE TABLE IF NOT EXISTS guests (
    id TEXT PRIMARY KEY, council TEXT NOT NULL REFERENCES councils(id), name TEXT NOT NULL,
    affiliation TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS rooms (
    id TEXT PRIMARY KEY, council TEXT NOT NULL REFERENCES councils(id), name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sittings (
    id TEXT PRIMARY KEY, council TEXT NOT NULL REFERENCES councils(id), title TEXT NOT NULL,
    scheduled_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS logins (
    username TEXT PRIMARY KEY, hash TEXT NOT NULL, kind TEXT NOT NULL,
    subject TEXT NOT NULL, council TEXT);
CREATE TABLE IF NOT EXISTS operators (
    id TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY, username TEXT NOT NULL, kind TEXT NOT NULL,
    subject TEXT NOT NULL, council TEXT, created INTEGER NOT NULL, expires INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS documents (
    hash TEXT PRIMARY KEY, media_type TEXT NOT NULL, size INTEGER NOT NULL,
    council TEXT NOT NULL);
"""


class RegistryError(Exception):
    code = "registry.error"


class NotFound(RegistryError):
    code = "registry.not_found"


class Conflict(RegistryError):
    code = "registry.conflict"


class CouncilRow(msgspec.Struct, frozen=True):
    id: Annotated[Id, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    name: Annotated[Name, msgspec.Meta(min_length=1)]
    total_seats: Annotated[int, msgspec.Meta(ge=1, le=10_000)]  # the statutory seats
    # The tiers of local government: a province or a centrally run city above its
    # wards, communes and special zones.
    kind: Literal["ward", "commune", "special_zone", "city", "province"] = "ward"
    parent: Id | None = None


class MemberRow(msgspec.Struct, frozen=True):
    id: str
    council: str
    name: str
    seat: str = ""
    roles: tuple[str, ...] = ("delegate",)


class GuestRow(msgspec.Struct, frozen=True):
    id: str
    council: str
    name: str
    affiliation: str = ""


class RoomRow(msgspec.Struct, frozen=True):
    """A linked hall: its computer logs in as the room and carries the hall's camera and
    mixed audio; on a sitting's roster it is a guest under the same id."""

    id: str
    council: str
    name: str


class SittingRow(msgspec.Struct, frozen=True):
    id: str
    council: str
    title: str
    scheduled_at: int


class LoginRow(msgspec.Struct, frozen=True):
    username: str
    hash: str
    kind: str  # "operator" or "member"
    subject: str
    council: str | None


class OperatorRow(msgspec.Struct, frozen=True):
    username: str
    name: str = ""


class SessionRow(msgspec.Struct, frozen=True):
    token_hash: str
    username: str
    kind: str
    subject: str
    council: str | None
    created: int
    expires: int
    revoked: bool


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


class Registry:
    def __init__(self, folder: Path) -> None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        self.path = Path(folder) / "registry.sqlite3"
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _rows(self, sql: str, *args: object) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _insert(self, sql: str, *args: object) -> None:
        try:
            with self._tx() as db:
                db.execute(sql, args)
        except sqlite3.IntegrityError as exc:
            raise Conflict(str(exc)) from exc

    # Councils, members, guests

    def add_council(self, row: CouncilRow) -> CouncilRow:
        if row.parent is not None:
            self.council(row.parent)  # NotFound: a council's parent must exist
        self._insert(
            "INSERT INTO councils VALUES (?, ?, ?, ?, ?)",
            row.id,
            row.name,
            row.total_seats,
            row.kind,
            row.parent,
        )
        return row

    def councils(self) -> list[CouncilRow]:
        return [CouncilRow(*r) for r in self._rows("SELECT * FROM councils ORDER BY name")]

    def council(self, council_id: str) -> CouncilRow:
        rows = self._rows("SELECT * FROM councils WHERE id = ?", council_id)
        if not rows:
            raise NotFound(council_id)
        return CouncilRow(*rows[0])

    def add_member(self, row: MemberRow) -> MemberRow:
        self.council(row.council)
        try:
            with self._tx() as db:
                # A roster the core would refuse to schedule is refused here already.
                (count,) = db.execute(
                    "SELECT count(*) FROM members WHERE council = ?", (row.council,)
                ).fetchone()
                if count >= MEMBERS_MAX:
                    raise Conflict(f"council {row.council} has {MEMBERS_MAX} members")
                db.execute(
                    "INSERT INTO members VALUES (?, ?, ?, ?, ?)",
                    (row.id, row.council, row.name, row.seat, ",".join(row.roles)),
                )
        except sqlite3.IntegrityError as exc:
            raise Conflict(str(exc)) from exc
        return row

    @staticmethod
    def _member(r: tuple[Any, ...]) -> MemberRow:
        return MemberRow(str(r[0]), str(r[1]), str(r[2]), str(r[3]), tuple(str(r[4]).split(",")))

    def members(self, council_id: str) -> list[MemberRow]:
        rows = self._rows("SELECT * FROM members WHERE council = ? ORDER BY seat, name", council_id)
        return [self._member(r) for r in rows]

    def member(self, member_id: str) -> MemberRow:
        rows = self._rows("SELECT * FROM members WHERE id = ?", member_id)
        if not rows:
            raise NotFound(member_id)
        return self._member(rows[0])

    def add_guest(self, row: GuestRow) -> GuestRow:
        self.council(row.council)
        self._insert(
            "INSERT INTO guests VALUES (?, ?, ?, ?)", row.id, row.council, row.name, row.affiliation
        )
        return row

    def guests(self, council_id: str) -> list[GuestRow]:
        rows = self._rows("SELECT * FROM guests WHERE council = ? ORDER BY name", council_id)
        return [GuestRow(*r) for r in rows]

    # Linked halls

    def add_room(self, row: RoomRow) -> RoomRow:
        self.council(row.council)
        self._insert("INSERT INTO rooms VALUES (?, ?, ?)", row.id, row.council, row.name)
        return row

    def rooms(self, council_id: str) -> list[RoomRow]:
        rows = self._rows("SELECT * FROM rooms WHERE council = ? ORDER BY name", council_id)
        return [RoomRow(*r) for r in rows]

    def room(self, room_id: str) -> RoomRow:
        rows = self._rows("SELECT * FROM rooms WHERE id = ?", room_id)
        if not rows:
            raise NotFound(room_id)
        return RoomRow(*rows[0])

    # Sittings

    def add_sitting(self, row: SittingRow) -> SittingRow:
        self.council(row.council)
        self._insert(
            "INSERT INTO sittings VALUES (?, ?, ?, ?)",
            row.id,
            row.council,
            row.title,
            row.scheduled_at,
        )
        return row

    def sittings(self, council_id: str | None = None) -> list[SittingRow]:
        if council_id is None:
            rows = self._rows("SELECT * FROM sittings ORDER BY scheduled_at")
        else:
            rows = self._rows(
                "SELECT * FROM sittings WHERE council = ? ORDER BY scheduled_at", council_id
            )
        return [SittingRow(*r) for r in rows]

    def sitting(self, sitting_id: str) -> SittingRow:
        rows = self._rows("SELECT * FROM sittings WHERE id = ?", sitting_id)
        if not rows:
            raise NotFound(sitting_id)
        return SittingRow(*rows[0])

    # Documents (bytes live in the data folder by hash; the registry knows the owner)

    def add_document(self, digest: str, media_type: str, size: int, council: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO documents VALUES (?, ?, ?, ?)",
                (digest, media_type, size, council),
            )

    def document(self, digest: str) -> tuple[str, int, str]:
        rows = self._rows("SELECT media_type, size, council FROM documents WHERE hash = ?", digest)
        if not rows:
            raise NotFound(digest)
        media, size, council = rows[0]
        return str(media), int(size), str(council)

    # Logins and sessions (hashes only: see server/auth.py)

    def set_login(self, row: LoginRow) -> None:
        existing = self._rows("SELECT kind, subject FROM logins WHERE username = ?", row.username)
        if existing and tuple(existing[0]) != (row.kind, row.subject):
            raise Conflict(f"username {row.username} is taken")
        with self._tx() as db:
            db.execute("DELETE FROM logins WHERE kind = ? AND subject = ?", (row.kind, row.subject))
            db.execute(
                "INSERT INTO logins VALUES (?, ?, ?, ?, ?)",
                (row.username, row.hash, row.kind, row.subject, row.council),
            )

    def login(self, username: str) -> LoginRow | None:
        rows = self._rows("SELECT * FROM logins WHERE username = ?", username)
        return LoginRow(*rows[0]) if rows else None

    def login_of(self, kind: str, subject: str) -> LoginRow | None:
        rows = self._rows("SELECT * FROM logins WHERE kind = ? AND subject = ?", kind, subject)
        return LoginRow(*rows[0]) if rows else None

    def operators(self) -> list[OperatorRow]:
        """Every operator login, with the name given to it (`nghitruong operator add`)."""
        rows = self._rows(
            "SELECT l.username, COALESCE(o.name, '') FROM logins l "
            "LEFT JOIN operators o ON o.id = l.subject "
            "WHERE l.kind = 'operator' ORDER BY l.username"
        )
        return [OperatorRow(str(r[0]), str(r[1])) for r in rows]

    def operator_name(self, operator_id: str) -> str | None:
        rows = self._rows("SELECT name FROM operators WHERE id = ?", operator_id)
        return str(rows[0][0]) if rows and rows[0][0] else None

    def set_operator_name(self, operator_id: str, name: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO operators VALUES (?, ?) "
                "ON CONFLICT(id) DO UPDATE SET name = excluded.name",
                (operator_id, name),
            )

    def update_hash(self, username: str, new_hash: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE logins SET hash = ? WHERE username = ?", (new_hash, username))

    def purge_sessions(self, now: int) -> int:
        """Delete every session past its expiry, revoked or not; returns how many.

        A revoked session is kept until its expiry so that a revocation stays visible to
        whoever still holds the token; after it, the token is refused anyway."""
        with self._tx() as db:
            return db.execute("DELETE FROM sessions WHERE expires <= ?", (now,)).rowcount

    def add_session(self, row: SessionRow) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row.token_hash,
                    row.username,
                    row.kind,
                    row.subject,
                    row.council,
                    row.created,
                    row.expires,
                    int(row.revoked),
                ),
            )

    def session(self, token_hash: str) -> SessionRow | None:
        rows = self._rows("SELECT * FROM sessions WHERE token_hash = ?", token_hash)
        if not rows:
            return None
        r = rows[0]
        return SessionRow(
            str(r[0]),
            str(r[1]),
            str(r[2]),
            str(r[3]),
            None if r[4] is None else str(r[4]),
            int(r[5]),
            int(r[6]),
            bool(r[7]),
        )

    def session_states(self, token_hashes: list[str], now: int) -> dict[str, str]:
        """Which of these sessions have ended, and how: "revoked" or "expired" (a session
        no longer stored, purged after its end, counts as revoked)."""
        ended: dict[str, str] = {}
        for i in range(0, len(token_hashes), 500):
            chunk = token_hashes[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._rows(
                f"SELECT token_hash, revoked, expires FROM sessions WHERE token_hash IN ({marks})",
                *chunk,
            )
            found = {str(r[0]): (bool(r[1]), int(r[2])) for r in rows}
            for h in chunk:
                revoked, expires = found.get(h, (True, 0))
                if revoked:
                    ended[h] = "revoked"
                elif expires <= now:
                    ended[h] = "expired"
        return ended

    def revoke_session(self, token_hash: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE sessions SET revoked = 1 WHERE token_hash = ?", (token_hash,))

    def revoke_subject(self, kind: str, subject: str) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE sessions SET revoked = 1 WHERE kind = ? AND subject = ?", (kind, subject)
            )
