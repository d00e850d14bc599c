"""Nodes on one Redis, in one process (each with its own connection, lease and keeper):
one sequencer per sitting, a paused owner's stale append refused, takeover of a dead
owner's sitting within 3 s with its timers re-armed, and a Redis killed and restarted from
its AOF under a running hub."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chamber import commands as c
from chamber.ids import APPROVE, MemberId, Role
from chamber.log import load, verify
from chamber.model import AgendaItem
from server.cluster import Keeper
from server.config import Config
from server.hub import Hub, NotOwner
from server.journal.lease import Leases
from server.journal.redis import RedisJournal
from server.metrics import Metrics
from server.sequencer import Outcome
from tests.chamber.play import council, m
from tests.redis_process import RedisProcess

pytestmark = pytest.mark.redis
SITTING = "s1"
DOC = "d" * 64
TAKEOVER_S = 3.0


@dataclass
class Node:
    name: str
    journal: RedisJournal
    leases: Leases
    hub: Hub
    keeper: Keeper

    async def submit(self, command: c.AnyCommand, actor: MemberId | None, role: Role) -> Outcome:
        return await self.hub.submit(SITTING, command, actor, role, None)

    async def ok(self, command: c.AnyCommand, actor: MemberId | None, role: Role) -> None:
        outcome = await self.submit(command, actor, role)
        assert outcome.answer.ok, outcome.answer

    async def die(self) -> None:
        """As kill -9 would: no renewal, no release, nothing more written."""
        await self.keeper.stop()
        for seq in self.hub.sequencers.values():
            await seq.stop()
        await self.journal.close()


async def start_node(
    stack: AsyncExitStack,
    redis_url: str,
    name: str,
    config: Config,
    keep: bool = True,
    options: Callable[[RedisJournal], dict[str, Any]] = lambda journal: {},
) -> Node:
    """A hub node in this process on the test's Redis (its lease 2 s), stopped with
    ``stack``; its keeper running unless not ``keep`` (the test ticks it then);
    ``options``: more of the hub's arguments, made with the node's journal."""
    journal = RedisJournal(redis_url)
    await journal.open()
    stack.push_async_callback(journal.close)
    leases = Leases(journal, ttl_ms=2000, node=name)
    hub = Hub(journal, config, Metrics(), claims=leases, **options(journal))
    await hub.start()
    stack.push_async_callback(hub.stop)
    keeper = Keeper(hub, journal, leases)
    if keep:
        await keeper.start()
        stack.push_async_callback(keeper.stop)
    return Node(name, journal, leases, hub, keeper)


@pytest.fixture
async def nodes(
    redis_server: RedisProcess, tmp_path: Path
) -> AsyncIterator[Callable[[str], object]]:
    async with AsyncExitStack() as stack:

        async def start(name: str) -> Node:
            return await start_node(stack, redis_server.url, name, Config(data=tmp_path / name))

        yield start


async def schedule_and_open_a_vote(node: Node, duration_s: int = 600) -> str:
    agenda = (AgendaItem(id="i1", title="Nghị quyết"),)  # type: ignore[arg-type]
    command = c.ScheduleSitting(
        sitting=SITTING, council=council(30), title="Kỳ họp", scheduled_at=0, agenda=agenda
    )
    await node.ok(command, None, Role.OPERATOR)
    for i in range(1, 21):
        await node.ok(c.CheckIn(), m(i), Role.DELEGATE)
    await node.ok(c.OpenSitting(), m(1), Role.CHAIR)
    await node.ok(c.StartSitting(), m(1), Role.CHAIR)
    await node.ok(c.RegisterDocument(hash=DOC, title="Dự thảo", pages=1), None, Role.OPERATOR)
    await node.ok(c.ProposeMotion(title="Nghị quyết", doc=DOC), m(1), Role.CHAIR)
    state = node.hub.state(SITTING)
    assert state is not None
    motion = next(iter(state.motions))
    await node.ok(c.OpenVote(motion=motion, duration_s=duration_s), m(1), Role.CHAIR)
    vote = node.hub.state(SITTING).open_vote()  # type: ignore[union-attr]
    assert vote is not None
    return vote.id


async def one_branch(journal: RedisJournal) -> int:
    """The log in Redis verifies: gap-free, hash-chained, one branch. Its length."""
    records = [load(s.payload, s.hash) for s in await journal.read(SITTING)]
    result = verify(records)
    assert result.ok, result
    return result.count


async def until(check: Callable[[], bool], timeout_s: float) -> float:
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout_s, "timed out"
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def test_one_node_sequences_a_sitting_the_other_refuses_it(nodes) -> None:  # type: ignore[no-untyped-def]
    a: Node = await nodes("a")
    await schedule_and_open_a_vote(a)
    b: Node = await nodes("b")
    await b.keeper.tick()
    assert SITTING in a.hub.sequencers and SITTING not in b.hub.sequencers
    with pytest.raises(NotOwner):
        await b.hub.sequencer(SITTING)
    assert await a.leases.holder(SITTING) == a.journal.leases[SITTING]


async def test_a_dead_owners_sitting_is_taken_over_within_3_s_with_its_timers(
    nodes,  # type: ignore[no-untyped-def]
    capsys: pytest.CaptureFixture[str],
) -> None:
    a: Node = await nodes("a")
    vote = await schedule_and_open_a_vote(a, duration_s=4)
    for i in range(2, 8):
        await a.ok(c.CastBallot(vote=vote, choice=APPROVE), m(i), Role.DELEGATE)
    b: Node = await nodes("b")
    await a.leases.renew(SITTING)  # the worst case: it dies just after renewing
    await a.die()
    took = await until(lambda: b.hub.state(SITTING) is not None, TAKEOVER_S + 2)
    with capsys.disabled():
        print(f"\ntakeover after the owner's death: {took * 1000:.0f} ms")
    assert took < TAKEOVER_S
    state = b.hub.state(SITTING)
    assert state is not None and state.votes[vote].counts  # replayed: the ballots are there
    assert any(k.startswith("vote:") for k in b.hub._timers[SITTING])  # the close is armed
    # The vote's deadline passes: B's timer closes it, with the ballots cast on A.
    await until(lambda: b.hub.state(SITTING).open_vote() is None, 8)  # type: ignore[union-attr]
    result = b.hub.state(SITTING).votes[vote].result  # type: ignore[union-attr]
    assert result is not None and result.ballots == 6
    await one_branch(b.journal)


async def test_a_paused_owners_stale_append_is_refused_and_it_steps_down(nodes) -> None:  # type: ignore[no-untyped-def]
    a: Node = await nodes("a")
    vote = await schedule_and_open_a_vote(a)
    await a.ok(c.CastBallot(vote=vote, choice=APPROVE), m(2), Role.DELEGATE)
    b: Node = await nodes("b")
    await a.keeper.stop()  # paused: it renews nothing, and does not know it
    await until(lambda: b.hub.state(SITTING) is not None, TAKEOVER_S + 2)
    await b.ok(c.CastBallot(vote=vote, choice=APPROVE), m(3), Role.DELEGATE)
    before = await one_branch(b.journal)
    # A wakes up believing it still owns the sitting: its append is refused.
    assert SITTING in a.hub.sequencers
    outcome = await a.submit(c.CastBallot(vote=vote, choice=APPROVE), m(4), Role.DELEGATE)
    assert not outcome.answer.ok and outcome.answer.code == "server.unavailable"
    await until(lambda: SITTING not in a.hub.sequencers, 2)  # it stepped down
    assert await one_branch(b.journal) == before  # nothing of A's was written
    await b.ok(c.CastBallot(vote=vote, choice=APPROVE), m(4), Role.DELEGATE)
    assert await one_branch(b.journal) == before + 1
    assert len(b.hub.state(SITTING).votes[vote].ballots) == 3  # type: ignore[union-attr]


async def test_a_killed_redis_answers_unavailable_and_the_hub_recovers_alone(
    nodes,  # type: ignore[no-untyped-def]
    redis_server: RedisProcess,
) -> None:
    a: Node = await nodes("a")
    vote = await schedule_and_open_a_vote(a)
    await a.ok(c.CastBallot(vote=vote, choice=APPROVE), m(2), Role.DELEGATE)
    redis_server.kill()
    started = time.monotonic()
    outcome = await a.submit(c.CastBallot(vote=vote, choice=APPROVE), m(3), Role.DELEGATE)
    assert not outcome.answer.ok and outcome.answer.code == "server.unavailable"
    assert time.monotonic() - started < 2.0  # an answer, not a hang
    redis_server.start()  # from its AOF
    # Without restarting the hub: the sitting is sequenced again (by the same node, once
    # its lease is renewed or taken again) and takes ballots.
    deadline = time.monotonic() + 10
    while True:
        try:
            outcome = await a.submit(c.CastBallot(vote=vote, choice=APPROVE), m(3), Role.DELEGATE)
        except NotOwner:
            outcome = None
        if outcome is not None and outcome.answer.ok:
            break
        assert time.monotonic() < deadline, outcome
        await asyncio.sleep(0.1)
    assert len(a.hub.state(SITTING).votes[vote].ballots) == 2  # type: ignore[union-attr]
    await one_branch(a.journal)
