"""The hub in process, over a real SQLite journal: what a restart must put right, and what a
refused command must leave behind (nothing)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from chamber import commands as c
from chamber.ids import APPROVE, MemberId, Presence, Role, VoteForm
from chamber.model import AgendaItem
from server.config import Config
from server.hub import Hub, UnknownSitting
from server.journal import Commit, SqliteJournal
from server.metrics import Metrics
from tests.chamber.play import T0, council, m

SITTING = "s1"
DOC = "d" * 64


def clock() -> int:
    return T0


@pytest.fixture
async def hubs(tmp_path: Path) -> AsyncIterator[Callable[..., object]]:
    """Start hubs on one data folder, one after the other, as restarts do."""
    started: list[tuple[Hub, SqliteJournal]] = []

    async def start(**config: object) -> Hub:
        if started:
            hub, journal = started.pop()
            await hub.stop()
            await journal.close()
        journal = SqliteJournal(tmp_path)
        await journal.open()
        hub = Hub(journal, Config(data=tmp_path, **config), Metrics(), clock=clock)  # type: ignore[arg-type]
        await hub.start()
        started.append((hub, journal))
        return hub

    yield start
    for hub, journal in started:
        await hub.stop()
        await journal.close()


async def ok(hub: Hub, command: c.AnyCommand, actor: MemberId | None, role: Role) -> None:
    outcome = await hub.submit(SITTING, command, actor, role, None)
    assert outcome.answer.ok, outcome.answer


async def schedule(hub: Hub) -> None:
    agenda = (AgendaItem(id="i1", title="Nghị quyết"),)  # type: ignore[arg-type]
    await ok(
        hub,
        c.ScheduleSitting(
            sitting=SITTING, council=council(30), title="Kỳ họp", scheduled_at=T0, agenda=agenda
        ),
        None,
        Role.OPERATOR,
    )


async def test_a_refused_schedule_leaves_no_sitting_behind(hubs) -> None:  # type: ignore[no-untyped-def]
    hub = await hubs()
    command = c.ScheduleSitting(sitting="x", council=council(3), title="?", scheduled_at=T0)
    outcome = await hub.submit("x", command, m(2), Role.DELEGATE, None)
    assert not outcome.answer.ok and outcome.answer.code == "permission.denied"
    assert "x" not in hub.sequencers and "x" not in hub.rooms
    with pytest.raises(UnknownSitting):
        await hub.sequencer("x")


async def test_remote_members_get_the_grace_period_again_after_a_restart(hubs) -> None:  # type: ignore[no-untyped-def]
    hub = await hubs()
    await schedule(hub)
    await ok(hub, c.JoinRemote(), m(7), Role.DELEGATE)
    await ok(hub, c.JoinRemote(), m(8), Role.DELEGATE)
    await ok(hub, c.CheckIn(), m(9), Role.DELEGATE)
    # The process dies with m07's and m08's links; m08 comes back within the grace period.
    hub = await hubs(presence_grace_s=0.3)
    await hub.member_connected(SITTING, m(8), remote=True)
    await asyncio.sleep(0.6)
    attendance = hub.state(SITTING).attendance  # type: ignore[union-attr]
    assert attendance[m(7)] is not Presence.REMOTE  # gone: they never came back
    assert attendance[m(8)] is Presence.REMOTE
    assert attendance[m(9)] is Presence.IN_HALL


async def test_a_finished_secret_votes_counters_do_not_survive_a_restart(hubs) -> None:  # type: ignore[no-untyped-def]
    hub = await hubs()
    await schedule(hub)
    for i in range(1, 21):
        await ok(hub, c.CheckIn(), m(i), Role.DELEGATE)
    await ok(hub, c.OpenSitting(), m(1), Role.CHAIR)
    await ok(hub, c.StartSitting(), m(1), Role.CHAIR)
    await ok(hub, c.RegisterDocument(hash=DOC, title="Dự thảo", pages=1), None, Role.OPERATOR)
    await ok(hub, c.ProposeMotion(title="Nghị quyết", doc=DOC), m(1), Role.CHAIR)
    state = hub.state(SITTING)
    assert state is not None
    motion = next(iter(state.motions))
    await ok(hub, c.OpenVote(motion=motion, form=VoteForm.SECRET), m(1), Role.CHAIR)
    vote = hub.state(SITTING).open_vote().id  # type: ignore[union-attr]
    for i in range(2, 6):
        await ok(hub, c.CastBallot(vote=vote, choice=APPROVE), m(i), Role.DELEGATE)
    assert await hub.journal.ballot_box(SITTING)
    await ok(hub, c.CloseVote(vote=vote), m(1), Role.CHAIR)
    await asyncio.gather(*hub._background)  # the drop the close set off
    assert await hub.journal.ballot_box(SITTING) == {}
    # As if the process died before its background drop ran: the counters are still there.
    question = next(iter(hub.state(SITTING).votes[vote].counts))  # type: ignore[union-attr]
    await hub.journal.append(SITTING, [Commit(ballots=[((vote, question, APPROVE), 4)])])
    assert await hub.journal.ballot_box(SITTING)
    hub = await hubs()
    assert await hub.journal.ballot_box(SITTING) == {}
    closed = hub.state(SITTING).votes[vote]  # type: ignore[union-attr]
    assert closed.result is not None and closed.result.ballots == 4  # the record stands
    assert closed.counts[question][APPROVE] == 4
