"""Attendance: check-in, remote join, leave, excused; the present count and the quorum."""

from __future__ import annotations

import msgspec
import pytest

from chamber import ChamberError, NotPermitted
from chamber import commands as c
from chamber import events as e
from chamber.ids import MemberId, Presence, Role
from chamber.model import Guest
from tests.chamber.play import Play, m

ABSENT, IN_HALL, REMOTE, LEFT, EXCUSED = (
    Presence.ABSENT,
    Presence.IN_HALL,
    Presence.REMOTE,
    Presence.LEFT,
    Presence.EXCUSED,
)
SECRETARY = m(3)


def put(p: Play, i: int, presence: Presence) -> None:
    """Bring member ``i`` to ``presence`` from absent."""
    if presence is IN_HALL or presence is LEFT:
        p.as_delegate(i, c.CheckIn())
    if presence is LEFT:
        p.as_delegate(i, c.Leave())
    if presence is REMOTE:
        p.as_delegate(i, c.JoinRemote())
    if presence is EXCUSED:  # the reason ``excused`` gives: a second excuse changes nothing
        p.do(c.Excuse(member=m(i), reason="Công tác"), SECRETARY, Role.SECRETARY)
    assert p.s.attendance[m(i)] is presence


def self_(cmd: type[c.CheckIn] | type[c.JoinRemote] | type[c.Leave]):  # type: ignore[no-untyped-def]
    return lambda p: p.as_delegate(7, cmd())


def excused(p: Play):  # type: ignore[no-untyped-def]
    return p.do(c.Excuse(member=m(7), reason="Công tác"), SECRETARY, Role.SECRETARY)


CHECK_IN, JOIN, LEAVE = self_(c.CheckIn), self_(c.JoinRemote), self_(c.Leave)

# (from, command, to): None means the command changes nothing.
TRANSITIONS = [
    (ABSENT, CHECK_IN, IN_HALL),
    (ABSENT, JOIN, REMOTE),
    (ABSENT, LEAVE, None),
    (ABSENT, excused, EXCUSED),
    (IN_HALL, CHECK_IN, None),
    (IN_HALL, JOIN, None),  # a second device in the hall does not make them remote
    (IN_HALL, LEAVE, LEFT),
    (IN_HALL, excused, EXCUSED),
    (REMOTE, CHECK_IN, IN_HALL),
    (REMOTE, JOIN, None),
    (REMOTE, LEAVE, LEFT),
    (REMOTE, excused, EXCUSED),
    (LEFT, CHECK_IN, IN_HALL),
    (LEFT, JOIN, REMOTE),
    (LEFT, LEAVE, None),
    (LEFT, excused, EXCUSED),
    (EXCUSED, CHECK_IN, IN_HALL),
    (EXCUSED, JOIN, REMOTE),
    (EXCUSED, LEAVE, None),
    (EXCUSED, excused, None),
]


@pytest.mark.parametrize(("start", "act", "end"), TRANSITIONS)
def test_presence_transitions(start: Presence, act, end: Presence | None) -> None:  # type: ignore[no-untyped-def]
    p = Play()
    put(p, 7, start)
    step = act(p)
    if end is None:
        assert step.records == ()
        assert p.s.attendance[m(7)] is start
    else:
        note = "Công tác" if end is EXCUSED else ""
        assert [r.event for r in step.records] == [
            e.PresenceChanged(member=m(7), presence=end, note=note)
        ]
        assert p.s.attendance[m(7)] is end
    assert p.s.is_present(m(7)) is (p.s.attendance[m(7)] in (IN_HALL, REMOTE))


