"""Kill -9 storm: the hub is killed at random instants while ballots are in flight, and
restarted on the same data folder; each trial checks that no acknowledged ballot is lost
or doubled, that the log verifies, and that every client resumed without a gap or a
duplicate. tests/server/test_hub_kill.py runs 20 trials in `make test`; `make bench` runs

    python tests/load/kill_storm.py [--trials 200] [--seed 7] [--voters 24]

Each trial opens a named vote; each delegate casts its ballot after a delay drawn from a
seeded RNG within SPREAD_S, and the hub is SIGKILLed after another delay drawn from the
same RNG between the first send and shortly after the last (not after some acknowledgement), so some
ballots are acknowledged, some are in flight (sent, no answer yet) and some are not sent
yet when it dies. Clients reconnect and re-send their unanswered ballots with the same
command ids."""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import msgspec

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from chamber import commands as c  # noqa: E402
from chamber import verify_export  # noqa: E402
from chamber.ids import APPROVE, REJECT  # noqa: E402
from server.client import Ack, Client, login  # noqa: E402
from tests.server.conftest import SCALE, SITTING, HubProcess  # noqa: E402

VOTERS = 24
SPREAD_S = 0.06  # the ballots of a trial are sent within this window
AFTER_S = 0.03  # and the kill may come this long after the last send


class QuickClient(Client):
    """A Client whose reconnect back-off stops at 0.25 s instead of 2 s: the hub is known
    to come back within a second or two, and each trial waits for every client."""

    max_backoff_s = 0.25


