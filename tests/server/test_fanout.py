"""Fan-out in memory: what each audience is sent, frame by frame, with no socket.

A ballot storm must not cost every screen one frame per group commit: a batch a
connection sees nothing of becomes a quiet range, told in one empty frame, and the frames
a client gets still cover every seq exactly once, in order. Nor may it cost the hub a
step per screen: such a batch is handed only to the connections that see something of it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from chamber import Record
from chamber import commands as c
from chamber.ids import APPROVE, REJECT, MemberId
from chamber.projection import Audience
from server import fanout
from server.fanout import PACE_PUBLIC_FROM, Conn, Room
from server.protocol import CODECS, JSON
from tests.chamber.play import m
from tests.chamber.test_voting import last, motion, setup

CODEC = CODECS[JSON]


class Watched(Conn):
    """A connection that counts the frames it was handed."""

    handed = 0

    def push(self, first: int, to_seq: int, data: bytes) -> None:
        self.handed += 1
        super().push(first, to_seq, data)


def conn(audience: Audience, member: MemberId | None = None) -> Watched:
    async def send(data: bytes) -> None:
        raise AssertionError("no writer runs in these tests")

    async def close(code: int) -> None:
        raise AssertionError("nobody is closed here")

    return Watched(send, close, CODEC, audience, member, limit=256, stall_s=10)


def frames(c_: Conn) -> list[dict[str, Any]]:
    return [msgspec.json.decode(data) for _, data in c_.frames]


def covered(sent: list[dict[str, Any]], start: int) -> int:
    """The frames cover (start, end] contiguously; returns end."""
    at = start
    for f in sent:
        assert f["t"] == "events" and f["from"] == at, (f, at)
        at = f["to"]
    return at


async def test_a_ballot_storm_reaches_screens_as_quiet_ranges_and_voters_see_their_own() -> None:
    p = setup(present=25)
    p.do(c.OpenVote(motion=motion(p)))
    vote = last(p).id
    room = Room("s1", lambda: p.state, view_hz=4)
    gallery, chair, voter, other = (
        conn(Audience.PUBLIC),
        conn(Audience.CHAIR, m(1)),
        conn(Audience.DELEGATE, m(5)),
        conn(Audience.DELEGATE, m(24)),
    )
    for x in (gallery, chair, voter, other):
        room.add(x)
        x.view = None  # the view a connection is sent as it joins: not under test here
    await room.stop()
    start = p.s.seq
    for i in range(4, 12):  # eight group commits of one ballot each
        before = len(p.records)
        p.as_delegate(i, c.CastBallot(vote=vote, choice=APPROVE))
        records: list[Record] = p.records[before:]
        room.publish(records, p.s)

    # The gallery and the delegate who did not vote were not even handed a frame ...
    assert gallery.handed == other.handed == 0
    assert gallery.frames == other.frames == type(gallery.frames)()
    assert gallery.at == other.at == start
    # ... the chair saw every ballot, the voter its own, in frames that cover every seq.
    assert len(chair.frames) == 8 and covered(frames(chair), start) == p.s.seq
    mine = frames(voter)
    told = covered(mine, start)
    assert voter.at == told < p.s.seq  # the others' ballots after its own: quiet
    assert [ev["event"]["member"] for f in mine for ev in f["events"]] == [m(5)]

    # The view tick tells the quiet ones in one empty frame each.
    room.send_views()
    for x in (gallery, other):
        (told,) = frames(x)
        assert (told["from"], told["to"], told["events"]) == (start, p.s.seq, [])
        assert x.view is not None and msgspec.json.decode(x.view)["vote"]["ballots"] == 8

    # A quiet range is told before the next frame the connection does see.
    p.as_delegate(20, c.CastBallot(vote=vote, choice=APPROVE))
    room.publish(p.records[-1:], p.s)
    p.do(c.CloseVote(vote=vote))
    room.publish(p.records[-1:], p.s)
    sent = frames(gallery)
    assert covered(sent, start) == p.s.seq
    assert sent[-2]["events"] == [] and sent[-1]["events"][0]["event"]["type"] == "vote.closed"


async def test_a_screen_that_joins_mid_vote_is_sent_the_ballots_cast_at_once() -> None:
    p = setup(present=25)
    p.do(c.OpenVote(motion=motion(p)))
    for i in range(4, 9):
        p.as_delegate(i, c.CastBallot(vote=last(p).id, choice=APPROVE))
    room = Room("s1", lambda: p.state, view_hz=4)
    screen = conn(Audience.PUBLIC)
    room.add(screen)
    await room.stop()
    assert screen.view is not None
    view = msgspec.json.decode(screen.view)
    assert (view["seq"], view["present"], view["vote"]["ballots"]) == (p.s.seq, 25, 5)
    # The hall's running count of a named vote (on by default), never who voted.
    assert view["vote"]["counts"] == {motion(p): {"approve": 5, "reject": 0, "abstain": 0}}
    assert view["vote"]["voted"] is None


async def test_a_resync_drops_every_covered_frame_even_behind_an_answer() -> None:
    p = setup(present=25)
    room = Room("s1", lambda: p.state, view_hz=4)
    sent: list[dict[str, Any]] = []

    async def send(data: bytes) -> None:
        sent.append(msgspec.json.decode(data))

    async def close(code: int) -> None:
        raise AssertionError("not closed")

    delegate = Conn(send, close, CODEC, Audience.DELEGATE, m(5), limit=2, stall_s=10)
    room.add(delegate)
    delegate.view = None
    await room.stop()
    start = p.s.seq
    for i in range(3):  # three visible batches; the queue holds two, so it must resync
        before = len(p.records)
        p.as_delegate(20 + i, c.Leave())
        room.publish(p.records[before:], p.s)
        if i == 0:
            delegate.push_now(b'{"t":"ack","id":"x","seq":null,"ballot":null}')
    assert delegate.resync
    delegate.closed = False
    task = asyncio.create_task(delegate.run(room.snapshot))
    await asyncio.sleep(0.01)
    delegate.closed = True
    delegate.wake.set()
    await task
    kinds = [f["t"] for f in sent]
    assert kinds[0] == "snapshot" and sent[0]["seq"] == p.s.seq > start
    # Nothing at or below the snapshot's seq follows it; the answer does; then the view.
    assert all(f["to"] > p.s.seq for f in sent if f["t"] == "events")
    assert kinds[1:] == ["ack", "view"]


async def test_the_ballot_that_completes_the_tally_is_shown_without_the_throttle() -> None:
    p = setup(present=6, n=6)
    p.do(c.OpenVote(motion=motion(p), preset="majority_cast"))
    vote = last(p).id
    room = Room("s1", lambda: p.state, view_hz=0.5)  # a view every two seconds at most
    screen = conn(Audience.PUBLIC)
    room.add(screen)

    def ballots_shown() -> int:
        assert screen.view is not None
        return int(msgspec.json.decode(screen.view)["vote"]["ballots"])

    try:
        for i in range(1, 7):
            before = len(p.records)
            p.as_delegate(i, c.CastBallot(vote=vote, choice=APPROVE))
            room.publish(p.records[before:], p.s)
            await asyncio.sleep(0.05)
            # The first ballot goes out at once (leading edge); the next ones wait ...
            assert ballots_shown() == (1 if i < 6 else 6)
        # ... but the sixth, which completes the tally of the six present, did not.
        before = len(p.records)
        p.as_delegate(2, c.CastBallot(vote=vote, choice=REJECT))  # a change: throttled again
        room.publish(p.records[before:], p.s)
        await asyncio.sleep(0.05)
        assert screen.view is not None and screen.at < p.s.seq
    finally:
        await room.stop()


async def test_public_events_to_many_screens_are_written_in_order_in_slices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A public event to a large gallery is written by the room's pacer, yielding the loop
    between slices, not in the commit's callback; the screens get every frame in order,
    a screen that joins meanwhile none it already has, and no view until it is done."""
    p = setup(present=25)
    room = Room("s1", lambda: p.state, view_hz=4)
    screens = [conn(Audience.PUBLIC) for _ in range(PACE_PUBLIC_FROM * 3)]
    for x in screens:
        room.add(x)
        x.view = None
    chair = conn(Audience.CHAIR, m(1))
    room.add(chair)
    chair.view = None
    await room.stop()  # no view ticks: the test sends them
    start = p.s.seq
    p.do(c.OpenVote(motion=motion(p)))
    room.publish(p.records[-1:], p.s)
    p.do(c.CloseVote(vote=last(p).id))
    room.publish(p.records[-1:], p.s)
    # Not one screen was handed a frame in the callbacks; the chair got both at once.
    assert sum(x.handed for x in screens) == 0
    assert covered(frames(chair), start) == p.s.seq
    late = conn(Audience.PUBLIC)
    room.add(late)  # welcomed at the current seq while the frames are still being written
    late.view = None
    room.send_views()  # a tick meanwhile passes the screens by
    assert all(x.view is None for x in screens)
    monkeypatch.setattr(fanout, "VIEW_SLICE_S", 0.0)  # the pacer yields after every write
    for _ in range(len(screens) * 2 + 10):
        await asyncio.sleep(0)
        if room._pacer is not None and room._pacer.done():
            break
    assert room._pacer is not None and room._pacer.done() and not room._paced
    for x in screens:
        sent = frames(x)
        assert covered(sent, start) == p.s.seq
        assert sent[-1]["events"][0]["event"]["type"] == "vote.closed"
    assert late.handed == 0 and late.frames == type(late.frames)()
    room.send_views()
    assert all(x.view is not None for x in screens)


async def test_public_events_that_fail_to_be_written_resync_the_screens_not_reached() -> None:
    p = setup(present=25)
    room = Room("s1", lambda: p.state, view_hz=4)
    screens = [conn(Audience.PUBLIC) for _ in range(PACE_PUBLIC_FROM)]
    for x in screens:
        room.add(x)
        x.view = None
    await room.stop()
    broken = screens[len(screens) // 2]

    def fail(first: int, to_seq: int, data: bytes) -> None:
        raise RuntimeError("a bug")

    broken.push = fail  # type: ignore[method-assign]
    p.do(c.OpenVote(motion=motion(p)))
    room.publish(p.records[-1:], p.s)
    assert room._pacer is not None
    await asyncio.gather(room._pacer)
    reached = [x for x in screens if x.at == p.s.seq]
    behind = [x for x in screens if x.at < p.s.seq]
    assert reached and behind and broken in behind
    assert all(x.resync for x in behind) and not any(x.resync for x in reached)
    assert not room._paced
