"""Chaos: three hub nodes on one `redis-server`, delegates and gallery screens spread over
the nodes round-robin (most of them on nodes that do not sequence the sitting), a named
vote per trial and, at a random instant while its ballots are in flight, one of:

    owner   kill -9 the node that sequences the sitting (another takes it over)
    node    kill -9 a node that does not sequence it (its clients go elsewhere)
    redis   kill -9 redis-server, start it again from its AOF after a random outage

A killed node is started again in the background. Clients re-send an unanswered ballot
with the same id; one answered `server.unavailable` (the owner or Redis is gone) is sent
again after 0.1 s, and counted; every wait is bounded (a hang fails the run). Each trial
checks the record in Redis (tests/load/kill_storm.py's Storm.check: no acknowledged ballot
lost, none doubled, the log verifies, the result counts every voter) and every client:
no gap, no duplicate, and each client of a killed node resumed on another node. Six of
the delegates are remote (present by their connections, with a 3 s grace): none may be
marked left, since each is connected to some node within a second of any kill. Reported:
the counts, the unavailable answers, the takeover, reconnect and recovery times.

    python tests/load/chaos.py [--trials 100] [--seed 7] [--kinds owner,node,redis]

tests/server/test_redis_chaos.py runs 10 trials in `make test`; `make bench` runs 100.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from chamber import commands as c  # noqa: E402
from chamber.events import PresenceChanged  # noqa: E402
from chamber.ids import APPROVE, REJECT  # noqa: E402
from server.client import Ack, CommandRefused, login  # noqa: E402
from tests.load.failover_storm import Cluster, Node, RotatingClient  # noqa: E402
from tests.load.kill_storm import SPREAD_S, Storm  # noqa: E402
from tests.redis_process import RedisProcess  # noqa: E402
from tests.server.conftest import SCALE  # noqa: E402

KINDS = ("owner", "node", "redis")
NODES = 3
SCREENS = 3  # gallery screens, one per node at first
AFTER_S = 0.05  # the kill may come this long after the last ballot is sent
OUTAGE_S = (0.1, 2.5)  # how long Redis stays dead (the lease is 2 s: both sides of it)
RETRY_S = 0.1
GRACE_S = 3  # the nodes' presence grace: a remote delegate moved by a kill is back sooner


def ws(url: str) -> str:
    return url.replace("http", "ws", 1).rstrip("/") + "/ws"


class SpreadClient(RotatingClient):
    """Starts on node ``first`` and, when its node goes, tries the next ones in turn;
    notes when each connection was welcomed."""

    def __init__(self, urls: list[str], first: int, token: str | None, binary: bool) -> None:
        super().__init__(urls, token, binary)
        self.turn = first
        self.welcomed: list[float] = []

    def _handle(self, frame: dict[str, Any]) -> None:
        if frame["t"] == "welcome":  # when it arrives (connect() returns a little later)
            self.welcomed.append(time.monotonic())
        super()._handle(frame)


class Nodes(Cluster):
    """Redis and three nodes on it."""

    def __init__(self, folder: Path, nodes: int = NODES) -> None:
        self.redis = RedisProcess(folder / "redis")
        env = {"NGHITRUONG_JOURNAL": self.redis.url, "NGHITRUONG_PRESENCE_GRACE_S": str(GRACE_S)}
        # A data folder each: the registry and the documents are shared through Redis.
        self.nodes = [Node(folder / f"data-{i}", env) for i in range(nodes)]

    def start(self) -> None:
        self.redis.start()
        self.nodes[0].start(demo=True)
        for node in self.nodes[1:]:
            node.start()


@dataclass
class Figures:
    kinds: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    unavailable: int = 0  # commands answered server.unavailable (sent again)
    takeover_s: list[float] = field(default_factory=list)  # owner killed → lease held
    reconnect_s: list[float] = field(default_factory=list)  # node killed → client back
    recovery_s: list[float] = field(default_factory=list)  # kill → the trial's last ack
    outage_s: list[float] = field(default_factory=list)  # redis killed → answering again
    moved: int = 0  # clients of a killed node that resumed on another
    redis_reconnects: int = 0  # clients that reconnected while Redis was killed (nodes up)


def spread(values: list[float]) -> str:
    if not values:
        return "-"
    v = sorted(values)
    return f"{v[len(v) // 2]:.2f}s median, {v[-1]:.2f}s max"


class Chaos(Storm):
    def __init__(self, cluster: Nodes, seed: int, kinds: tuple[str, ...] = KINDS) -> None:
        self.cluster, self.kinds, self.seed = cluster, kinds, seed
        self.figures = Figures()
        self._restarting: asyncio.Future[object] | None = None
        self._spread = 0
        self.last = 0  # the seq of the last trial's vote.closed
        super().__init__(cluster, seed)  # type: ignore[arg-type]
        self.screens = [self.watcher, *(self.client(None) for _ in range(SCREENS - 1))]

    def client(self, token: str | None, binary: bool = True) -> SpreadClient:
        first, self._spread = self._spread, self._spread + 1
        urls = [n.url for n in self.cluster.nodes]
        return SpreadClient(urls, first % len(urls), token, binary)

    @property
    def everyone(self) -> list[SpreadClient]:
        return [*self.clients, *self.screens]  # type: ignore[list-item]

    async def setup(self) -> None:
        hub = self.cluster
        names = [f"db{i:02d}" for i in range(1, self.voters + 1)]
        tokens = [await login(hub.url, n, hub.logins[n]) for n in names]
        self.clients = [self.client(tok, binary=i % 3 != 0) for i, tok in enumerate(tokens)]
        for i, client in enumerate(self.clients):
            client.remote = i % 4 == 2  # present by their connections, on any node
        for client in self.everyone:
            await client.connect()
        chair = self.clients[0]
        hall = [cl for cl in self.clients if not cl.remote]
        await asyncio.gather(*(self.ask(cl, c.CheckIn(), "check-in") for cl in hall))
        await asyncio.gather(*(self.present(cl) for cl in self.clients if cl.remote))
        joined = {ev.member for _, ev in chair.events if isinstance(ev, PresenceChanged)}
        assert joined >= {cl.welcome["member"] for cl in self.clients if cl.remote}, joined
        await self.ask(chair, c.OpenSitting(), "open")
        await self.ask(chair, c.StartSitting(), "start")
        self.motion = next(iter(chair.state.motions))  # type: ignore[union-attr]

    async def cluster_owner(self) -> Node:
        """The node that holds the sitting's lease now."""
        return await asyncio.to_thread(self.cluster.owner)

    async def present(self, client: SpreadClient) -> None:
        """Wait until a remote delegate's connection has made them present."""
        deadline = time.monotonic() + 30 * SCALE
        member = client.welcome.get("member")
        while client.state is None or client.state.attendance.get(member) != "remote":
            assert time.monotonic() < deadline, f"{member} never became present"
            await asyncio.sleep(0.05)

    async def ask(self, client: SpreadClient, cmd: c.AnyCommand, cid: str) -> Ack:
        """The command's answer, sent again with the same id while the answer is
        `server.unavailable`; every wait bounded (a hang raises TimeoutError)."""
        deadline = time.monotonic() + 60 * SCALE
        while True:
            try:
                return await client.command(cmd, id=cid, timeout=30 * SCALE)
            except CommandRefused as refused:
                if refused.code != "server.unavailable" or time.monotonic() > deadline:
                    raise
                self.figures.unavailable += 1
                await asyncio.sleep(RETRY_S)

    async def trial(self, n: int) -> None:
        if self._restarting is not None:  # the node killed last time is back
            await self._restarting
            self._restarting = None
        owner = await self.cluster_owner()
        kind = self.rng.choice(self.kinds)
        chair, counts, timeout = self.clients[0], self.counts, 60 * SCALE
        opened = await self.ask(chair, c.OpenVote(motion=self.motion, duration_s=3600), f"ov-{n}")
        assert opened.seq is not None
        await asyncio.gather(*(cl.wait_seq(opened.seq[1], timeout) for cl in self.everyone))
        vote = chair.state.open_vote().id  # type: ignore[union-attr]
        offsets = [self.rng.uniform(0, SPREAD_S) for _ in self.clients]
        kill_at = self.rng.uniform(min(offsets), max(offsets) + AFTER_S)
        outage = self.rng.uniform(*OUTAGE_S)
        victim = owner if kind == "owner" else self.rng.choice(
            [x for x in self.cluster.nodes if x is not owner]
        )  # fmt: skip
        sent: set[int] = set()
        acked: set[int] = set()

        async def cast(i: int, client: SpreadClient) -> Ack:
            await asyncio.sleep(offsets[i])
            sent.add(i)
            choice = APPROVE if i % 4 else REJECT
            ack = await self.ask(client, c.CastBallot(vote=vote, choice=choice), f"b-{n}")
            acked.add(i)
            return ack

        tasks = [asyncio.ensure_future(cast(i, cl)) for i, cl in enumerate(self.clients)]
        await asyncio.sleep(kill_at)
        before, flying, unsent = len(acked), len(sent - acked), self.voters - len(sent)
        killed = time.monotonic()
        reconnects = sum(cl.reconnects for cl in self.everyone)
        if kind == "redis":
            await self.kill_redis(outage)
            on_victim: list[SpreadClient] = []
        else:
            on_victim = [cl for cl in self.everyone if cl.url == ws(victim.url)]
            await self.kill_node(victim, owner, killed)
        acks = await asyncio.wait_for(asyncio.gather(*tasks), timeout)
        self.figures.recovery_s.append(time.monotonic() - killed)
        if kind == "redis":
            self.figures.redis_reconnects += sum(cl.reconnects for cl in self.everyone) - reconnects
        assert all(a.seq is not None for a in acks)
        closed = await self.ask(chair, c.CloseVote(vote=vote), f"cv-{n}")
        assert closed.seq is not None
        self.figures.kinds[kind] += 1
        counts.trials += 1
        counts.acked += len(acks)
        counts.acked_before_kill += before
        counts.in_flight += flying
        counts.unsent += unsent
        await self.check(vote, closed.seq[1])  # every client too: no gap, no duplicate
        self.last = closed.seq[1]
        # Remote delegates were connected throughout (moved within a second by a kill,
        # far below the grace): none was marked left, whichever node died.
        left = [
            (s, ev.member)
            for s, ev in self.clients[0].events
            if isinstance(ev, PresenceChanged) and ev.presence == "left"
        ]
        assert left == [], left
        for screen in self.screens[1:]:  # Storm.check looks at the first one
            await screen.wait_seq(closed.seq[1], timeout=30 * SCALE)
            assert screen.violations == [], screen.violations
            seqs = [s for s, _ in screen.events]
            assert seqs == sorted(set(seqs))
        for client in on_victim:  # each resumed on another node, by seq
            back = [t for t in client.welcomed if t > killed]
            assert back and client.url != ws(victim.url), (kind, client.url, victim.url)
            self.figures.reconnect_s.append(back[0] - killed)
            self.figures.moved += 1

    async def kill_node(self, victim: Node, owner: Node, killed: float) -> None:
        victim.kill()
        if victim is owner:  # the time until another node holds the lease
            await asyncio.to_thread(self.cluster.owner)
            self.figures.takeover_s.append(time.monotonic() - killed)
        self._restarting = asyncio.ensure_future(asyncio.to_thread(victim.start))

    async def kill_redis(self, outage: float) -> None:
        started = time.monotonic()
        self.cluster.redis.kill()
        await asyncio.sleep(outage)
        await asyncio.to_thread(self.cluster.redis.start)  # from its AOF, the same port
        self.figures.outage_s.append(time.monotonic() - started)

    async def finish(self) -> None:
        if self._restarting is not None:
            await self._restarting
        again = await self.ask(self.clients[5], c.CheckIn(), "check-in")  # answered once
        assert again.seq is not None and again.seq[1] < self.clients[5].seq
        for client in self.everyone:
            await client.close()

    def line(self) -> str:
        k, f = self.counts, self.figures
        kinds = ", ".join(f"{n} {kind}" for kind, n in f.kinds.items())
        return (
            f"chaos ({len(self.cluster.nodes)} nodes, 1 Redis, seed {self.seed}): "
            f"{k.trials} trials ({kinds}), {k.acked} acked ballots ({k.acked_before_kill} "
            f"before the kill, {k.in_flight} in flight, {k.unsent} sent after it), "
            f"lost={k.lost}, doubled={k.doubled}; {f.unavailable} answers server.unavailable "
            f"(sent again); takeover {spread(f.takeover_s)}; {f.moved} clients moved off a "
            f"killed node, reconnected {spread(f.reconnect_s)}; Redis outage "
            f"{spread(f.outage_s)} ({f.redis_reconnects} clients reconnected); "
            f"all ballots acked {spread(f.recovery_s)} after the kill"
        )