def test_present_count_and_quorum_at_each_step() -> None:
    p = Play()  # 30 seats: at least two thirds is 20
    steps = [
        (lambda: p.check_in(*range(1, 19)), 18, False),
        (lambda: p.as_delegate(19, c.JoinRemote()), 19, False),
        (lambda: p.do(c.Excuse(member=m(20), reason="Ốm"), SECRETARY, Role.SECRETARY), 19, False),
        (lambda: p.do(c.JoinRemote(member=m(20)), None, Role.SYSTEM), 20, True),
        (lambda: p.do(c.AddGuest(guest=Guest(id=MemberId("g1"), name="Khách"))), 20, True),
        (lambda: p.as_delegate(19, c.Leave()), 19, False),
        (lambda: p.do(c.CheckIn(member=m(19)), None, Role.OPERATOR), 20, True),
        (lambda: p.do(c.Leave(member=m(1)), m(2), Role.VICE_CHAIR), 19, False),
        (lambda: p.check_in(21, 22), 21, True),
    ]
    assert (p.s.present_count(), p.s.quorum_needed(), p.s.quorate()) == (0, 20, False)
    for act, present, quorate in steps:
        act()
        assert (p.s.present_count(), p.s.quorate()) == (present, quorate)
    assert p.s.attendance[m(19)] is IN_HALL and p.s.attendance[m(20)] is REMOTE


def test_a_smaller_council_counts_against_its_seats() -> None:
    p = Play(n=7, seats=9)  # at least two thirds of 9 seats is 6
    p.check_in(*range(1, 6))
    assert (p.s.present_count(), p.s.quorum_needed(), p.s.quorate()) == (5, 6, False)
    p.as_delegate(6, c.JoinRemote())
    assert p.s.quorate()


def test_guests_never_count() -> None:
    p = Play()
    guest = Guest(id=MemberId("g1"), name="Giám đốc Sở")
    p.do(c.AddGuest(guest=guest), SECRETARY, Role.SECRETARY)
    before = msgspec.msgpack.encode(p.s)
    with pytest.raises(NotPermitted):
        p.do(c.CheckIn(), guest.id, Role.GUEST)
    with pytest.raises(ChamberError) as caught:
        p.do(c.CheckIn(member=guest.id), SECRETARY, Role.SECRETARY)
    assert (caught.value.code, caught.value.params) == ("member.unknown", {"member": "g1"})
    with pytest.raises(ChamberError) as caught:
        p.do(c.JoinRemote(member=guest.id), None, Role.SYSTEM)
    assert caught.value.code == "member.unknown"
    assert msgspec.msgpack.encode(p.s) == before
    assert (p.s.present_count(), guest.id in p.s.attendance) == (0, False)


@pytest.mark.parametrize(
    ("cmd", "actor", "role", "code", "params"),
    [
        (c.CheckIn(), None, Role.OPERATOR, "member.unknown", {"member": ""}),
        (c.Leave(), None, Role.SYSTEM, "member.unknown", {"member": ""}),
        (
            c.Excuse(member=MemberId("x")),
            SECRETARY,
            Role.SECRETARY,
            "member.unknown",
            {"member": "x"},
        ),
    ],
)
def test_attendance_needs_a_member(
    cmd: c.AnyCommand, actor: MemberId | None, role: Role, code: str, params: dict[str, str]
) -> None:
    p = Play()
    with pytest.raises(ChamberError) as caught:
        p.do(cmd, actor, role)
    assert (caught.value.code, caught.value.params) == (code, params)


def test_a_clerk_acts_for_themself_when_naming_themself() -> None:
    p = Play()
    step = p.do(c.Excuse(member=SECRETARY, reason="Họp khác"), SECRETARY, Role.SECRETARY)
    assert [r.event for r in step.records] == [
        e.PresenceChanged(member=SECRETARY, presence=EXCUSED, note="Họp khác")
    ]
    step = p.as_delegate(5, c.CheckIn(member=m(5)))  # naming oneself is not acting for another
    assert [r.event for r in step.records] == [e.PresenceChanged(member=m(5), presence=IN_HALL)]


