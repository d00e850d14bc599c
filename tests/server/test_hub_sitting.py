"""A full sitting through the Python client over real sockets: the chair, 30 delegates
and 3 gallery screens; every client converges to the same seq and state."""

from __future__ import annotations

import asyncio

import httpx
import msgspec

from chamber import commands as c
from chamber.ids import ABSTAIN, APPROVE, REJECT, Phase, TurnKind, VoteForm
from chamber.projection import Audience, project_state
from server.client import Client, CommandRefused, login
from tests.server.conftest import SCALE, SITTING, HubProcess


async def test_a_whole_sitting_with_chair_delegates_and_gallery(hub: HubProcess) -> None:
    tokens = await asyncio.gather(
        *(login(hub.url, f"db{i:02d}", hub.logins[f"db{i:02d}"]) for i in range(1, 31))
    )
    delegates = [Client(hub.url, SITTING, tok, binary=i % 2 == 0) for i, tok in enumerate(tokens)]
    gallery = [Client(hub.url, SITTING, None, binary=i != 1) for i in range(3)]
    try:
        await _sitting(hub, delegates, gallery)
    finally:  # a failed step leaves no socket open for a later test to trip on
        await asyncio.gather(*(client.close() for client in [*delegates, *gallery]))


async def _sitting(hub: HubProcess, delegates: list[Client], gallery: list[Client]) -> None:
    chair = delegates[0]
    for client in [*delegates, *gallery]:
        await client.connect()
    assert chair.welcome["audience"] == "chair" and delegates[5].welcome["audience"] == "delegate"
    assert gallery[0].welcome["audience"] == "public" and gallery[0].welcome["member"] is None

    # Attendance: 28 check in, two stay away.
    await asyncio.gather(*(d.command(c.CheckIn()) for d in delegates[:28]))
    await chair.command(c.OpenSitting())
    await chair.command(c.StartSitting())

    # A speaker turn.
    await delegates[7].command(c.RequestFloor(kind=TurnKind.CONTRIBUTION))
    ack = await chair.command(c.GrantNext())
    assert ack.seq is not None
    # The ack comes before the events frame that carries the grant (docs/protocol.md): the
    # chair's own state has the turn only once that frame is read too.
    await asyncio.gather(gallery[0].wait_seq(ack.seq[1]), chair.wait_seq(ack.seq[1]))
    assert [t.speaker for t in gallery[0].state.turns.values()] == ["db08"]  # type: ignore[union-attr]
    turn = next(iter(chair.state.turns))  # type: ignore[union-attr]
    await chair.command(c.EndTurn(turn=turn))

    motion = next(iter(chair.state.motions))  # type: ignore[union-attr]
    # A named vote: 20 for, 5 against, 3 not voting.
    opened = await chair.command(c.OpenVote(motion=motion, preset="resolution"))
    await delegates[3].wait_seq(opened.seq[1])  # type: ignore[index]
    vote = delegates[3].state.open_vote().id  # type: ignore[union-attr]
    choices = [APPROVE] * 20 + [REJECT] * 5 + [ABSTAIN] * 3
    acks = await asyncio.gather(
        *(
            d.command(c.CastBallot(vote=vote, choice=ch))
            for d, ch in zip(delegates, choices, strict=False)
        )
    )
    assert all(a.ballot == {motion: ch} for a, ch in zip(acks, choices, strict=False))
    try:
        await delegates[29].command(c.CastBallot(vote=vote, choice=APPROVE))
        raise AssertionError("an absent member voted")
    except CommandRefused as refused:
        assert refused.code == "member.not_present"
        assert "điểm danh" in refused.message
    await chair.command(c.CloseVote(vote=vote))

    # A secret vote.
    opened = await chair.command(
        c.OpenVote(motion=motion, preset="resolution", form=VoteForm.SECRET)
    )
    await delegates[4].wait_seq(opened.seq[1])  # type: ignore[index]
    secret = delegates[4].state.open_vote().id  # type: ignore[union-attr]
    acks = await asyncio.gather(
        *(d.command(c.CastBallot(vote=secret, choice=APPROVE)) for d in delegates[:16])
    )
    assert acks[3].ballot == {motion: APPROVE}  # the voter's own ballot, shown back
    await asyncio.sleep(0.6 * SCALE)  # a conflated view reaches the gallery
    assert gallery[2].view is not None and gallery[2].view["vote"]["ballots"] == 16
    assert gallery[2].view["vote"]["counts"] is None
    last = await chair.command(c.CloseVote(vote=secret))
    closed = await chair.command(c.CloseSitting())
    assert last.seq is not None and closed.seq is not None
    final = closed.seq[1]
    assert final > last.seq[1]

    for client in [*delegates, *gallery]:
        await client.wait_seq(final, timeout=10 * SCALE)
        assert client.violations == []
    states = {d.seq for d in [*delegates, *gallery]}
    assert states == {final}
    results = [v.result for v in gallery[1].state.votes.values()]  # type: ignore[union-attr]
    named, hidden = results[-2], results[-1]
    assert named is not None and hidden is not None
    assert named.outcomes[0].counts == {APPROVE: 20, REJECT: 5, ABSTAIN: 3} and named.passed
    assert named.roll_call is not None and named.roll_call["db08"] == {motion: APPROVE}
    assert hidden.outcomes[0].counts[APPROVE] == 16 and hidden.passed and hidden.roll_call is None
    assert gallery[0].state.phase is Phase.CLOSED  # type: ignore[union-attr]
    # The gallery's state is the public projection of the hub's.
    async with httpx.AsyncClient() as http:
        public = (await http.get(f"{hub.url}/api/sittings/{SITTING}")).json()
    ours = msgspec.to_builtins(gallery[0].state)
    theirs = msgspec.to_builtins(msgspec.convert(public, type(gallery[0].state)))
    ours.pop("head"), theirs.pop("head")  # event frames carry no hashes: the log export does
    assert ours == theirs
    mine = project_state(chair.state, Audience.PUBLIC)  # type: ignore[arg-type]
    assert mine.phase is Phase.CLOSED