async def chaos(
    cluster: Nodes,
    trials: int,
    seed: int,
    kinds: tuple[str, ...] = KINDS,
    report: Callable[[str], None] = print,
) -> Chaos:
    run = Chaos(cluster, seed, kinds)
    await run.setup()
    try:
        for n in range(trials):
            await run.trial(n)
            if (n + 1) % 10 == 0 and n + 1 < trials:
                report(f"  after trial {n + 1}: {run.line()}")
        await run.finish()
    except BaseException:
        report(f"chaos failed in trial {run.counts.trials + 1}; replay with --seed {seed}")
        for client in run.everyone:  # not left open behind the failure
            with contextlib.suppress(Exception):
                await client.close()
        raise
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--seed", type=int, default=None, help="replay a run (printed)")
    parser.add_argument("--kinds", default=",".join(KINDS), help="owner,node,redis")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    kinds = tuple(k for k in args.kinds.split(",") if k)
    assert set(kinds) <= set(KINDS), kinds
    print(f"chaos: seed {seed} (replay: --seed {seed} --kinds {','.join(kinds)})")
    with tempfile.TemporaryDirectory(prefix="chaos-") as tmp:
        cluster = Nodes(Path(tmp))
        cluster.start()
        started = time.monotonic()
        try:
            run = asyncio.run(chaos(cluster, args.trials, seed, kinds))
        finally:
            cluster.stop()
        print(f"{run.line()} in {time.monotonic() - started:.0f}s")
    return 0 if run.counts.lost == run.counts.doubled == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
