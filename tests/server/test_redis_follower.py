"""A follower and the relay, in one process on a real `redis-server`: node B follows the
sitting node A sequences (the same state, seq for seq, secret counts included), forwards
commands with their key (answered once, as A would), refuses a forwarded command whose
role the member does not hold (A checks it again), answers `server.unavailable` when no
owner answers in time, decides what it was forwarding once it takes the sitting over, and
stops following a sitting no client of its watches."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from chamber import Record, Sitting
from chamber import commands as c
from chamber.ids import APPROVE, REJECT, Role, VoteForm
from server.config import Config
from server.follower import Follower
from server.relay import Relay
from tests.chamber.play import m
from tests.redis_process import RedisProcess
from tests.server.test_redis_failover import (
    SITTING,
    Node,
    schedule_and_open_a_vote,
    start_node,
    until,
)

pytestmark = pytest.mark.redis


@pytest.fixture
async def nodes(
    redis_server: RedisProcess, tmp_path: Path
) -> AsyncIterator[Callable[[str, float], object]]:
    async with AsyncExitStack() as stack:

        async def start(name: str, timeout_s: float = 3.0, keep: bool = True) -> Node:
            return await start_node(
                stack,
                redis_server.url,
                name,
                Config(data=tmp_path / name),
                keep,
                lambda journal: {"relay": Relay(journal, timeout_s)},
            )

        yield start


async def test_a_follower_tracks_the_owner_and_forwards_commands(nodes) -> None:  # type: ignore[no-untyped-def]
    a: Node = await nodes("a")
    b: Node = await nodes("b", keep=False)
    await schedule_and_open_a_vote(a)  # a named vote; closed below, then a secret one
    follower = await b.hub.served(SITTING)
    assert isinstance(follower, Follower) and SITTING not in b.hub.sequencers
    seen: list[int] = []
    publish = follower.on_records  # the room's publish

    def published(records: list[Record], state: Sitting) -> None:
        seen.extend(r.seq for r in records)
        publish(records, state)

    follower.on_records = published
    start = follower.seq()
    vote = a.hub.state(SITTING).open_vote().id  # type: ignore[union-attr]
    first = await b.hub.submit(
        SITTING, c.CastBallot(vote=vote, choice=APPROVE), m(2), Role.DELEGATE, "m2/x"
    )
    again = await b.hub.submit(
        SITTING, c.CastBallot(vote=vote, choice=APPROVE), m(2), Role.DELEGATE, "m2/x"
    )
    assert first.answer.ok and first.ballot is not None and again.answer == first.answer
    # A checks the role again: m(3) is no chair in A's state, whatever B sent.
    refused = await b.hub.submit(SITTING, c.CloseVote(vote=vote), m(3), Role.CHAIR, "m3/y")
    assert not refused.answer.ok and refused.answer.code.startswith("permission"), refused
    await a.ok(c.CloseVote(vote=vote), m(1), Role.CHAIR)
    motion = next(iter(a.hub.state(SITTING).motions))  # type: ignore[union-attr]
    opened = await b.hub.submit(
        SITTING, c.OpenVote(motion=motion, form=VoteForm.SECRET), m(1), Role.CHAIR, "m1/s"
    )
    assert opened.answer.ok, opened
    secret = a.hub.state(SITTING).open_vote().id  # type: ignore[union-attr]
    for i in range(2, 8):
        choice = APPROVE if i % 3 else REJECT
        await a.ok(c.CastBallot(vote=secret, choice=choice), m(i), Role.DELEGATE)
    owner = a.hub.state(SITTING)
    assert owner is not None
    await until(lambda: follower.seq() == owner.seq, 5)
    assert follower.state == owner  # the secret counts too: read from the box
    assert seen == list(range(start + 1, owner.seq + 1))  # each seq published once, in order
    # No client watches it on B: the keeper's second reap stops following it.
    await b.keeper.tick()
    await b.keeper.tick()
    assert SITTING not in b.hub.followers and SITTING not in b.hub.rooms


async def test_a_forwarded_command_unanswered_is_unavailable_not_a_hang(nodes) -> None:  # type: ignore[no-untyped-def]
    a: Node = await nodes("a")
    b: Node = await nodes("b", 0.3, keep=False)
    await schedule_and_open_a_vote(a)
    await b.hub.served(SITTING)
    for task in list(a.hub._consumers.values()):  # A reads no forwarded command any more
        task.cancel()
    vote = a.hub.state(SITTING).open_vote().id  # type: ignore[union-attr]
    loop = asyncio.get_running_loop()
    started = loop.time()
    outcome = await b.hub.submit(
        SITTING, c.CastBallot(vote=vote, choice=APPROVE), m(2), Role.DELEGATE, "m2/z"
    )
    assert outcome.answer.code == "server.unavailable"
    assert loop.time() - started < 1.0


async def test_a_node_that_takes_over_decides_what_it_was_forwarding(nodes) -> None:  # type: ignore[no-untyped-def]
    a: Node = await nodes("a")
    b: Node = await nodes("b", 10.0)
    await schedule_and_open_a_vote(a)
    await b.hub.served(SITTING)
    vote = a.hub.state(SITTING).open_vote().id  # type: ignore[union-attr]
    await a.die()  # it reads no forwarded command; its lease expires
    loop = asyncio.get_running_loop()
    started = loop.time()
    outcome = await b.hub.submit(
        SITTING, c.CastBallot(vote=vote, choice=APPROVE), m(2), Role.DELEGATE, "m2/t"
    )
    assert outcome.answer.ok, outcome  # decided by B once it held the lease, not at 10 s
    assert SITTING in b.hub.sequencers and loop.time() - started < 6