@dataclass
class Counts:
    trials: int = 0
    acked: int = 0  # ballots acknowledged (before the kill or after the restart)
    acked_before_kill: int = 0
    in_flight: int = 0  # sent and not yet answered at the kill instant
    unsent: int = 0  # not yet sent at the kill instant (sent while the hub was down)
    lost: int = 0  # acknowledged, not in the log
    doubled: int = 0  # in the log more than once
    restart_s: list[float] = field(default_factory=list)

    def line(self) -> str:
        restart = sorted(self.restart_s)
        median = restart[len(restart) // 2] if restart else 0.0
        return (
            f"kill -9 storm: {self.trials} trials, {self.acked} acked ballots "
            f"({self.acked_before_kill} before the kill), {self.in_flight} in flight at the "
            f"kill, {self.unsent} sent while down, lost={self.lost}, doubled={self.doubled}, "
            f"restart median {median:.2f}s"
        )


class Storm:
    def __init__(self, hub: HubProcess, seed: int, voters: int = VOTERS) -> None:
        self.hub, self.rng, self.voters = hub, random.Random(seed), voters
        self.clients: list[QuickClient] = []
        self.watcher = self.client(None)  # a gallery screen through all of it
        self.motion = ""
        self.counts = Counts()

    def client(self, token: str | None, binary: bool = True) -> QuickClient:
        return QuickClient(self.hub.url, SITTING, token, binary=binary)

    async def crash(self) -> None:
        """SIGKILL at a random instant (no chance to flush anything), then start again."""
        self.hub.kill()
        await asyncio.to_thread(self.hub.start)

    async def setup(self) -> None:
        hub = self.hub
        names = [f"db{i:02d}" for i in range(1, self.voters + 1)]
        # One at a time: 24 Argon2 checks at once can outlast httpx's 5 s on a busy machine.
        tokens = [await login(hub.url, n, hub.logins[n]) for n in names]
        self.clients = [self.client(tok, binary=i % 3 != 0) for i, tok in enumerate(tokens)]
        for client in [*self.clients, self.watcher]:
            await client.connect()
        chair = self.clients[0]
        await asyncio.gather(*(cl.command(c.CheckIn(), id="check-in") for cl in self.clients))
        await chair.command(c.OpenSitting(), id="open")
        await chair.command(c.StartSitting(), id="start")
        self.motion = next(iter(chair.state.motions))  # type: ignore[union-attr]

    async def trial(self, n: int) -> None:
        chair, counts, timeout = self.clients[0], self.counts, 60 * SCALE
        opened = await chair.command(
            c.OpenVote(motion=self.motion, duration_s=3600), id=f"open-vote-{n}", timeout=timeout
        )
        assert opened.seq is not None
        await asyncio.gather(*(cl.wait_seq(opened.seq[1], timeout) for cl in self.clients))
        vote = chair.state.open_vote().id  # type: ignore[union-attr]
        offsets = [self.rng.uniform(0, SPREAD_S) for _ in self.clients]
        kill_at = self.rng.uniform(min(offsets), max(offsets) + AFTER_S)
        sent: set[int] = set()
        acked: set[int] = set()

        async def cast(i: int, client: Client) -> Ack:
            await asyncio.sleep(offsets[i])
            sent.add(i)
            ack = await client.command(
                c.CastBallot(vote=vote, choice=APPROVE if i % 4 else REJECT),
                id=f"ballot-{n}",
                timeout=timeout,
            )
            acked.add(i)
            return ack

        tasks = [asyncio.ensure_future(cast(i, cl)) for i, cl in enumerate(self.clients)]
        await asyncio.sleep(kill_at)
        before, flying, unsent = len(acked), len(sent - acked), self.voters - len(sent)
        started = time.monotonic()
        await self.crash()
        counts.restart_s.append(time.monotonic() - started)
        acks = await asyncio.gather(*tasks)
        assert all(a.seq is not None for a in acks)
        closed = await chair.command(c.CloseVote(vote=vote), id=f"close-{n}", timeout=timeout)
        assert closed.seq is not None
        counts.trials += 1
        counts.acked += len(acks)
        counts.acked_before_kill += before
        counts.in_flight += flying
        counts.unsent += unsent
        await self.check(vote, closed.seq[1])

    async def check(self, vote: str, last: int) -> None:
        async with httpx.AsyncClient(timeout=30 * SCALE) as http:
            exported = (await http.get(f"{self.hub.url}/api/sittings/{SITTING}/log")).content
        result = verify_export(exported)
        assert result.ok, result
        records = msgspec.json.decode(exported)["records"]
        events = [r["event"] for r in records]
        ballots = Counter((e["vote"], e["member"]) for e in events if e["type"] == "ballot.cast")
        mine = {m: k for (v, m), k in ballots.items() if v == vote}
        lost = sum(1 for i in range(self.voters) if mine.get(f"db{i + 1:02d}", 0) == 0)
        doubled = sum(k - 1 for k in ballots.values() if k > 1)
        self.counts.lost += lost
        self.counts.doubled += doubled
        (close,) = [e for e in events if e["type"] == "vote.closed" and e["vote"] == vote]
        assert (lost, doubled) == (0, 0), self.counts.line()
        assert close["result"]["ballots"] == self.voters, close["result"]
        assert records[-1]["seq"] == last
        # Every client resumed from where it was: no gap, no duplicate, the same last seq.
        for client in [*self.clients, self.watcher]:
            await client.wait_seq(last, timeout=30 * SCALE)
            assert client.violations == [], client.violations
            seqs = [s for s, _ in client.events]
            assert seqs == sorted(set(seqs))

    async def finish(self) -> None:
        # A retried command id got its original answer, not a second application.
        again = await self.clients[5].command(c.CheckIn(), id="check-in")
        assert again.seq is not None and again.seq[1] < self.clients[5].seq
        for client in [*self.clients, self.watcher]:
            assert client.reconnects >= self.counts.trials
            await client.close()


async def storm(
    hub: HubProcess, trials: int, seed: int, report: Callable[[str], None] = print
) -> Counts:
    run = Storm(hub, seed)
    await run.setup()
    for n in range(trials):
        await run.trial(n)
        if (n + 1) % 20 == 0 or n + 1 == trials:
            report(f"  after trial {n + 1}: {run.counts.line()}")
    await run.finish()
    return run.counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kill-storm-") as tmp:
        hub = HubProcess(Path(tmp))
        hub.start(demo=True)
        started = time.monotonic()
        try:
            counts = asyncio.run(storm(hub, args.trials, args.seed))
        finally:
            hub.stop()
        print(f"{counts.line()} in {time.monotonic() - started:.0f}s")
    return 0 if counts.lost == counts.doubled == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
