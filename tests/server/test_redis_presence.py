"""Presence of remote members across the nodes of a cluster, in one process on a real
`redis-server`: each node shares its connections per member (server/presence.py) and the
sitting's owner decides "left" on the union. A member connected through another node
stays present when its connections to one node end and when the owner changes; one whose
last connection (on any node) ends is marked left after the grace period; a dead node's
connections stop counting once its counts expire."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from chamber.ids import MemberId, Presence
from server.config import Config
from server.presence import SharedPresence
from server.relay import Relay
from tests.chamber.play import m
from tests.redis_process import RedisProcess
from tests.server.conftest import SCALE
from tests.server.test_redis_failover import (
    SITTING,
    Node,
    schedule_and_open_a_vote,
    start_node,
    until,
)

pytestmark = pytest.mark.redis
GRACE_S = 1.0
TTL_MS = 1500


@pytest.fixture
async def nodes(redis_server: RedisProcess, tmp_path: Path) -> AsyncIterator[Callable[..., object]]:
    async with AsyncExitStack() as stack:

        async def start(name: str, keep: bool = True) -> Node:
            # keep=False: a node that never takes the sitting (the test sweeps its presence)
            return await start_node(
                stack,
                redis_server.url,
                name,
                Config(data=tmp_path / name, presence_grace_s=GRACE_S),
                keep,
                lambda journal: {
                    "relay": Relay(journal, 5.0),
                    "shared": SharedPresence(journal, name, TTL_MS),
                },
            )

        yield start


@contextlib.asynccontextmanager
async def sweeping(node: Node) -> AsyncIterator[None]:
    """Renew the node's counts as its keeper would, without it taking any sitting.
    Stopped by a flag, not by cancelling: a cancel that lands inside a redis-py command
    was seen swallowed (the loop went on, and the test hung on it)."""
    stop = asyncio.Event()

    async def run() -> None:
        while not stop.is_set():
            await node.hub.sweep()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.25)

    task = asyncio.create_task(run())
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


def presence(node: Node, member: MemberId) -> Presence | None:
    state = node.hub.state(SITTING)
    return None if state is None else state.attendance.get(member)


async def joined(through: Node, owner: Node, member: MemberId) -> None:
    await through.hub.served(SITTING)  # as a connection's hello does
    await through.hub.member_connected(SITTING, member, remote=True)
    await until(lambda: presence(owner, member) is Presence.REMOTE, 10 * SCALE)


async def test_a_member_connected_through_another_node_stays_present(nodes) -> None:  # type: ignore[no-untyped-def]
    a: Node = await nodes("a")
    b: Node = await nodes("b", keep=False)
    await schedule_and_open_a_vote(a)
    async with sweeping(b):
        await joined(b, a, m(21))  # through B only
        await joined(a, a, m(22))  # through both: its connection to B ends
        await joined(b, a, m(22))
        b.hub.member_disconnected(SITTING, m(22))
        await asyncio.sleep(3 * GRACE_S)
        assert presence(a, m(21)) is Presence.REMOTE
        assert presence(a, m(22)) is Presence.REMOTE  # B let it go: A still holds it
        # The owner dies; a third node takes the sitting over. It gives the remote
        # members the grace period, and keeps those connected elsewhere.
        await a.die()
        c: Node = await nodes("c")
        await until(lambda: SITTING in c.hub.sequencers, 10 * SCALE)
        await asyncio.sleep(3 * GRACE_S + 2 * TTL_MS / 1000)
        assert presence(c, m(21)) is Presence.REMOTE
        # m22's only connection died with A: it stopped counting, and m22 left.
        assert presence(c, m(22)) is Presence.LEFT


async def test_a_member_whose_last_connection_ends_is_left_after_the_grace(nodes) -> None:  # type: ignore[no-untyped-def]
    a: Node = await nodes("a")
    b: Node = await nodes("b", keep=False)
    await schedule_and_open_a_vote(a)
    async with sweeping(b):
        await joined(b, a, m(23))
        await asyncio.sleep(GRACE_S)
        b.hub.member_disconnected(SITTING, m(23))
        took = await until(lambda: presence(a, m(23)) is Presence.LEFT, 10 * SCALE)
        assert took >= GRACE_S * 0.95  # not before the grace period


async def test_a_dead_nodes_connections_stop_counting_after_their_ttl(nodes) -> None:  # type: ignore[no-untyped-def]
    a: Node = await nodes("a")
    b: Node = await nodes("b", keep=False)
    await schedule_and_open_a_vote(a)
    async with sweeping(b):
        await joined(b, a, m(24))
        await asyncio.sleep(GRACE_S)
    # B stops renewing (as if killed): its connection still counts until its TTL.
    took = await until(lambda: presence(a, m(24)) is Presence.LEFT, 10 * SCALE)
    assert took >= GRACE_S + TTL_MS / 2000
    assert presence(a, m(24)) is Presence.LEFT
