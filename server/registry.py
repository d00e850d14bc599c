"""The registry: councils, members, guests, sittings, logins and sessions (SQLite).

A plain synchronous store in its own file (`registry.sqlite3`); the HTTP layer calls it
through `asyncio.to_thread`. Rows that belong to a council carry its id, so one
deployment's councils keep their data apart. On a Redis journal the nodes share it: each
keeps a replica in memory and every change goes through Redis (server/registry_redis.py).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec

from chamber.limits import MEMBERS_MAX
from server.member_rules import (
    ImportRow,
    Invalid,
    Problem,
    clean_roles,
    member_problems,
    seat_key,
)
from server.registry_rows import (
    Conflict,
    CouncilRow,
    GuestRow,
    ImportCheck,
    LoginRow,
    MemberRow,
    NotFound,
    OperatorRow,
    RegistryError,
    RoomRow,
    SessionRow,
    SittingRow,
    Unavailable,
    new_id,
)

# The rows and errors are the registry's interface (server/registry_rows.py holds them).
__all__ = [
    "Conflict",
    "CouncilRow",
    "GuestRow",
    "ImportCheck",
    "LoginRow",
    "MemberRow",
    "NotFound",
    "OperatorRow",
    "Registry",
    "RegistryError",
    "RoomRow",
    "SessionRow",
    "SittingRow",
    "Unavailable",
    "new_id",
]

SCHEMA = """
CREATE TABLE IF NOT EXISTS councils (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, total_seats INTEGER NOT NULL,
    kind TEXT NOT NULL DEFAULT 'ward', parent TEXT);
CREATE TABLE IF NOT EXISTS members (
    id TEXT PRIMARY KEY, council TEXT NOT NULL REFERENCES councils(id), name TEXT NOT NULL,
    seat TEXT NOT NULL DEFAULT '', roles TEXT NOT NULL DEFAULT 'delegate',
    active INTEGER NOT NULL DEFAULT 1);
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


