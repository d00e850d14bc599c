"""Failover storm: two hub nodes on one `redis-server` (and one data folder, for the
registry). In each trial the node that sequences the sitting (the lease holder) is
SIGKILLed at a random instant while ballots are in flight; the other node takes the
sitting over, the clients (who know both addresses) reconnect to it and re-send their
unanswered ballots with the same ids; the killed node is started again as a standby. The
checks are tests/load/kill_storm.py's: no acknowledged ballot lost, none doubled, the log
verifies, every client resumed without a gap or a duplicate. Reported: the counts and the
time from the kill until the other node holds the lease. tests/server/ runs a few trials
in `make test`; `make bench` runs

    python tests/load/failover_storm.py [--trials 20] [--seed 7]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from server.client import Closed  # noqa: E402
from tests.load.kill_storm import QuickClient, Storm  # noqa: E402
from tests.redis_process import RedisProcess  # noqa: E402
from tests.server.conftest import SCALE, SITTING, HubProcess  # noqa: E402

LEASE_KEY = "nt:{" + SITTING + "}:lease"


class Node(HubProcess):
    """A hub process whose log is its own, beside others on the same data folder."""

    @property
    def log(self) -> Path:
        return self.data / f"hub-{self.port}.log"


class RotatingClient(QuickClient):
    """A client that knows every node: each connection attempt tries them in turn (a
    node that does not sequence the sitting refuses the hello with 1013)."""

    def __init__(self, urls: list[str], token: str | None, binary: bool) -> None:
        super().__init__(urls[0], SITTING, token, binary=binary)
        self.urls = [u.replace("http", "ws", 1).rstrip("/") + "/ws" for u in urls]
        self.turn = 0

    async def connect(self) -> None:
        failure: Exception = Closed(1013)
        for _ in self.urls:
            self.url = self.urls[self.turn % len(self.urls)]
            self.turn += 1
            try:
                await super().connect()
                return
            except (OSError, Closed, TimeoutError) as err:
                failure = err
        raise failure


class Cluster:
    """Redis and two nodes; quacks like the HubProcess that Storm drives."""

    def __init__(self, folder: Path) -> None:
        self.redis = RedisProcess(folder / "redis")
        env = {"NGHITRUONG_JOURNAL": self.redis.url}
        self.nodes = [Node(folder / "data", env), Node(folder / "data", env)]

    def start(self) -> None:
        self.redis.start()
        self.nodes[0].start(demo=True)
        self.nodes[1].start()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        self.redis.stop()

    @property
    def logins(self) -> dict[str, str]:
        return self.nodes[0].logins

    @property
    def url(self) -> str:
        return self.owner().url

    def owner(self, timeout_s: float = 30.0) -> Node:
        """The node that holds the sitting's lease (waiting while nobody does)."""
        deadline = time.monotonic() + timeout_s * SCALE
        with redis.Redis(port=self.redis.port) as r:
            while True:
                held = r.get(LEASE_KEY)
                pid = int(held.split(b"/")[1]) if held else None
                for node in self.nodes:
                    alive = node.proc is not None and node.proc.poll() is None
                    if alive and node.proc.pid == pid:  # type: ignore[union-attr]
                        return node
                if time.monotonic() > deadline:
                    raise TimeoutError(f"nobody holds {LEASE_KEY}: {held!r}")
                time.sleep(0.01)


class FailoverStorm(Storm):
    def __init__(self, cluster: Cluster, seed: int) -> None:
        self.cluster = cluster
        self.takeover_s: list[float] = []
        self._standby: asyncio.Future[object] | None = None
        self._owner = cluster.nodes[0]
        super().__init__(cluster, seed)  # type: ignore[arg-type]

    def client(self, token: str | None, binary: bool = True) -> QuickClient:
        return RotatingClient([n.url for n in self.cluster.nodes], token, binary)

    async def trial(self, n: int) -> None:
        if self._standby is not None:  # the node killed last time is back, as a standby
            await self._standby
            self._standby = None
        self._owner = await asyncio.to_thread(self.cluster.owner)
        await super().trial(n)

    async def crash(self) -> None:
        """Kill the owner; return once the other node holds the lease; start the killed
        one again in the background."""
        owner = self._owner
        owner.kill()
        killed = time.monotonic()
        await asyncio.to_thread(self.cluster.owner)  # the survivor, once it holds the lease
        self.takeover_s.append(time.monotonic() - killed)
        self._standby = asyncio.ensure_future(asyncio.to_thread(owner.start))

    async def finish(self) -> None:
        if self._standby is not None:
            await self._standby
        await super().finish()

    def line(self) -> str:
        took, k = sorted(self.takeover_s), self.counts
        return (
            f"failover storm (2 nodes, 1 Redis): {k.trials} trials, {k.acked} acked ballots "
            f"({k.acked_before_kill} before the kill), {k.in_flight} in flight at the kill, "
            f"{k.unsent} sent while the owner was dead, lost={k.lost}, doubled={k.doubled}; "
            f"lease taken over {took[len(took) // 2]:.2f}s (median), {took[-1]:.2f}s (max) "
            "after the kill"
        )


async def failover_storm(cluster: Cluster, trials: int, seed: int) -> FailoverStorm:
    run = FailoverStorm(cluster, seed)
    await run.setup()
    for n in range(trials):
        await run.trial(n)
    await run.finish()
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="failover-storm-") as tmp:
        cluster = Cluster(Path(tmp))
        cluster.start()
        try:
            run = asyncio.run(failover_storm(cluster, args.trials, args.seed))
        finally:
            cluster.stop()
        print(run.line())
    return 0 if run.counts.lost == run.counts.doubled == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
