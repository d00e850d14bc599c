"""Rules of the floor as a presiding officer runs it: one speaker at a time unless a second
microphone is opened on purpose, a point of order before the queue and interrupting the
speaker, a time limit set by the chair; requests dropped by a change of item say so; and
agenda items struck while they have no record."""

from __future__ import annotations

import msgspec
import pytest

from chamber import commands as c
from chamber import events as e
from chamber.floor import MAX_TURN_S
from chamber.ids import (
    DocHash,
    ItemId,
    MemberId,
    MotionId,
    Occupied,
    Role,
    TurnKind,
    TurnStatus,
    Withdrawal,
)
from chamber.log import Entry, canonical, verify
from chamber.model import Guest
from tests.chamber.play import Play, m
from tests.chamber.test_floor import ev, refused, turn_of

S = 1000
REPORT, BUDGET = ItemId("i-report"), ItemId("i-budget")
PC_CHAIR = MemberId("g-ubnd")
DOC = DocHash("d" * 64)


@pytest.fixture
def p() -> Play:
    play = Play()
    play.open_and_start(25)
    return play


def kinds(p: Play) -> list[tuple[MemberId, TurnKind]]:
    return [(r.member, r.kind) for r in p.s.item_queue()]


# The queue: points of order first


def test_a_point_of_order_goes_before_other_requests_after_earlier_points_of_order(
    p: Play,
) -> None:
    poo, talk = TurnKind.POINT_OF_ORDER, TurnKind.CONTRIBUTION
    p.as_delegate(5, c.RequestFloor())
    p.as_delegate(6, c.RequestFloor(kind=TurnKind.DEBATE_REPLY))
    step = p.as_delegate(7, c.RequestFloor(kind=poo))
    first = ev(step)[0]
    assert isinstance(first, e.FloorRequested) and first.position == 0
    p.as_delegate(8, c.RequestFloor(kind=poo))
    p.as_delegate(9, c.RequestFloor())
    assert kinds(p) == [
        (m(7), poo),
        (m(8), poo),
        (m(5), talk),
        (m(6), TurnKind.DEBATE_REPLY),
        (m(9), talk),
    ]
    # Only points of order waiting: the next one goes last, as any request would.
    p2 = Play()
    p2.open_and_start(25)
    p2.as_delegate(7, c.RequestFloor(kind=poo))
    step = p2.as_delegate(8, c.RequestFloor(kind=poo))
    last = ev(step)[0]
    assert isinstance(last, e.FloorRequested) and last.position is None
    assert [r.member for r in p2.s.item_queue()] == [m(7), m(8)]


def test_next_speaker_is_the_point_of_order(p: Play) -> None:
    p.as_delegate(5, c.RequestFloor())
    p.as_delegate(7, c.RequestFloor(kind=TurnKind.POINT_OF_ORDER))
    p.do(c.GrantNext())
    (only,) = p.s.turns.values()
    assert (only.speaker, only.kind, only.limit_ms) == (m(7), TurnKind.POINT_OF_ORDER, 60 * S)


# One speaker at a time


def test_granting_while_someone_speaks_is_refused_without_saying_what_to_do(p: Play) -> None:
    p.do(c.GrantFloor(speaker=m(5)))
    t5 = turn_of(p, 5)
    p.as_delegate(7, c.RequestFloor(kind=TurnKind.POINT_OF_ORDER))
    rid = p.s.queue[0].id
    occupied: dict[str, object] = {"speaker": "m05", "turn": t5}
    refused(p, lambda: p.do(c.GrantFloor(request=rid)), "floor.occupied", occupied)
    refused(p, lambda: p.do(c.GrantNext()), "floor.occupied", occupied)
    refused(p, lambda: p.do(c.GrantFloor(speaker=m(6))), "floor.occupied", occupied)
    p.do(c.OpenRound(respondent=m(2)))
    rnd = next(iter(p.s.rounds))
    refused(p, lambda: p.do(c.AnswerRound(round=rnd)), "floor.occupied", occupied)
    # A paused speaker does not hold the floor.
    p.do(c.PauseTurn(turn=t5))
    p.do(c.GrantFloor(speaker=m(6)))
    refused(
        p,
        lambda: p.do(c.ResumeTurn(turn=t5)),
        "floor.occupied",
        {"speaker": "m06", "turn": turn_of(p, 6)},
    )