class Registry:
    def __init__(self, folder: Path | None) -> None:
        """The registry in ``folder``; in memory when None (a replica of the shared one,
        server/registry_redis.py)."""
        self.path = None if folder is None else Path(folder) / "registry.sqlite3"
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        where = ":memory:" if self.path is None else self.path
        self._db = sqlite3.connect(where, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)
        columns = {str(r[1]) for r in self._db.execute("PRAGMA table_info(members)")}
        if "active" not in columns:  # a registry written before members could be deactivated
            self._db.execute("ALTER TABLE members ADD COLUMN active INTEGER NOT NULL DEFAULT 1")
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

    @staticmethod
    def _council_in(db: sqlite3.Connection, council_id: str) -> CouncilRow:
        row = db.execute("SELECT * FROM councils WHERE id = ?", (council_id,)).fetchone()
        if row is None:
            raise NotFound(council_id)
        return CouncilRow(*row)

    @staticmethod
    def _roster_problems(
        db: sqlite3.Connection, council: CouncilRow, member_id: str, seat: str, joining: bool
    ) -> list[Problem]:
        """The council's rules for an active member ``member_id`` with ``seat``: the seat
        is no other active member's; one ``joining`` the active members fits the seats."""
        out: list[Problem] = []
        others = db.execute(
            "SELECT name, seat FROM members WHERE council = ? AND active = 1 AND id != ?",
            (council.id, member_id),
        ).fetchall()
        if seat:
            taken = [(n, s) for n, s in others if seat_key(s) == seat_key(seat)]
            if taken:
                name, label = taken[0]
                out.append(Problem("seat", "member.seat_taken", {"seat": label, "name": name}))
        if joining and len(others) + 1 > council.total_seats:
            out.append(
                Problem(
                    "", "council.seats_full", {"seats": council.total_seats, "members": len(others)}
                )
            )
        return out

    def add_member(self, row: MemberRow) -> MemberRow:
        """Add a member (name and seat trimmed); ``Invalid`` when a rule is broken,
        ``Conflict`` past the roster's bound or for a taken id."""
        row = msgspec.structs.replace(
            row, name=row.name.strip(), seat=row.seat.strip(), roles=clean_roles(row.roles)
        )
        problems = member_problems(row.name, row.seat, row.roles)
        if problems:
            raise Invalid(problems)
        try:
            with self._tx() as db:
                council = self._council_in(db, row.council)
                # A roster the core would refuse to schedule is refused here already.
                (count,) = db.execute(
                    "SELECT count(*) FROM members WHERE council = ?", (row.council,)
                ).fetchone()
                if count >= MEMBERS_MAX:
                    raise Conflict(f"council {row.council} has {MEMBERS_MAX} members")
                if row.active:
                    problems = self._roster_problems(db, council, row.id, row.seat, True)
                    if problems:
                        raise Invalid(problems)
                self._insert_member(db, row)
        except sqlite3.IntegrityError as exc:
            raise Conflict(str(exc)) from exc
        return row

    @staticmethod
    def _insert_member(db: sqlite3.Connection, row: MemberRow) -> None:
        db.execute(
            "INSERT INTO members VALUES (?, ?, ?, ?, ?, ?)",
            (row.id, row.council, row.name, row.seat, ",".join(row.roles), int(row.active)),
        )

    def update_member(
        self,
        member_id: str,
        *,
        name: str | None = None,
        seat: str | None = None,
        roles: tuple[str, ...] | None = None,
        active: bool | None = None,
    ) -> MemberRow:
        """Change a member's name, seat, roles or standing (``None``: unchanged) under the
        same rules as a new member's; a member made active again must fit the seats.
        Sittings already scheduled keep the roster they were scheduled with."""
        with self._tx() as db:
            found = db.execute("SELECT * FROM members WHERE id = ?", (member_id,)).fetchone()
            if found is None:
                raise NotFound(member_id)
            current = self._member(found)
            new = msgspec.structs.replace(
                current,
                name=current.name if name is None else name.strip(),
                seat=current.seat if seat is None else seat.strip(),
                roles=current.roles if roles is None else clean_roles(roles),
                active=current.active if active is None else active,
            )
            problems = member_problems(new.name, new.seat, new.roles)
            if new.active and not problems:
                council = self._council_in(db, new.council)
                joining = not current.active
                problems = self._roster_problems(db, council, new.id, new.seat, joining)
            if problems:
                raise Invalid(problems)
            db.execute(
                "UPDATE members SET name = ?, seat = ?, roles = ?, active = ? WHERE id = ?",
                (new.name, new.seat, ",".join(new.roles), int(new.active), new.id),
            )
        return new

    def delete_member(self, member_id: str) -> None:
        """Delete a member, their login and their sessions. Only for a member on no
        sitting's roster: the caller checks the sittings (server/members_api.py)."""
        with self._tx() as db:
            gone = db.execute("DELETE FROM members WHERE id = ?", (member_id,)).rowcount
            if not gone:
                raise NotFound(member_id)
            db.execute(
                "UPDATE sessions SET revoked = 1 WHERE kind = 'member' AND subject = ?",
                (member_id,),
            )
            db.execute("DELETE FROM logins WHERE kind = 'member' AND subject = ?", (member_id,))

    def import_members(
        self,
        council_id: str,
        rows: list[ImportRow],
        commit: bool,
        ids: list[str] | None = None,
    ) -> ImportCheck:
        """Check ``rows`` against the council as it is, and against each other; with
        ``commit`` and nothing wrong, add them all in one transaction (all or nothing),
        under ``ids`` if given (one per row), else new ones."""
        with self._tx() as db:
            council = self._council_in(db, council_id)
            active = db.execute(
                "SELECT name, seat FROM members WHERE council = ? AND active = 1", (council_id,)
            ).fetchall()
            taken = {seat_key(s): (n, s) for n, s in active if s}
            (count,) = db.execute(
                "SELECT count(*) FROM members WHERE council = ?", (council_id,)
            ).fetchone()
            seen: dict[str, int] = {}
            checked: list[ImportRow] = []
            for row in rows:
                name, seat, roles = row.name.strip(), row.seat.strip(), clean_roles(row.roles)
                problems = list(row.problems) + member_problems(name, seat, roles)
                key = seat_key(seat)
                if key and key in taken:
                    owner, label = taken[key]
                    problems.append(
                        Problem("seat", "member.seat_taken", {"seat": label, "name": owner})
                    )
                elif key and key in seen:
                    problems.append(
                        Problem("seat", "import.seat_repeated", {"seat": seat, "line": seen[key]})
                    )
                elif key:
                    seen[key] = row.line
                checked.append(ImportRow(row.line, name, seat, roles, tuple(problems)))
            whole: list[Problem] = []
            if not rows:
                whole.append(Problem("", "import.empty"))
            if len(active) + len(rows) > council.total_seats:
                whole.append(
                    Problem(
                        "",
                        "import.over_seats",
                        {"seats": council.total_seats, "members": len(active), "rows": len(rows)},
                    )
                )
            if count + len(rows) > MEMBERS_MAX:
                whole.append(Problem("", "import.too_many", {"max": MEMBERS_MAX}))
            result = ImportCheck(checked, whole, [])
            if commit and result.ok:
                for i, row in enumerate(checked):
                    member_id = ids[i] if ids is not None else new_id("m")
                    member = MemberRow(member_id, council_id, row.name, row.seat, row.roles)
                    self._insert_member(db, member)
                    result.added.append(member)
        return result

    @staticmethod
    def _member(r: tuple[Any, ...]) -> MemberRow:
        return MemberRow(
            str(r[0]), str(r[1]), str(r[2]), str(r[3]), tuple(str(r[4]).split(",")), bool(r[5])
        )

    def members(self, council_id: str, *, active_only: bool = False) -> list[MemberRow]:
        """A council's members, the active ones first, by seat and name; ``active_only``:
        those a new sitting's roster takes."""
        rows = self._rows(
            "SELECT * FROM members WHERE council = ? AND active >= ? "
            "ORDER BY active DESC, seat, name",
            council_id,
            int(active_only),
        )
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
