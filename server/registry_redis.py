"""The registry shared by the hub nodes: a state machine replicated through Redis.

Every node keeps a replica of the registry in memory (the same SQLite schema, rules and
transactions as server/registry.py) and reads it locally. A change is an operation, the
method's name and its arguments in msgpack, appended to one Stream with the next id:

    nt:registry        a Stream; entry id ``n-0`` (n = 1, 2, …), field ``op``
    nt:registry:n      the last n handed out
    nt:registry:snap   a hash: ``id`` (the last op in it) and ``db`` (the serialized replica)
    nt:doc:<sha256>    a document's bytes (content-addressed, written once)

The append is one Lua script: it takes the next n and adds the op under ``n-0``, so Redis
alone orders the ops, in one round trip and with no retry. The node then applies every op
before n it has not applied yet, then its own, and answers with what its replica
answered: a value, or the RegistryError (or Invalid) every replica raises from the same
state, an op that fails changing nothing anywhere. Each node follows the Stream
(``XREAD BLOCK``) and applies the others' ops as they come; after one that ends sessions
it calls ``on_revoke`` (the session watch), so their sockets close on every node.

Every ``SNAPSHOT_EVERY`` ops the writer stores a snapshot (``Connection.serialize``) and
trims the Stream to the ops after it less ``KEEP``; a new node loads the snapshot, then
the ops after it. Writes use a blocking client bounded by 1 s per socket operation and
run in worker threads (every call site uses ``asyncio.to_thread``): Redis down answers
``Unavailable`` (HTTP 503 ``server.unavailable``) rather than hang.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import msgspec
import redis
from redis.asyncio import Redis as AsyncRedis
from redis.exceptions import RedisError

from server.journal.redis_url import RedisTarget, parse
from server.member_rules import ImportRow, Invalid
from server.registry import (
    CouncilRow,
    GuestRow,
    ImportCheck,
    LoginRow,
    MemberRow,
    Registry,
    RegistryError,
    RoomRow,
    SessionRow,
    SittingRow,
    Unavailable,
    new_id,
)
from server.tasks import stop_task

log = logging.getLogger("nghitruong.registry")

SNAPSHOT_EVERY = 1000  # ops between two snapshots
KEEP = 200  # ops kept before a snapshot, so a node a little behind needs no reload
WRITE_WAIT_S = 2.0  # the longest a write waits for this node's write before it (Unavailable)

#: Every op: its name and the type of its arguments, as the Registry method takes them.
OPS: dict[str, Any] = {
    "add_council": tuple[CouncilRow],
    "add_member": tuple[MemberRow],
    "update_member": tuple[str, str | None, str | None, tuple[str, ...] | None, bool | None],
    "delete_member": tuple[str],
    "import_members": tuple[str, list[ImportRow], bool, list[str]],
    "add_guest": tuple[GuestRow],
    "add_room": tuple[RoomRow],
    "add_sitting": tuple[SittingRow],
    "add_document": tuple[str, str, int, str],
    "set_login": tuple[LoginRow],
    "set_operator_name": tuple[str, str],
    "update_hash": tuple[str, str],
    "purge_sessions": tuple[int],
    "add_session": tuple[SessionRow],
    "revoke_session": tuple[str],
    "revoke_subject": tuple[str, str],
}
#: Ops after which a session may have ended: the session watch looks again.
ENDING = {"revoke_session", "revoke_subject", "delete_member", "update_member", "purge_sessions"}

# Take the next op id and append the op under it. The counter starts from the Stream's
# last entry if it is missing (a Stream written before it, or the counter lost).
_APPEND = """
local n = redis.call('INCR', KEYS[2])
if n == 1 then
  local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
  if #top > 0 then
    n = tonumber(string.match(top[1][1], '^(%d+)')) + 1
    redis.call('SET', KEYS[2], n)
  end