def test_a_point_of_order_interrupts_the_speaker_who_resumes_afterwards(p: Play) -> None:
    p.do(c.GrantFloor(speaker=m(5)))  # 7 min
    t5 = turn_of(p, 5)
    p.tick(100)
    p.as_delegate(7, c.RequestFloor(kind=TurnKind.POINT_OF_ORDER))
    rid = p.s.queue[0].id
    step = p.do(c.GrantFloor(request=rid, occupied=Occupied.PAUSE))
    paused, started = ev(step)
    assert paused == e.TurnPaused(turn=t5, elapsed_ms=100 * S, remaining_ms=320 * S)
    assert isinstance(started, e.TurnStarted) and started.request == rid
    assert started.turn.id == f"t{p.s.seq}"  # numbered after the pause
    statuses = {t.speaker: t.status for t in p.s.turns.values()}
    assert statuses == {m(5): TurnStatus.PAUSED, m(7): TurnStatus.SPEAKING}
    p.tick(40)
    p.do(c.EndTurn(turn=turn_of(p, 7)))
    p.tick(5)
    assert ev(p.do(c.ResumeTurn(turn=t5))) == [e.TurnResumed(turn=t5, deadline=p.now + 320 * S)]
    p.tick(20)
    p.do(c.EndTurn(turn=t5))
    assert p.s.speaking_ms == {m(5): 120 * S, m(7): 40 * S}


def test_resuming_one_speaker_can_pause_another(p: Play) -> None:
    p.do(c.GrantFloor(speaker=m(5)))
    t5 = turn_of(p, 5)
    p.do(c.GrantFloor(speaker=m(6), occupied=Occupied.PAUSE))
    t6 = turn_of(p, 6)
    p.tick(10)
    step = p.do(c.ResumeTurn(turn=t5, occupied=Occupied.PAUSE))
    assert [type(x) for x in ev(step)] == [e.TurnPaused, e.TurnResumed]
    assert {t.id: t.status for t in p.s.turns.values()} == {
        t5: TurnStatus.SPEAKING,
        t6: TurnStatus.PAUSED,
    }
    # With nobody else speaking, the choice changes nothing.
    p.do(c.PauseTurn(turn=t5))
    assert [type(x) for x in ev(p.do(c.ResumeTurn(turn=t6, occupied=Occupied.PAUSE)))] == [
        e.TurnResumed
    ]


def test_a_second_microphone_is_opened_deliberately(p: Play) -> None:
    p.do(c.GrantFloor(speaker=m(5)))
    step = p.do(c.GrantFloor(speaker=m(6), occupied=Occupied.SECOND_MIC))
    assert [type(x) for x in ev(step)] == [e.TurnStarted]
    assert all(t.status is TurnStatus.SPEAKING for t in p.s.turns.values())
    refused(
        p,
        lambda: p.do(c.GrantFloor(speaker=m(7), occupied=Occupied.SECOND_MIC)),
        "floor.mics_full",
        {"limit": 2},
    )
    # Pausing both for a third speaker is the chair's to decide.
    step = p.do(c.GrantFloor(speaker=m(7), occupied=Occupied.PAUSE))
    assert [type(x) for x in ev(step)] == [e.TurnPaused, e.TurnPaused, e.TurnStarted]


# Giving the floor with a kind and a time limit


def test_the_floor_is_given_to_a_guest_with_a_kind_and_a_limit(p: Play) -> None:
    p.do(c.AddGuest(guest=Guest(id=PC_CHAIR, name="Chủ tịch UBND phường")))
    step = p.do(c.GrantFloor(speaker=PC_CHAIR, kind=TurnKind.EXPLANATION, limit_s=1500))
    (started,) = ev(step)
    assert isinstance(started, e.TurnStarted)
    t = started.turn
    assert (t.speaker, t.kind, t.limit_ms, t.deadline) == (
        PC_CHAIR,
        TurnKind.EXPLANATION,
        1500 * S,
        p.now + 1500 * S,
    )
    p.do(c.EndTurn(turn=t.id))
    # A queued request granted with a limit keeps its kind, with the chair's limit.
    p.as_delegate(5, c.RequestFloor(kind=TurnKind.DEBATE_REPLY))
    p.do(c.GrantFloor(request=p.s.queue[0].id, limit_s=90))
    t5 = p.s.turns[turn_of(p, 5)]
    assert (t5.kind, t5.limit_ms) == (TurnKind.DEBATE_REPLY, 90 * S)


@pytest.mark.parametrize("seconds", [0, -1, MAX_TURN_S + 1])
def test_a_limit_is_bounded(p: Play, seconds: int) -> None:
    refused(
        p,
        lambda: p.do(c.GrantFloor(speaker=m(5), limit_s=seconds)),
        "floor.bad_limit",
        {"seconds": seconds, "max": MAX_TURN_S},
    )


# Requests that leave the queue say why


def test_moving_to_another_item_drops_its_requests_and_says_why(p: Play) -> None:
    p.as_delegate(5, c.RequestFloor())
    p.as_delegate(6, c.RequestFloor(kind=TurnKind.POINT_OF_ORDER))
    r6, r5 = (r.id for r in p.s.queue)  # the point of order first
    step = p.do(c.MoveToItem(item=BUDGET))
    item_changed = Withdrawal.ITEM_CHANGED
    assert ev(step) == [
        e.RequestWithdrawn(request=r6, member=m(6), reason=item_changed),
        e.RequestWithdrawn(request=r5, member=m(5), reason=item_changed),
        e.CurrentItemChanged(item=BUDGET),
    ]
    assert p.s.queue == ()
    p.do(c.MoveToItem(item=REPORT))
    assert p.s.item_queue() == ()