def test_attendance_continues_through_the_sitting() -> None:
    p = Play()
    p.open_and_start(20)
    p.do(c.SuspendSitting())
    p.as_delegate(25, c.JoinRemote())
    p.do(c.ResumeSitting())
    p.as_delegate(5, c.Leave())
    assert (p.s.present_count(), p.s.attendance[m(25)], p.s.attendance[m(5)]) == (20, REMOTE, LEFT)
    p.do(c.CloseSitting())
    with pytest.raises(NotPermitted) as caught:
        p.as_delegate(5, c.CheckIn())
    assert caught.value.state == "closed"


def test_a_member_excuses_themself_with_the_reason() -> None:
    p = Play()
    step = p.as_delegate(9, c.Excuse(reason="  Đi công tác tỉnh  "))
    assert [r.event for r in step.records] == [
        e.PresenceChanged(member=m(9), presence=EXCUSED, note="Đi công tác tỉnh")
    ]
    assert p.s.excuses == {m(9): "Đi công tác tỉnh"}
    assert p.as_delegate(9, c.Excuse(reason="Đi công tác tỉnh")).records == ()  # the same
    step = p.do(c.Excuse(member=m(9), reason="Ốm"), SECRETARY, Role.SECRETARY)  # corrected
    assert [r.event for r in step.records] == [
        e.PresenceChanged(member=m(9), presence=EXCUSED, note="Ốm")
    ]
    assert p.s.excuses == {m(9): "Ốm"}
    p.as_delegate(9, c.JoinRemote())  # came after all: the excuse is no longer theirs
    assert (p.s.attendance[m(9)], p.s.excuses) == (REMOTE, {})


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_an_excuse_needs_a_reason(reason: str) -> None:
    p = Play()
    before = msgspec.msgpack.encode(p.s)
    for act in (
        lambda: p.as_delegate(9, c.Excuse(reason=reason)),
        lambda: p.do(c.Excuse(member=m(9), reason=reason), SECRETARY, Role.SECRETARY),
    ):
        with pytest.raises(ChamberError) as caught:
            act()
        assert (caught.value.code, caught.value.params) == (
            "attendance.reason_required",
            {"member": "m09"},
        )
    assert msgspec.msgpack.encode(p.s) == before


def test_a_delegate_excuses_no_one_else() -> None:
    p = Play()
    with pytest.raises(NotPermitted) as caught:
        p.as_delegate(9, c.Excuse(member=m(10), reason="Ốm"))
    assert caught.value.state == "scheduled: for another member"


def test_check_in_many_in_one_decision() -> None:
    p = Play()
    put(p, 4, IN_HALL)
    put(p, 5, REMOTE)
    put(p, 6, EXCUSED)
    step = p.do(c.CheckInMany(members=(m(4), m(5), m(6), m(7))), SECRETARY, Role.SECRETARY)
    assert [r.event for r in step.records] == [
        e.PresenceChanged(member=m(i), presence=IN_HALL) for i in (5, 6, 7)
    ]
    assert [p.s.attendance[m(i)] for i in (4, 5, 6, 7)] == [IN_HALL] * 4
    assert p.s.excuses == {}
    assert p.do(c.CheckInMany(members=(m(4), m(7))), None, Role.OPERATOR).records == ()


@pytest.mark.parametrize(
    ("members", "code", "params"),
    [
        ((), "attendance.no_members", {}),
        ((m(4), m(5), m(4)), "attendance.duplicate_member", {"member": "m04"}),
        ((m(4), MemberId("g1")), "member.unknown", {"member": "g1"}),
    ],
)
def test_check_in_many_refuses_bad_lists_whole(
    members: tuple[MemberId, ...], code: str, params: dict[str, str]
) -> None:
    p = Play()
    before = msgspec.msgpack.encode(p.s)
    with pytest.raises(ChamberError) as caught:
        p.do(c.CheckInMany(members=members), SECRETARY, Role.SECRETARY)
    assert (caught.value.code, caught.value.params) == (code, params)
    assert msgspec.msgpack.encode(p.s) == before