end
redis.call('XADD', KEYS[1], tostring(n) .. '-0', 'op', ARGV[1])
return n
"""

# Store the snapshot only if it is newer than the stored one, then trim the Stream.
_SNAPSHOT = """
local current = tonumber(redis.call('HGET', KEYS[2], 'id') or '0')
local id = tonumber(ARGV[1])
if id <= current then return 0 end
redis.call('HSET', KEYS[2], 'id', ARGV[1], 'db', ARGV[2])
local keep = id + 1 - tonumber(ARGV[3])
if keep > 1 then redis.call('XTRIM', KEYS[1], 'MINID', tostring(keep) .. '-0') end
return 1
"""


def _seq(entry_id: bytes | str) -> int:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.partition("-")[0])


class ReplicatedRegistry(Registry):
    def __init__(self, target: RedisTarget, snapshot_every: int = SNAPSHOT_EVERY) -> None:
        super().__init__(None)
        self.target, self.snapshot_every = target, snapshot_every
        self.stream = f"{target.prefix}:registry"
        self.snap_key = f"{target.prefix}:registry:snap"
        self.counter = f"{target.prefix}:registry:n"
        self.redis = target.sync_client()
        self._append_op = self.redis.register_script(_APPEND)
        self.applied = 0  # the id of the last op applied to this replica
        self.ops_applied = 0  # how many this replica applied (a measure for tests)
        #: Called (from a worker thread) after an op from another node may have ended sessions.
        self.on_revoke: list[Callable[[], object]] = []
        self._apply_lock = threading.RLock()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    # Life cycle

    def open(self) -> None:
        """Load the snapshot and the ops after it (blocking: run it in a thread)."""
        with self._apply_lock:
            self._call(self._load_snapshot)
            self._call(self._catch_up)

    async def start(self) -> None:
        await asyncio.to_thread(self.open)
        self._stopping = False
        self._task = asyncio.create_task(self._follow(), name="registry-follow")

    async def stop(self) -> None:
        if self._task is not None:
            # A flag as well as the cancel: a cancel landing as redis-py's read times out
            # is swallowed on Python 3.11 (CI hung in this stop); the loop's next read,
            # at most one block later, ends it either way.
            self._stopping = True
            await stop_task(self._task)
            self._task = None

    def close(self) -> None:
        self.redis.close()
        super().close()

    def _call(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except RedisError as exc:
            raise Unavailable(f"redis: {exc}") from exc

    # Applying ops

    def _load_snapshot(self) -> None:
        found = cast(dict[bytes, bytes], self.redis.hgetall(self.snap_key))
        if not found or int(found[b"id"]) <= self.applied:
            return
        with self._lock:
            self._db.deserialize(found[b"db"])
            self._db.execute("PRAGMA foreign_keys=ON")
        self.applied = int(found[b"id"])

    def _catch_up(self, upto: int | None = None) -> bool:
        """Apply every op after the last applied, up to ``upto`` (the apply lock held);
        True if one of them may have ended sessions."""
        ending = False
        last = "+" if upto is None else f"{upto}-0"
        while upto is None or self.applied < upto:
            entries = cast(
                list[tuple[bytes, dict[bytes, bytes]]],
                self.redis.xrange(self.stream, min=f"{self.applied + 1}-0", max=last, count=500),
            )
            if entries and _seq(entries[0][0]) == self.applied + 1:
                for entry_id, fields in entries:
                    ending |= self._apply_entry(_seq(entry_id), fields[b"op"])
                continue
            if not entries and upto is None:
                break
            before = self.applied  # the next ops were trimmed: start from the snapshot
            self._load_snapshot()
            if self.applied == before:
                raise Unavailable(f"registry ops after {before} are gone and no snapshot")
        return ending

    def _apply_entry(self, seq: int, payload: bytes) -> bool:
        """Apply another node's op; its refusal is every replica's and changes nothing."""
        try:
            name = self._apply(seq, payload)[0]
        except (RegistryError, Invalid, sqlite3.IntegrityError):  # the same on every replica
            return False
        except Exception:  # a bug: this replica may now differ; say so loudly
            log.exception("registry op %d could not be applied", seq)
            return False
        return name in ENDING

    def _apply(self, seq: int, payload: bytes) -> tuple[str, Any]:
        name, raw = msgspec.msgpack.decode(payload, type=tuple[str, msgspec.Raw])
        args = msgspec.msgpack.decode(raw, type=OPS[name])
        self.applied = seq
        self.ops_applied += 1
        if name == "update_member":
            member, new_name, seat, roles, active = args
            result = Registry.update_member(
                self, member, name=new_name, seat=seat, roles=roles, active=active
            )
        else:
            result = getattr(Registry, name)(self, *args)
        return name, result

    def _do(self, name: str, *args: Any) -> Any:
        """Append the op, apply it here, answer as this replica answers."""
        payload = msgspec.msgpack.encode((name, msgspec.Raw(msgspec.msgpack.encode(args))))
        # Writes on this node go one at a time; one waiting for a Redis that does not
        # answer must not hold a worker thread for each write queued behind it.
        if not self._apply_lock.acquire(timeout=WRITE_WAIT_S):
            raise Unavailable("the registry is waiting for Redis")
        ending: list[bool] = []
        try:
            return self._append(payload, ending)
        finally:
            self._apply_lock.release()
            if any(ending):
                self._revoked()

    def _append(self, payload: bytes, ending: list[bool]) -> Any:
        try:
            seq = int(self._append_op(keys=[self.stream, self.counter], args=[payload]))
        except RedisError as exc:  # a lost reply: the op may be in; all apply it if so
            raise Unavailable(f"redis: {exc}") from exc
        ending.append(self._call(lambda: self._catch_up(seq - 1)))
        if self.applied != seq - 1:  # a snapshot past it was loaded: its answer is lost
            raise Unavailable(f"registry op {seq} was applied from a snapshot")
        try:
            return self._apply(seq, payload)[1]
        finally:
            if seq % self.snapshot_every == 0:
                self._snapshot_quietly()

    def _revoked(self) -> None:
        for hook in self.on_revoke:
            try:
                hook()
            except Exception:  # pragma: no cover - the watch looks again on its own
                log.exception("session watch failed")

    # Snapshots

    def snapshot(self) -> int:
        """Store this replica as the snapshot and trim the Stream; returns its op id."""
        with self._apply_lock:
            with self._lock:
                data = self._db.serialize()
            seq = self.applied
            self._call(
                lambda: self.redis.eval(_SNAPSHOT, 2, self.stream, self.snap_key, seq, data, KEEP)
            )
            return seq

    def _snapshot_quietly(self) -> None:
        try:
            self.snapshot()
        except RegistryError:  # the next one will do
            log.warning("registry snapshot failed", exc_info=True)

    # Following the other nodes

    async def _follow(self) -> None:
        client: AsyncRedis = self.target.client()
        try:
            while not self._stopping:
                try:
                    found = await client.xread(
                        {self.stream: f"{self.applied}-0"}, count=500, block=500
                    )
                except RedisError:
                    await asyncio.sleep(0.5)
                    continue
                if found:
                    try:
                        await asyncio.to_thread(self._take, found[0][1])
                    except RegistryError:  # Redis went away mid catch-up: read again
                        await asyncio.sleep(0.5)
                    except Exception:  # pragma: no cover - a bug: keep following
                        log.exception("following the registry failed")
                        await asyncio.sleep(0.5)
        finally:
            await client.aclose()

    def _take(self, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> None:
        ending = False
        with self._apply_lock:
            for entry_id, fields in entries:
                seq = _seq(entry_id)
                if seq <= self.applied:
                    continue  # applied already (this node's own, or by a catch-up)
                if seq != self.applied + 1:
                    ending |= self._call(self._catch_up)
                    break
                ending |= self._apply_entry(seq, fields[b"op"])
        if ending:
            self._revoked()

    # The changes, each one op

    def add_council(self, row: CouncilRow) -> CouncilRow:
        return self._do("add_council", row)  # type: ignore[no-any-return]

    def add_member(self, row: MemberRow) -> MemberRow:
        return self._do("add_member", row)  # type: ignore[no-any-return]

    def update_member(
        self,
        member_id: str,
        *,
        name: str | None = None,
        seat: str | None = None,
        roles: tuple[str, ...] | None = None,
        active: bool | None = None,
    ) -> MemberRow:
        return self._do("update_member", member_id, name, seat, roles, active)  # type: ignore[no-any-return]

    def delete_member(self, member_id: str) -> None:
        self._do("delete_member", member_id)

    def import_members(
        self,
        council_id: str,
        rows: list[ImportRow],
        commit: bool,
        ids: list[str] | None = None,
    ) -> ImportCheck:
        if not commit:  # a check only: this replica answers it
            return Registry.import_members(self, council_id, rows, False)
        ids = ids if ids is not None else [new_id("m") for _ in rows]
        return self._do("import_members", council_id, rows, True, ids)  # type: ignore[no-any-return]

    def add_guest(self, row: GuestRow) -> GuestRow:
        return self._do("add_guest", row)  # type: ignore[no-any-return]

    def add_room(self, row: RoomRow) -> RoomRow:
        return self._do("add_room", row)  # type: ignore[no-any-return]

    def add_sitting(self, row: SittingRow) -> SittingRow:
        return self._do("add_sitting", row)  # type: ignore[no-any-return]

    def add_document(self, digest: str, media_type: str, size: int, council: str) -> None:
        self._do("add_document", digest, media_type, size, council)

    def set_login(self, row: LoginRow) -> None:
        self._do("set_login", row)

    def set_operator_name(self, operator_id: str, name: str) -> None:
        self._do("set_operator_name", operator_id, name)

    def update_hash(self, username: str, new_hash: str) -> None:
        self._do("update_hash", username, new_hash)

    def purge_sessions(self, now: int) -> int:
        return self._do("purge_sessions", now)  # type: ignore[no-any-return]

    def add_session(self, row: SessionRow) -> None:
        self._do("add_session", row)

    def revoke_session(self, token_hash: str) -> None:
        self._do("revoke_session", token_hash)

    def revoke_subject(self, kind: str, subject: str) -> None:
        self._do("revoke_subject", kind, subject)


class DocumentBlobs:
    """Documents' bytes in Redis under their SHA-256, for the nodes that lack them."""

    def __init__(self, target: RedisTarget, client: redis.Redis | None = None) -> None:
        self.prefix = target.prefix
        self.redis = client if client is not None else target.sync_client()

    def key(self, digest: str) -> str:
        return f"{self.prefix}:doc:{digest}"

    def put(self, digest: str, data: bytes) -> None:
        try:
            self.redis.set(self.key(digest), data, nx=True)
        except RedisError as exc:
            raise Unavailable(f"redis: {exc}") from exc

    def get(self, digest: str) -> bytes | None:
        """The bytes, or None if Redis has none or they are not the digest's."""
        try:
            data = self.redis.get(self.key(digest))
        except RedisError as exc:
            raise Unavailable(f"redis: {exc}") from exc
        if not isinstance(data, bytes) or hashlib.sha256(data).hexdigest() != digest:
            return None
        return data


def open_registry(journal: str, data: Path) -> tuple[Registry, str]:
    """The registry a command-line tool reads and writes, and where it is: the data
    folder's, or with a Redis journal the shared one (loaded: snapshot and ops)."""
    if not journal:
        return Registry(data), str(data)
    target = parse(journal)
    registry = ReplicatedRegistry(target)
    try:
        registry.open()
    except RegistryError:
        registry.close()
        raise
    host, port = target.hosts[0]
    return registry, f"redis {host}:{port}/{target.db}"