def test_a_record_written_before_the_reason_verifies_unchanged() -> None:
    old = (
        b'{"at":1,"event":{"member":"m05","request":"r9","type":"floor.withdrawn"},'
        b'"seq":2,"sitting":"s"}'
    )
    entry = msgspec.json.decode(old, type=Entry)
    assert entry.event == e.RequestWithdrawn(request="r9", member="m05")  # type: ignore[arg-type]
    assert canonical(entry) == old
    requested = (
        b'{"at":1,"event":{"request":{"at":1,"id":"r9","item":"i","kind":"contribution",'
        b'"member":"m05","note":"","round":null},"type":"floor.requested"},"seq":2,"sitting":"s"}'
    )
    assert canonical(msgspec.json.decode(requested, type=Entry)) == requested


def test_the_log_of_the_new_rules_replays_and_verifies(p: Play) -> None:
    p.do(c.GrantFloor(speaker=m(5)))
    p.as_delegate(7, c.RequestFloor(kind=TurnKind.POINT_OF_ORDER))
    p.do(c.GrantNext(occupied=Occupied.PAUSE))
    p.do(c.MoveToItem(item=BUDGET))
    assert verify(p.records).ok


# Striking an item from the agenda


def test_an_item_without_a_record_is_removed_with_its_motions_and_documents_kept(
    p: Play,
) -> None:
    p.do(c.AddItem(title="Miễn nhiệm"))
    extra = p.s.agenda[-1].id
    p.do(c.RegisterDocument(hash=DOC, title="Tờ trình", item=extra))
    p.do(c.ProposeMotion(title="Nghị quyết miễn nhiệm", doc=DOC, item=extra))
    p.do(c.ProposeMotion(title="Nghị quyết khác", doc=DOC))  # on the current item
    fallen = MotionId(next(k for k, v in p.s.motions.items() if v.item == extra))
    assert ev(p.do(c.RemoveItem(item=extra))) == [e.ItemRemoved(item=extra, motions=(fallen,))]
    assert [i.id for i in p.s.agenda] == [REPORT, BUDGET]
    assert fallen not in p.s.motions and len(p.s.motions) == 1
    assert p.s.documents[DOC].item is None  # the document stays with the sitting
    refused(p, lambda: p.do(c.RemoveItem(item=extra)), "agenda.unknown_item", {"item": extra})
    refused(
        p,
        lambda: p.do(c.ProposeMotion(title="x", doc=DOC, item=extra)),
        "agenda.unknown_item",
        {"item": extra},
    )


def test_items_are_removed_before_the_sitting_by_the_secretary() -> None:
    p = Play()
    p.do(c.RemoveItem(item=BUDGET), m(3), Role.SECRETARY)
    assert [i.id for i in p.s.agenda] == [REPORT]


def test_the_current_item_and_items_with_a_record_stay(p: Play) -> None:
    refused(p, lambda: p.do(c.RemoveItem(item=REPORT)), "agenda.remove_current", {"item": REPORT})
    # Speeches on an item, a questioning round on one, a vote on one's motion: a record.
    p.do(c.GrantFloor(speaker=m(5)))
    p.do(c.MoveToItem(item=BUDGET))
    refused(
        p, lambda: p.do(c.RemoveItem(item=REPORT)), "agenda.item_has_speeches", {"item": REPORT}
    )
    p.do(c.OpenRound(respondent=m(2)))
    p.do(c.AddItem(title="Kế hoạch đầu tư công"))
    planned = p.s.agenda[-1].id
    p.do(c.MoveToItem(item=planned))
    refused(
        p, lambda: p.do(c.RemoveItem(item=BUDGET)), "agenda.item_has_speeches", {"item": BUDGET}
    )
    p.do(c.RegisterDocument(hash=DOC, title="Dự thảo"))
    p.do(c.ProposeMotion(title="Nghị quyết", doc=DOC))
    motion = next(iter(p.s.motions))
    p.do(c.OpenVote(motion=motion))
    p.do(c.CancelVote(vote=next(iter(p.s.votes))))
    p.do(c.MoveToItem(item=REPORT))
    refused(p, lambda: p.do(c.RemoveItem(item=planned)), "agenda.item_has_votes", {"item": planned})


def test_an_item_added_during_the_sitting_moves_up_and_is_removed(p: Play) -> None:
    p.do(c.AddItem(title="Bầu bổ sung", position=1))
    added = p.s.agenda[1].id
    order = (REPORT, added, BUDGET)
    assert tuple(i.id for i in p.s.agenda) == order
    p.do(c.ReorderAgenda(order=(added, REPORT, BUDGET)))
    assert ev(p.do(c.RemoveItem(item=added))) == [e.ItemRemoved(item=added)]
    assert tuple(i.id for i in p.s.agenda) == (REPORT, BUDGET)
