"""One sequencer per sitting: it serialises the sitting's commands.

Commands that arrive together are decided one by one against the evolving state, their
records, idempotency answers and secret-ballot counters are appended in ONE durable
journal write (group commit), and only then are they answered and fanned out. Nothing is
acknowledged before it is on disk. If the write fails, the batch's state is discarded and
every command in it is answered with an error: nothing half-applied survives.

A command sent again with the same key (member + client id) gets the original answer and
is never applied twice; answers are kept in the journal with the events, so this holds
across reconnects and restarts. The stored answer carries a digest of the command it
answered: the same id with a different command is refused (`command.id_reused`), never
answered with the other command's answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from chamber import AnyCommand, ChamberError, Ctx, Record, Sitting, execute, replay
from chamber import commands as c
from chamber.ids import MemberId, Role, VoteStatus
from chamber.log import load
from server.journal import Commit, Journal, Stored

log = logging.getLogger("nghitruong.sequencer")


class Answer(msgspec.Struct, frozen=True, omit_defaults=True):
    """What a command was answered; stored for replays of the same command id. It never
    holds a ballot's choice."""

    ok: bool
    seq: tuple[int, int] | None = None
    code: str = ""
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    digest: str = ""  # of the command answered; empty in answers stored before it existed


_answer_decoder = msgspec.msgpack.Decoder(Answer)
_canonical = msgspec.msgpack.Encoder(order="deterministic")
UNAVAILABLE = Answer(ok=False, code="server.unavailable")

#: Asked as a command is decided: an error code if its sender may no longer act.
Guard = Callable[[], str | None]


def command_digest(command: AnyCommand) -> str:
    """What identifies a command's content, whatever the order of its fields' keys."""
    return hashlib.sha256(_canonical.encode(command)).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Outcome:
    answer: Answer
    ballot: dict[str, str] | None = None  # the sender's own ballot, for this reply only
    replayed: bool = False


@dataclass(slots=True)
class Pending:
    command: AnyCommand
    actor: MemberId | None
    role: Role
    key: str | None
    future: asyncio.Future[Outcome]
    reply: Callable[[Outcome], None] | None = None
    guard: Guard | None = None
    received: float = field(default_factory=time.perf_counter)


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


OnCommit = Callable[[list[Record], Sitting, list[Pending]], None]
#: Told each batch's timings: its commands' submit times, then when the batch was picked,
#: decided and durable (time.perf_counter()).
OnStages = Callable[[list[float], float, float, float], None]


