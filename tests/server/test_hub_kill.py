"""Kill -9 the hub during a vote storm, restart it: every acknowledged ballot is in the
log exactly once, and every client resumes without a gap or a duplicate."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgspec
import pytest

from chamber import commands as c
from chamber import verify_export
from chamber.ids import APPROVE, REJECT
from server.client import Ack, Client, login
from tests.server.conftest import SCALE, SITTING, HubProcess

VOTERS = 24


@pytest.fixture(scope="module")
def killable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    h = HubProcess(tmp_path_factory.mktemp("killable"))
    h.start(demo=True)
    yield h
    h.stop()


async def test_acknowledged_ballots_survive_kill_9_exactly_once(killable: HubProcess) -> None:
    hub = killable
    tokens = await asyncio.gather(
        *(login(hub.url, f"db{i:02d}", hub.logins[f"db{i:02d}"]) for i in range(1, VOTERS + 1))
    )
    clients = [Client(hub.url, SITTING, tok, binary=i % 3 != 0) for i, tok in enumerate(tokens)]
    watcher = Client(hub.url, SITTING)  # a gallery screen through all of it
    for client in [*clients, watcher]:
        await client.connect()
    chair = clients[0]
    await asyncio.gather(*(cl.command(c.CheckIn(), id="check-in") for cl in clients))
    await chair.command(c.OpenSitting(), id="open")
    await chair.command(c.StartSitting(), id="start")
    motion = next(iter(chair.state.motions))  # type: ignore[union-attr]
    acked: dict[str, list[str]] = {}

    for round_no, kill_after in enumerate((1, VOTERS // 2, VOTERS - 2)):
        opened = await chair.command(
            c.OpenVote(motion=motion, duration_s=600), id=f"open-vote-{round_no}"
        )
        assert opened.seq is not None
        await asyncio.gather(*(cl.wait_seq(opened.seq[1]) for cl in clients))
        vote = chair.state.open_vote().id  # type: ignore[union-attr]
        tasks = [
            asyncio.ensure_future(
                cl.command(
                    c.CastBallot(vote=vote, choice=APPROVE if i % 4 else REJECT),
                    id=f"ballot-{round_no}",
                    timeout=60 * SCALE,
                )
            )
            for i, cl in enumerate(clients)
        ]
        done: list[Ack] = []
        for next_done in asyncio.as_completed(tasks):
            done.append(await next_done)
            if len(done) == kill_after:
                hub.kill()  # SIGKILL: no chance to flush anything
                await asyncio.to_thread(hub.start)
        acks = await asyncio.gather(*tasks)
        assert len(acks) == VOTERS and all(a.seq is not None for a in acks)
        acked[vote] = [f"db{i + 1:02d}" for i in range(VOTERS)]
        await chair.command(c.CloseVote(vote=vote), id=f"close-{round_no}")

    async with httpx.AsyncClient() as http:
        exported = (await http.get(f"{hub.url}/api/sittings/{SITTING}/log")).content
    assert verify_export(exported).ok
    records = msgspec.json.decode(exported)["records"]
    ballots = Counter(
        (r["event"]["vote"], r["event"]["member"])
        for r in records
        if r["event"]["type"] == "ballot.cast"
    )
    for vote, members in acked.items():
        for member in members:
            assert ballots[(vote, member)] == 1, (vote, member)
    closed = [r["event"] for r in records if r["event"]["type"] == "vote.closed"]
    assert len(closed) == 3
    assert all(e["result"]["ballots"] == VOTERS for e in closed)
    # Every client resumed from where it was: no gap, no duplicate, the same last seq.
    last = records[-1]["seq"]
    for client in [*clients, watcher]:
        await client.wait_seq(last, timeout=20 * SCALE)
        assert client.violations == []
        assert client.reconnects >= 3
        seqs = [s for s, _ in client.events]
        assert seqs == sorted(set(seqs))
    # A retried command id got its original answer, not a second application.
    again = await clients[5].command(c.CheckIn(), id="check-in")
    assert again.seq is not None and again.seq[1] < last
    for client in [*clients, watcher]:
        await client.close()


def test_the_journal_files_exist(killable: HubProcess) -> None:
    assert Path(killable.data, "journal.sqlite3").exists()
