"""The shared journal: Redis (Streams, AOF with fsync always, optional replica and Sentinel).

Per sitting, all under the hash tag ``{sitting}``:

    nt:{S}:log      a Stream; entry id ``seq-0``, fields h (hash) and p (canonical bytes)
    nt:{S}:answers  a hash: idempotency key → answer
    nt:{S}:box      a hash: msgpack([vote, question, option]) → count (open secret votes)
    nt:{S}:lease    the sequencer's lease: "node:token", with a TTL (server/journal/lease.py)
    nt:{S}:fence    the fencing token counter
    nt:sittings     a set of every sitting with a record

An append is one Lua script (server/journal/redis_lua.py): it checks the lease value the
node holds (a node that lost its lease is refused: Fenced) and that the first seq follows
the last one (SeqConflict), then writes records, answers and counters together. Appends
that arrive while a round trip is in flight go in the next pipeline together (group
commit); with ``appendfsync always`` Redis fsyncs the AOF before it replies, once per
event-loop turn for the whole pipeline. With a replica configured, ``WAIT`` follows.

Secret ballots: the AOF is a log of every write in order, so it pairs a ``ballot.cast``
record with its counter change until rewritten. When a secret vote finishes,
``drop_ballot_box`` deletes its counters and rewrites the AOF (BGREWRITEAOF), waiting
until the old files are gone. docs/architecture.md states the window that remains.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

import msgspec
from redis.asyncio import Redis
from redis.exceptions import NoScriptError, RedisError, ResponseError

from server.journal import redis_lua
from server.journal.base import BallotKey, Commit, JournalClosed, JournalError, SeqConflict, Stored
from server.journal.redis_url import RedisTarget, parse

log = logging.getLogger("nghitruong.journal.redis")

_Append = tuple[str, Sequence[Commit], asyncio.Future[None]]


class Fenced(JournalError):
    """The sitting's lease is not (or no longer) this node's: it must not append."""

    code = "journal.fenced"


class Unsafe(JournalError):
    """Redis would lose acknowledged records (no AOF, or no fsync before each reply)."""

    code = "journal.unsafe"

    def __init__(self, setting: str, value: str) -> None:
        super().__init__(f"{setting} is {value!r}")
        self.setting, self.value = setting, value


class NotReplicated(JournalError):
    code = "journal.not_replicated"


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisJournal:
    name = "redis"

    def __init__(
        self, target: RedisTarget | str, unsafe_dev: bool = False, max_batch: int = 512
    ) -> None:
        self.target = parse(target) if isinstance(target, str) else target
        self.unsafe_dev = unsafe_dev
        self.max_batch = max_batch
        self.prefix = self.target.prefix
        self.client: Redis | None = None
        #: The lease value this node holds per sitting (server/journal/lease.py sets it).
        self.leases: dict[str, str] = {}
        #: True on a node of a cluster: appending to a sitting without its lease is refused.
        self.fencing = False
        #: Told a sitting whose append was refused for want of the lease.
        self.on_fenced: list[Callable[[str], None]] = []
        self._queue: asyncio.Queue[_Append | None] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._aof = False
        self.batches = 0  # pipelines sent
        self.appends = 0  # appends written

    # Keys

    def key(self, sitting: str, what: str) -> str:
        return f"{self.prefix}:{{{sitting}}}:{what}"

    @property
    def sittings_key(self) -> str:
        return f"{self.prefix}:sittings"

    # Life cycle

    async def open(self) -> None:
        self.client = self.target.client()
        await self.check_durable()
        self._sha = await self.client.script_load(redis_lua.APPEND)
        self._writer = asyncio.create_task(self._write_loop(), name="journal-redis-writer")

    async def check_durable(self) -> None:
        """Refuse a Redis that would lose an acknowledged record, unless ``unsafe_dev``."""
        assert self.client is not None
        try:
            aof, fsync = await self._config("appendonly"), await self._config("appendfsync")
        except ResponseError:  # CONFIG renamed or disabled: durability cannot be checked
            aof = fsync = "unknown"
        self._aof = aof == "yes"
        for setting, value, wanted in (
            ("appendonly", aof, "yes"),
            ("appendfsync", fsync, "always"),
        ):
            if value != wanted:
                if not self.unsafe_dev:
                    await self.client.aclose()
                    self.client = None
                    raise Unsafe(setting, value)
                log.warning("Redis %s is %r: acknowledged records may be lost", setting, value)

    async def _config(self, name: str) -> str:
        found = await self.do("CONFIG", "GET", name)
        if not isinstance(found, dict):
            found = dict(zip(found[::2], found[1::2], strict=True))
        return next((_s(v) for k, v in found.items() if _s(k) == name), "")

    async def close(self) -> None:
        if self._writer is None:
            return
        self._queue.put_nowait(None)
        await asyncio.gather(self._writer, return_exceptions=True)
        self._writer = None
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None and not item[2].done():
                item[2].set_exception(JournalClosed("the journal is closed"))
        if self.client is not None:
            await self.client.aclose()
            self.client = None

    def _redis(self) -> Redis:
        if self.client is None or self._writer is None:
            raise JournalClosed("the journal is closed")
        return self.client

    # Appends: group commit

    async def append(self, sitting: str, batch: Sequence[Commit]) -> None:
        self._redis()
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((sitting, batch, future))
        await future

    async def _write_loop(self) -> None:
        while True:
            item = await self._queue.get()
            if item is None:
                return
            appends = [item]
            stop = False
            while len(appends) < self.max_batch and not self._queue.empty():
                nxt = self._queue.get_nowait()
                if nxt is None:
                    stop = True
                    break
                appends.append(nxt)
            await self._write(appends)
            if stop:
                return

    def _args(self, sitting: str, batch: Sequence[Commit]) -> tuple[list[str], list[Any]]:
        lease = self.leases.get(sitting, "")
        if self.fencing and not lease:
            raise Fenced(sitting)
        records = [r for commit in batch for r in commit.records]
        answers = [a for commit in batch for a in commit.answers]
        ballots = [b for commit in batch for b in commit.ballots]
        args: list[Any] = [lease, sitting, len(records), len(answers), len(ballots)]
        for r in records:
            args += [r.seq, r.hash, r.payload]
        for k, a in answers:
            args += [k, a]
        for (vote, question, option), delta in ballots:
            args += [msgspec.msgpack.encode([vote, question, option]), delta]
        keys = [self.key(sitting, w) for w in ("log", "answers", "box", "lease")]
        return [*keys, self.sittings_key], args

    async def _write(self, appends: list[_Append]) -> None:
        client = self._redis()
        sent: list[tuple[_Append, list[str], list[Any]]] = []
        for sitting, batch, future in appends:
            try:
                keys, args = self._args(sitting, batch)
            except Fenced as err:
                self._fenced(sitting, future, err)
                continue
            sent.append(((sitting, batch, future), keys, args))
        if not sent:
            return
        try:
            results = await self._send(client, sent)
            if any(isinstance(r, NoScriptError) for r in results):
                # Redis restarted (its script cache is empty): nothing of this ran.
                self._sha = await client.script_load(redis_lua.APPEND)
                results = await self._send(client, sent)
            if self.target.replicas:
                acked = await client.wait(self.target.replicas, self.target.wait_ms)
                if acked < self.target.replicas:
                    raise NotReplicated(f"{acked} of {self.target.replicas} replicas")
        except (RedisError, OSError, JournalError) as err:
            for (_s, _b, future), _k, _a in sent:
                if not future.done():
                    future.set_exception(err)
            return
        self.batches += 1
        self.appends += len(sent)
        for ((sitting, _b, future), _k, _a), result in zip(sent, results, strict=True):
            if future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            elif result[0] == b"OK":
                future.set_result(None)
            elif result[0] == b"FENCED":
                self._fenced(sitting, future, Fenced(sitting))
            else:
                future.set_exception(SeqConflict(sitting, int(result[1]), int(result[2])))

    async def _send(
        self, client: Redis, sent: list[tuple[_Append, list[str], list[Any]]]
    ) -> list[Any]:
        pipe = client.pipeline(transaction=False)
        for _append, keys, args in sent:
            pipe.evalsha(self._sha, len(keys), *keys, *args)
        return list(await pipe.execute(raise_on_error=False))

    def _fenced(self, sitting: str, future: asyncio.Future[None], err: Fenced) -> None:
        self.leases.pop(sitting, None)
        if not future.done():
            future.set_exception(err)
        for listener in self.on_fenced:
            listener(sitting)

    # Reads

    async def do(self, *args: Any) -> Any:
        """One Redis command, its reply as redis-py parses it."""
        if self.client is None:
            raise JournalClosed("the journal is closed")
        return await self.client.execute_command(*args)  # type: ignore[no-untyped-call]

    async def last_seq(self, sitting: str) -> int:
        top = await self._redis().xrevrange(self.key(sitting, "log"), count=1)
        return int(top[0][0].split(b"-")[0]) if top else 0

    async def read(self, sitting: str, after: int = 0, limit: int | None = None) -> list[Stored]:
        entries = await self._redis().xrange(
            self.key(sitting, "log"), min=f"{after + 1}-0", max="+", count=limit
        )
        return [
            Stored(int(eid.split(b"-")[0]), _s(fields[b"h"]), bytes(fields[b"p"]))
            for eid, fields in entries
        ]

    async def answer(self, sitting: str, key: str) -> bytes | None:
        raw = await self.do("HGET", self.key(sitting, "answers"), key)
        return None if raw is None else bytes(raw)

    async def answers(self, sitting: str) -> dict[str, bytes]:
        raw = await self.do("HGETALL", self.key(sitting, "answers"))
        return {_s(k): bytes(v) for k, v in raw.items()}

    async def ballot_box(self, sitting: str) -> dict[BallotKey, int]:
        raw = await self.do("HGETALL", self.key(sitting, "box"))
        box: dict[BallotKey, int] = {}
        for field, count in raw.items():
            vote, question, option = msgspec.msgpack.decode(field)
            box[(vote, question, option)] = int(count)
        return box

    async def drop_ballot_box(self, sitting: str, vote: str) -> None:
        box = self.key(sitting, "box")
        fields = [f for f in await self.do("HKEYS", box) if msgspec.msgpack.decode(f)[0] == vote]
        if fields:
            await self.do("HDEL", box, *fields)
        if self._aof:
            await self.rewrite_aof()

    async def rewrite_aof(self, timeout_s: float = 60.0) -> None:
        """Rewrite the AOF from the data as it is now and wait until the rewrite is done:
        the old files, with every write in order, are then deleted."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            await self._rewrite_idle(deadline)  # one begun before our deletion is not enough
            try:
                await self.do("BGREWRITEAOF")
                break
            except ResponseError as err:
                if "already in progress" not in str(err):
                    raise
        await asyncio.sleep(0)
        await self._rewrite_idle(deadline)

    async def _rewrite_idle(self, deadline: float) -> None:
        client = self._redis()
        while True:
            info = await client.info("persistence")
            if not info.get("aof_rewrite_in_progress") and not info.get("aof_rewrite_scheduled"):
                if info.get("aof_last_bgrewrite_status", "ok") != "ok":
                    raise JournalError("AOF rewrite failed")
                return
            if asyncio.get_running_loop().time() > deadline:
                raise JournalError("AOF rewrite did not finish")
            await asyncio.sleep(0.02)

    async def sittings(self) -> list[str]:
        return sorted(_s(s) for s in await self.do("SMEMBERS", self.sittings_key))