class Sequencer:
    def __init__(
        self,
        sitting: str,
        journal: Journal,
        on_commit: OnCommit,
        clock: Callable[[], int] = wall_ms,
        max_batch: int = 256,
        keep_recent: int = 10_000,
        on_stages: OnStages | None = None,
    ) -> None:
        self.sitting = sitting
        self.on_stages = on_stages
        self.journal = journal
        self.on_commit = on_commit
        self.clock = clock
        self.max_batch = max_batch
        self.state: Sitting | None = None
        self.recent: deque[Record] = deque(maxlen=keep_recent)
        self.answers: dict[str, bytes] = {}
        self.last_at = 0
        self._queue: asyncio.Queue[Pending] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._busy = False
        self._current: list[Pending] = []  # the batch being decided
        self.batch_sizes: list[int] = []
        #: A write failed with its outcome unknown (a lost reply, Redis down): the journal,
        #: not memory, says what was written; it is read again before the next batch.
        self.stale = False

    async def start(self) -> None:
        await self._load()
        self._task = asyncio.create_task(self._loop(), name=f"sequencer:{self.sitting}")

    async def _load(self) -> None:
        """Rebuild the state from the journal: the log, the ballot box of open secret
        votes, and the answers already given."""
        stored = await self.journal.read(self.sitting)
        records = [load(s.payload, s.hash) for s in stored]
        box = await self.journal.ballot_box(self.sitting)
        self.state = replay(records, box)
        # A secret vote that finished while its counters were being dropped (the process
        # died in between) is dropped now: nothing of it may outlive the vote.
        votes = self.state.votes.values() if self.state is not None else ()
        open_votes = {v.id for v in votes if v.status is VoteStatus.OPEN}
        for vote in sorted({key[0] for key in box} - open_votes):
            await self.journal.drop_ballot_box(self.sitting, vote)
        self.recent.clear()
        self.recent.extend(records)
        self.answers = await self.journal.answers(self.sitting)
        self.last_at = records[-1].at if records else 0

    async def _resync(self) -> None:
        """Read the journal again after a write of unknown outcome; records that were
        written without being acknowledged are published like any others."""
        known = self.state.seq if self.state is not None else 0
        await self._load()
        self.stale = False
        landed = [r for r in self.recent if r.seq > known]
        if landed and self.state is not None:
            log.warning(
                "sitting %s: %d unacknowledged records were written", self.sitting, len(landed)
            )
            self.on_commit(landed, self.state, [])

    async def stop(self) -> None:
        """Stop deciding; a command still waiting or being decided is answered
        `server.unavailable` (never left hanging: its client sends it again)."""
        left = list(self._current)  # the loop forgets its batch as it is cancelled
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        while not self._queue.empty():
            left.append(self._queue.get_nowait())
        self._answer_all([p for p in left if not p.future.done()], Outcome(UNAVAILABLE))

    def idle(self) -> bool:
        """No command waits or is being decided."""
        return self._queue.empty() and not self._busy

    def submit(
        self,
        command: AnyCommand,
        actor: MemberId | None,
        role: Role,
        key: str | None,
        reply: Callable[[Outcome], None] | None = None,
        guard: Guard | None = None,
    ) -> asyncio.Future[Outcome]:
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(Pending(command, actor, role, key, future, reply, guard))
        return future

    async def _loop(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            self._busy = True
            self._current = batch
            try:
                await self._process(batch)
            except Exception:  # pragma: no cover - a bug: answer, keep serving
                log.exception("sitting %s: batch failed", self.sitting)
                self._answer_all(batch, Outcome(UNAVAILABLE))
            finally:
                self._busy = False
                self._current = []

    def _now(self) -> int:
        """Server time, never earlier than the sitting's last event (a clock jumping back
        cannot reorder the record)."""
        return max(self.clock(), self.last_at)

    async def _process(self, batch: list[Pending]) -> None:
        picked = time.perf_counter()
        if self.stale:
            try:
                await self._resync()
            except Exception as err:
                log.warning("sitting %s: the journal cannot be read: %r", self.sitting, err)
                self._answer_all(batch, Outcome(UNAVAILABLE))
                return
        before = self.state
        state = before
        now = self._now()
        commits: list[Commit] = []
        outcomes: list[tuple[Pending, Outcome]] = []
        records: list[Record] = []
        decided: dict[str, Outcome] = {}
        for p in batch:
            digest = command_digest(p.command) if p.key else ""
            known = self._known(p.key, digest, decided)
            if known is not None:
                outcomes.append((p, known))
                continue
            ended = p.guard() if p.guard is not None else None
            if ended is not None:  # the session ended after it was sent: not carried out
                outcomes.append((p, Outcome(Answer(ok=False, code=ended))))
                continue
            ctx = Ctx(actor=p.actor, role=p.role, now=now)
            try:
                step = execute(state, p.command, ctx)
            except ChamberError as err:
                outcome = Outcome(
                    Answer(ok=False, code=err.code, params=dict(err.params), digest=digest)
                )
                answers = [(p.key, msgspec.msgpack.encode(outcome.answer))] if p.key else []
                if answers:
                    commits.append(Commit(answers=answers))
            else:
                state = step.state
                seq = (step.records[0].seq, step.records[-1].seq) if step.records else None
                answer = Answer(ok=True, seq=seq, digest=digest)
                outcome = Outcome(answer, _ballot_echo(p.command, step))
                stored = [
                    Stored(r.seq, r.hash, b)
                    for r, b in zip(step.records, step.payloads, strict=True)
                ]
                ballots = (
                    [((step.secret.vote, q, o), 1) for q, o in step.secret.answers.items()]
                    if step.secret is not None
                    else []
                )
                answers = [(p.key, msgspec.msgpack.encode(answer))] if p.key else []
                if stored or answers or ballots:
                    commits.append(Commit(records=stored, answers=answers, ballots=ballots))
                records.extend(step.records)
            if p.key:
                decided[p.key] = outcome
            outcomes.append((p, outcome))
        deciding_done = time.perf_counter()
        if commits:
            try:
                await self.journal.append(self.sitting, commits)
            except Exception as err:
                log.warning("sitting %s: journal append failed: %r", self.sitting, err)
                self.stale = True
                self.state = before
                self._answer_all(batch, Outcome(UNAVAILABLE))
                return
        if self.on_stages is not None:
            self.on_stages([p.received for p in batch], picked, deciding_done, time.perf_counter())
        self.state = state
        self.batch_sizes.append(len(batch))
        if records:
            self.recent.extend(records)
            self.last_at = records[-1].at
        for key, outcome in decided.items():
            self.answers[key] = msgspec.msgpack.encode(outcome.answer)
        for p, outcome in outcomes:
            resolve(p, outcome)
        if records and state is not None:
            self.on_commit(records, state, batch)

    def _known(self, key: str | None, digest: str, decided: dict[str, Outcome]) -> Outcome | None:
        """The answer already given to this key, if any; a refusal if the key answered
        another command (a client reusing an id must not get that command's answer)."""
        if key is None:
            return None
        if key in decided:
            answer = decided[key].answer
        else:
            raw = self.answers.get(key)
            if raw is None:
                return None
            answer = _answer_decoder.decode(raw)
        if answer.digest and answer.digest != digest:
            client_id = key.partition("/")[2]
            return Outcome(Answer(ok=False, code="command.id_reused", params={"id": client_id}))
        return Outcome(answer, replayed=True)

    def _answer_all(self, batch: list[Pending], outcome: Outcome) -> None:
        for p in batch:
            resolve(p, outcome)


def resolve(p: Pending, outcome: Outcome) -> None:
    if p.reply is not None:
        p.reply(outcome)
    if not p.future.done():
        p.future.set_result(outcome)


def _ballot_echo(command: AnyCommand, step: Any) -> dict[str, str] | None:
    if not isinstance(command, c.CastBallot) or not step.records:
        return None
    if step.secret is not None:
        return dict(step.secret.answers)
    answers = step.records[0].event.answers
    return dict(answers) if answers is not None else None
