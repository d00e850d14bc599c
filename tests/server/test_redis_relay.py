"""Any node serves any sitting: two real hub processes on one `redis-server`. Node A
sequences the sitting; node B follows its log and forwards its clients' commands to A
(server/relay.py, server/follower.py). Delegates on B vote and get their acks; galleries
on both nodes get every seq once, in order, and the same tally; an HTTP command sent to
B is decided by A. Then A is paused past its lease: B takes the sitting over and its
clients go on without a gap; A, resumed, steps down into a follower and keeps its
gallery connected."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from chamber import commands as c
from chamber.ids import APPROVE, REJECT
from server.client import Client, CommandRefused, login
from tests.load.failover_storm import Node
from tests.redis_process import RedisProcess
from tests.server.conftest import SCALE, SITTING, operator_token
from tests.server.test_redis_nodes import add_item, log_of

pytestmark = [pytest.mark.redis, pytest.mark.slow]

VOTERS = 24


def seqs_once_in_order(client: Client, upto: int) -> None:
    """Each frame began where the client was (the client checks: GapError otherwise),
    no seq came twice, and the client is at ``upto`` (a gallery is not sent a named
    vote's ballots while it is open: the frames' ranges still cover their seqs)."""
    seqs = [s for s, _e in client.events]
    assert client.violations == []
    assert seqs == sorted(set(seqs)), seqs
    assert client.seq == upto


async def vote_round(chair: Client, voters: list[Client], motion: str, n: int) -> list[float]:
    timeout = 20 * SCALE
    opened = await chair.command(
        c.OpenVote(motion=motion, duration_s=3600), id=f"open-{n}", timeout=timeout
    )
    assert opened.seq is not None
    await asyncio.gather(*(v.wait_seq(opened.seq[1], timeout) for v in voters))
    vote = chair.state.open_vote().id  # type: ignore[union-attr]
    took: list[float] = []

    async def cast(i: int, voter: Client) -> None:
        started = time.perf_counter()
        ack = await voter.command(
            c.CastBallot(vote=vote, choice=APPROVE if i % 3 else REJECT),
            id=f"ballot-{n}",
            timeout=timeout,
        )
        took.append(time.perf_counter() - started)
        assert ack.seq is not None

    await asyncio.gather(*(cast(i, v) for i, v in enumerate(voters)))
    closed = await chair.command(c.CloseVote(vote=vote), id=f"close-{n}", timeout=timeout)
    assert closed.seq is not None
    return took


async def scenario(a: Node, b: Node, capsys: pytest.CaptureFixture[str]) -> None:
    names = [f"db{i:02d}" for i in range(1, VOTERS + 1)]
    tokens = [await login(b.url, n, a.logins[n]) for n in names]
    voters = [Client(b.url, SITTING, tok, binary=i % 2 == 0) for i, tok in enumerate(tokens)]
    gallery_b, gallery_a = Client(b.url, SITTING), Client(a.url, SITTING, binary=False)
    clients = [*voters, gallery_b, gallery_a]
    try:
        for client in clients:
            await client.connect()
        chair = voters[0]
        await asyncio.gather(*(v.command(c.CheckIn(), id="check-in") for v in voters))
        await chair.command(c.OpenSitting(), id="open")
        await chair.command(c.StartSitting(), id="start")
        motion = next(iter(chair.state.motions))  # type: ignore[union-attr]
        took = await vote_round(chair, voters, motion, 1)
        last = chair.state.seq  # type: ignore[union-attr]
        await asyncio.gather(*(g.wait_seq(last, 10 * SCALE) for g in (gallery_a, gallery_b)))
        for g in (gallery_a, gallery_b):
            seqs_once_in_order(g, last)
        assert gallery_a.events == gallery_b.events
        tally = gallery_a.state.votes  # type: ignore[union-attr]
        assert gallery_b.state.votes == tally  # type: ignore[union-attr]
        closed = next(v for v in tally.values() if v.status.value == "closed")
        assert sum(sum(per.values()) for per in closed.counts.values()) == VOTERS, closed.counts
        took.sort()
        with capsys.disabled():
            print(
                f"\nballots through B, decided by A: ack p50 {took[len(took) // 2] * 1000:.1f} ms,"
                f" max {took[-1] * 1000:.1f} ms ({VOTERS} at once)"
            )
        # A paused past its lease: B takes over, its clients go on, no seq lost or twice.
        assert a.proc is not None
        os.kill(a.proc.pid, signal.SIGSTOP)
        paused = time.monotonic()
        while True:  # unavailable until B holds the lease; sent again with the same id
            try:
                ack = await chair.command(
                    c.OpenVote(motion=motion, duration_s=3600), id="open-2", timeout=30 * SCALE
                )
                break
            except CommandRefused as refused:
                assert refused.code == "server.unavailable"
                assert time.monotonic() - paused < 20 * SCALE
        with capsys.disabled():
            print(f"B answered a command {time.monotonic() - paused:.2f} s after A was paused")
        assert ack.seq is not None
        await asyncio.gather(*(cl.wait_seq(ack.seq[1], 10 * SCALE) for cl in (chair, gallery_b)))
        seqs_once_in_order(gallery_b, ack.seq[1])
        os.kill(a.proc.pid, signal.SIGCONT)
        cancelled = await chair.command(
            c.CancelVote(vote=chair.state.open_vote().id),  # type: ignore[union-attr]
            id="cancel-2",
            timeout=20 * SCALE,
        )
        assert cancelled.seq is not None
        # A's gallery: A stepped down into a follower; the gallery saw every seq once.
        await gallery_a.wait_seq(cancelled.seq[1], 20 * SCALE)
        seqs_once_in_order(gallery_a, cancelled.seq[1])
        seqs_once_in_order(gallery_b, cancelled.seq[1])
        assert all(v.reconnects == 0 for v in voters) and gallery_b.reconnects == 0
        with capsys.disabled():
            print(f"A's gallery reconnected {gallery_a.reconnects} times")
    finally:
        for client in clients:
            await client.close()


def test_any_node_serves_the_sitting(
    two_nodes: tuple[RedisProcess, Node, Node], capsys: pytest.CaptureFixture[str]
) -> None:
    redis, a, b = two_nodes
    token = operator_token(a)
    status, body = add_item(b, token)  # B does not sequence the sitting: A decides it
    assert status == 200 and body["ok"], body
    asyncio.run(scenario(a, b, capsys))
    events = log_of(redis)  # verified: gap-free, hash-chained, one branch
    assert events.count("agenda.added") == 1
    assert events.count("ballot.cast") == VOTERS
