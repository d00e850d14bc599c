"""The minutes as a projection of the verified log (chamber/minutes.py): the demo's
year-end sitting told in full, and the edges: suspensions, a turn still running, a
cancelled vote, a vote still open in a public prefix, a council without a secretary, a
log that does not verify."""

from __future__ import annotations

import hashlib

import msgspec
import pytest

from chamber import ChamberError
from chamber import commands as c
from chamber.ids import (
    APPROVE,
    DocHash,
    ItemId,
    MemberId,
    Phase,
    TurnKind,
    VoteForm,
    VoteKind,
    VoteStatus,
)
from chamber.log import verify
from chamber.minutes import Attended, Interval, minutes, present_members
from chamber.model import Guest
from chamber.projection import Audience, project_log
from server.demo import Player
from tests.chamber.play import Play, m


@pytest.fixture(scope="module")
def year_end() -> Player:
    player = Player()
    for _ in player.play():
        pass
    return player


def test_the_year_end_sitting_in_full(year_end: Player) -> None:
    mm = minutes(year_end.records)
    check = verify(year_end.records)
    assert (mm.records, mm.head) == (check.count, check.head)
    assert mm.final and mm.phase is Phase.CLOSED and mm.held_back is None
    assert mm.council_name == "Hội đồng nhân dân phường Bến Thành" and mm.total_seats == 30
    assert (mm.opened_at, mm.closed_at) == (year_end.state.opened_at, year_end.state.closed_at)
    assert mm.suspensions == ()
    # 26 in the hall, db27 online (and gone before the end), two excused, one absent.
    counts = {a: mm.count(a) for a in Attended}
    assert counts == {
        Attended.IN_HALL: 26,
        Attended.REMOTE: 1,
        Attended.EXCUSED: 2,
        Attended.ABSENT: 1,
    }
    assert present_members(mm) == 27 and mm.present_at_open == 27 and mm.quorum_needed == 20
    by_id = {a.member: a for a in mm.attendance}
    assert (by_id[MemberId("db28")].note, by_id[MemberId("db29")].note) == ("Công tác", "Ốm")
    assert by_id[MemberId("db27")].left_at is not None
    assert by_id[MemberId("db21")].left_at is None  # left and came back
    assert [a.seat for a in mm.attendance] == sorted(a.seat for a in mm.attendance)
    assert (mm.chair, mm.secretary) == ("Nguyễn Văn An", "Lê Hoàng Cường")
    assert [g.name for g in mm.guests] == ["Chủ tịch UBND phường"]
    # Agenda with its documents, both versions of the budget's text.
    assert [i.id for i in mm.agenda] == ["bao-cao", "thao-luan", "nghi-quyet"]
    assert [d.version for d in mm.agenda[2].documents] == [1, 2, 1, 1]
    assert mm.other_documents == ()
    # Speeches in order, with kinds, durations and how they ended.
    turns = [(s.name, s.kind, s.elapsed_ms // 1000, s.reason) for s in mm.speeches]
    assert turns == [
        ("Chủ tịch UBND phường", TurnKind.EXPLANATION, 360, "ended"),
        ("Đỗ Minh Hiếu", TurnKind.CONTRIBUTION, 300, "ended"),
        ("Hoàng Văn Em", TurnKind.CONTRIBUTION, 420, "expired"),
        ("Phan Thị Mai", TurnKind.CONTRIBUTION, 240, "ended"),
        ("Vũ Thị Phương", TurnKind.DEBATE_REPLY, 150, "ended"),
        ("Ngô Văn Khánh", TurnKind.QUESTION, 100, "ended"),
        ("Lâm Văn Phúc", TurnKind.QUESTION, 100, "ended"),
        ("Chủ tịch UBND phường", TurnKind.ANSWER, 240, "ended"),
    ]
    assert mm.speeches[0].affiliation == "Ủy ban nhân dân phường"
    assert all(s.ended_at is not None for s in mm.speeches)
    (rnd,) = mm.rounds
    assert rnd.respondent_name == "Chủ tịch UBND phường" and rnd.answered
    assert [name for _, name in rnd.askers] == ["Ngô Văn Khánh", "Lâm Văn Phúc"]
    assert mm.speaking[0] == (MemberId("kh-ubnd"), "Chủ tịch UBND phường", 600_000)
    # Votes: results as the core decided them; the roll call of named votes only.
    kinds = [(v.kind, v.form, v.status) for v in mm.votes]
    assert kinds == [
        (VoteKind.MOTION, VoteForm.OPEN, VoteStatus.CLOSED),
        (VoteKind.MOTION, VoteForm.SECRET, VoteStatus.CLOSED),
        (VoteKind.MOTION, VoteForm.OPEN, VoteStatus.CLOSED),
        (VoteKind.ELECTION, VoteForm.SECRET, VoteStatus.CLOSED),
        (VoteKind.CONFIDENCE, VoteForm.SECRET, VoteStatus.CLOSED),
    ]
    budget, works, park, election, confidence = mm.votes
    assert budget.motion is not None and budget.motion.version == 2
    assert budget.motion.doc == hashlib.sha256(b"nq-du-toan-2026-v2").hexdigest()
    assert budget.motion.doc_title.endswith("(chỉnh lý)")
    assert budget.item == "nghi-quyet" and budget.present_at_open == 27
    assert len(budget.roll_call) == 27 and budget.roll_call[0].name == "Nguyễn Văn An"
    assert budget.result is not None and budget.result.passed
    assert works.roll_call == () and works.result is not None and works.result.roll_call is None
    assert park.result is not None and not park.result.passed and len(park.roll_call) == 20
    assert election.motion is None and election.result is not None
    assert election.result.elected == ("uv-1",)
    assert confidence.result is not None
    assert [o.status for o in confidence.result.outcomes] == ["", "may_resign"]


def _doc(name: str) -> DocHash:
    return DocHash(hashlib.sha256(name.encode()).hexdigest())


def test_suspensions_a_running_turn_a_cancelled_vote_and_a_stray_document() -> None:
    p = Play(n=9)
    p.do(c.AddGuest(guest=Guest(id=MemberId("g1"), name="Khách", affiliation="Sở Tài chính")))
    p.do(c.RegisterDocument(hash=_doc("loose"), title="Tờ trình"))
    p.do(c.RegisterDocument(hash=_doc("text"), title="Dự thảo", item=ItemId("i-budget")))
    p.do(c.ProposeMotion(title="Nghị quyết", doc=_doc("text"), item=ItemId("i-budget")))
    p.open_and_start(present=9)
    p.tick(60)
    p.do(c.SuspendSitting(reason="giải lao"))
    p.tick(600)
    p.do(c.ResumeSitting())
    p.do(c.GrantFloor(speaker=MemberId("g1"), kind=TurnKind.EXPLANATION))
    p.tick(30)
    motion = next(iter(p.s.motions))
    p.do(c.OpenVote(motion=motion))
    vote = next(iter(p.s.votes))
    p.do(c.CancelVote(vote=vote, reason="sai văn bản"))
    p.tick(5)
    p.do(c.SuspendSitting())
    mm = minutes(p.records)
    assert not mm.final and mm.phase is Phase.SUSPENDED
    first, second = mm.suspensions
    assert first == Interval(start=first.start, end=first.start + 600_000)
    assert second.end is None
    (speech,) = mm.speeches
    assert (speech.name, speech.affiliation) == ("Khách", "Sở Tài chính")
    # Suspending pauses the turn; it is still running where the records end.
    assert speech.ended_at is None and speech.reason == "" and speech.elapsed_ms == 35_000
    (cancelled,) = mm.votes
    assert cancelled.status is VoteStatus.CANCELLED and cancelled.reason == "sai văn bản"
    assert cancelled.result is None and cancelled.ended_at is not None
    assert [d.title for d in mm.other_documents] == ["Tờ trình"]
    assert [d.title for d in mm.agenda[1].documents] == ["Dự thảo"]
    assert mm.rounds == () and mm.secretary == "Đại biểu 03"


def test_a_public_prefix_stops_before_an_open_votes_ballots() -> None:
    p = Play(n=3)
    p.do(c.RegisterDocument(hash=_doc("text"), title="Dự thảo"))
    p.do(c.ProposeMotion(title="Nghị quyết", doc=_doc("text")))
    p.open_and_start(present=3)
    p.do(c.OpenRound(respondent=m(2)))
    motion = next(iter(p.s.motions))
    p.do(c.OpenVote(motion=motion))
    vote = next(iter(p.s.votes))
    p.as_delegate(3, c.CastBallot(vote=vote, choice=APPROVE))
    view = project_log(p.records, Audience.PUBLIC)
    assert view.held_back is not None
    mm = minutes(view.records, view.held_back)
    assert mm.held_back == view.held_back and not mm.final
    assert mm.records == len(view.records) == len(p.records) - 1
    (open_vote,) = mm.votes
    assert open_vote.status is VoteStatus.OPEN and open_vote.result is None
    assert open_vote.roll_call == ()
    (rnd,) = mm.rounds
    assert rnd.askers == () and not rnd.answered and rnd.respondent_name == "Đại biểu 02"


def test_a_council_without_a_secretary_leaves_the_signature_blank() -> None:
    p = Play(n=2)
    mm = minutes(p.records)
    assert (mm.chair, mm.secretary) == ("Đại biểu 01", "")
    assert mm.present_at_open is None and mm.opened_at is None
    assert {a.status for a in mm.attendance} == {Attended.ABSENT}


def test_a_log_that_does_not_verify_gives_no_minutes() -> None:
    p = Play(n=3)
    p.open_and_start(present=3)
    altered = list(p.records)
    altered[2] = msgspec.structs.replace(altered[2], at=altered[2].at + 1)
    with pytest.raises(ChamberError) as err:
        minutes(altered)
    assert err.value.code == "log.unverified"
    assert err.value.params == {"problem": "altered", "seq": 3}
    with pytest.raises(ChamberError) as empty:
        minutes([])
    assert empty.value.code == "log.no_schedule"
