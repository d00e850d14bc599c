"""Between the nodes of a cluster, through Redis: a node serves any sitting.

Per sitting, beside its log (server/journal/redis.py):

    nt:{S}:fwd          a Stream of commands forwarded to the sitting's owner (capped)
    nt:{S}:re:<id>      a list holding one forwarded command's answer (expires)

**Following.** A node with clients of a sitting it does not sequence reads the sitting's
log Stream from its last seq (XREAD BLOCK) and applies each record with the core's
``apply``, as a replay does (server/follower.py).

**Forwarding.** A command reaching a node that does not sequence its sitting is added
to the sitting's forward Stream with its key (member + client id, so idempotency holds
across retries and failovers), its actor and role (the principal the receiving node
resolved and checked) and a reply key. The owner reads the Stream (XREAD BLOCK from
where it started sequencing), submits each command to its sequencer, which decides it
with the role like any other (the core checks the role's permission), and pushes the
answer to the reply key. The sender waits on that key (BLPOP) until ``timeout_s``: no
answer by then is ``server.unavailable``, never a hang; the client sends it again with
the same id and is answered once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from redis.exceptions import RedisError

from chamber import AnyCommand
from chamber.ids import MemberId, Role
from server.journal.base import JournalError, Stored
from server.journal.redis import RedisJournal
from server.sequencer import UNAVAILABLE, Answer, Outcome

log = logging.getLogger("nghitruong.relay")

BLOCK_MS = 500  # below the client's socket timeout (1 s): a blocking read is not an outage
FORWARD_CAP = 10_000  # forwarded commands kept per sitting (XADD MAXLEN ~)
REPLY_TTL_S = 30


class Forwarded(msgspec.Struct, frozen=True, array_like=True):
    cmd: AnyCommand
    actor: MemberId | None
    role: Role
    key: str | None
    reply: str


class Reply(msgspec.Struct, frozen=True, array_like=True):
    answer: Answer
    ballot: dict[str, str] | None = None


_forwarded = msgspec.msgpack.Decoder(Forwarded)
_reply = msgspec.msgpack.Decoder(Reply)

Submit = Callable[[AnyCommand, MemberId | None, Role, str | None], Awaitable[Outcome]]


def _entry_id(eid: Any) -> str:
    return eid.decode() if isinstance(eid, bytes) else str(eid)


class Relay:
    def __init__(self, journal: RedisJournal, timeout_s: float = 3.0) -> None:
        self.journal, self.timeout_s = journal, timeout_s
        self.forwarded = 0  # commands this node sent to an owner
        self.relayed = 0  # commands this node decided for another node

    async def forward(
        self,
        sitting: str,
        command: AnyCommand,
        actor: MemberId | None,
        role: Role,
        key: str | None,
        abandon: Callable[[], bool] = lambda: False,
    ) -> Outcome | None:
        """The owner's answer to a command, or ``server.unavailable`` after ``timeout_s``;
        None as soon as ``abandon()`` is true (this node took the sitting over: the
        command is decided here, its key answering it once if the old owner had)."""
        reply = self.journal.key(sitting, f"re:{secrets.token_hex(8)}")
        payload = msgspec.msgpack.encode(Forwarded(command, actor, role, key, reply))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        try:
            await self.journal.do(
                "XADD", self.journal.key(sitting, "fwd"), "MAXLEN", "~", FORWARD_CAP, "*",
                "c", payload,
            )  # fmt: skip
            self.forwarded += 1
            while (left := deadline - loop.time()) > 0:
                if abandon():
                    return None
                wait = max(0.01, min(left, BLOCK_MS / 1000))
                got = await self.journal.do("BLPOP", reply, wait)
                if got:
                    answer = _reply.decode(bytes(got[1]))
                    return Outcome(answer.answer, answer.ballot)
        except (RedisError, OSError, JournalError, msgspec.DecodeError) as err:
            log.warning("sitting %s: a forwarded command failed: %r", sitting, err)
        return Outcome(UNAVAILABLE)

    async def consume(
        self, sitting: str, submit: Submit, alive: Callable[[], bool] = lambda: True
    ) -> None:
        """Decide the commands other nodes forward to this sitting's owner (this node)
        until cancelled or ``alive()`` is false (checked at every read, as a cancel landing
        as redis-py's read times out may be swallowed): from the Stream's end when it
        starts, so a command forwarded to the previous owner and not answered is sent again
        by its client, not decided twice (its key would answer it once anyway)."""
        stream = self.journal.key(sitting, "fwd")
        last = "$"
        tasks: set[asyncio.Task[None]] = set()
        try:
            while alive():
                try:
                    found = await self.journal.do(
                        "XREAD", "BLOCK", BLOCK_MS, "STREAMS", stream, last
                    )
                except (RedisError, OSError, JournalError) as err:
                    log.warning("sitting %s: forwarded commands unread: %r", sitting, err)
                    await asyncio.sleep(BLOCK_MS / 1000)
                    continue
                for _name, entries in _streams(found):
                    for eid, fields in entries:
                        last = _entry_id(eid)
                        task = asyncio.create_task(self._decide(sitting, fields, submit))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
        finally:
            for task in tasks:
                task.cancel()

    async def _decide(self, sitting: str, fields: dict[bytes, bytes], submit: Submit) -> None:
        try:
            fwd = _forwarded.decode(bytes(fields[b"c"]))
        except (KeyError, msgspec.DecodeError, msgspec.ValidationError) as err:
            log.warning("sitting %s: a forwarded command is malformed: %r", sitting, err)
            return
        outcome = await submit(fwd.cmd, fwd.actor, fwd.role, fwd.key)
        self.relayed += 1
        data = msgspec.msgpack.encode(Reply(outcome.answer, outcome.ballot))
        with contextlib.suppress(RedisError, OSError, JournalError):
            await self.journal.do("RPUSH", fwd.reply, data)
            await self.journal.do("EXPIRE", fwd.reply, REPLY_TTL_S)

    async def follow(self, sitting: str, after: int) -> list[Stored]:
        """The records after ``after`` once there are some (or none after BLOCK_MS)."""
        found = await self.journal.do(
            "XREAD", "BLOCK", BLOCK_MS, "STREAMS", self.journal.key(sitting, "log"), f"{after}-0"
        )
        return [
            Stored(int(_entry_id(eid).split("-")[0]), _entry_id(f[b"h"]), bytes(f[b"p"]))
            for _name, entries in _streams(found)
            for eid, f in entries
        ]


def _streams(found: Any) -> list[tuple[Any, list[tuple[Any, dict[bytes, bytes]]]]]:
    """XREAD's reply as (stream, entries), whether RESP2 (a list) or RESP3 (a dict)."""
    if not found:
        return []
    if isinstance(found, dict):
        return list(found.items())
    return [(name, entries) for name, entries in found]
