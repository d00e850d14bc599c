"""The routing policy: who is heard and seen, from floor state alone. No peer connection:
states are built by replaying the core's own commands (tests/chamber/play.py)."""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chamber import ChamberError
from chamber import commands as c
from chamber.ids import MemberId, Occupied, Presence, Role, TurnId, TurnStatus
from chamber.model import Guest, Sitting
from chamber.rules import Rules
from media.routing import (
    PUBLISHERS,
    Endpoint,
    EndpointId,
    Feed,
    Kind,
    Plan,
    RoomId,
    Route,
    RoutingError,
    Switch,
    diff,
    live,
    patch,
    route,
    speaking,
)
from tests.chamber.play import Play, m

GUEST = MemberId("g-gd")
WARD, MAIN = RoomId("ward-2"), RoomId("main")
IN_HALL = (1, 2, 3, 4, 11, 12)  # m02 also opens a remote link: a second device in the hall
REMOTE = (5, 6, 7, 8, 9, 10)  # m09 and m10 sit in the linked ward hall, m08 has no link
SEATED: dict[MemberId, RoomId] = {m(9): WARD, m(10): WARD, m(11): MAIN}


def ep(name: str) -> EndpointId:
    return EndpointId(name)


A, B, C, H, G = ep("e-m05"), ep("e-m06"), ep("e-m07"), ep("e-m02"), ep("e-guest")
RW, RM, GAL, CHAIR = ep("room-ward"), ep("room-main"), ep("gallery-1"), ep("console-1")
ENDPOINTS = (
    Endpoint(id=A, kind=Kind.REMOTE, member=m(5)),
    Endpoint(id=B, kind=Kind.REMOTE, member=m(6)),
    Endpoint(id=C, kind=Kind.REMOTE, member=m(7)),
    Endpoint(id=H, kind=Kind.REMOTE, member=m(2)),
    Endpoint(id=G, kind=Kind.REMOTE, member=GUEST),
    Endpoint(id=RW, kind=Kind.ROOM, room=WARD),
    Endpoint(id=RM, kind=Kind.ROOM, room=MAIN),
    Endpoint(id=GAL, kind=Kind.GALLERY),
    Endpoint(id=CHAIR, kind=Kind.CONSOLE),
)
PUBLISHING = frozenset(e.id for e in ENDPOINTS if e.kind in PUBLISHERS)
SPEAKERS = (*(m(i) for i in range(2, 13)), GUEST)


def sitting_play() -> Play:
    p = Play(n=12, rules=Rules(max_open_mics=3))
    p.do(c.AddGuest(guest=Guest(id=GUEST, name="Giám đốc Sở", affiliation="Sở")))
    p.check_in(*IN_HALL)
    for i in REMOTE:
        p.as_delegate(i, c.JoinRemote())
    p.do(c.OpenSitting())
    p.do(c.StartSitting())
    return p


def grant(who: MemberId) -> Callable[[Play], None]:
    def act(p: Play) -> None:
        p.tick(1)
        p.do(c.GrantFloor(speaker=who, occupied=Occupied.SECOND_MIC))

    return act


def turn_of(p: Play, who: MemberId) -> TurnId:
    return next(t.id for t in p.s.turns.values() if t.speaker == who)


def end(who: MemberId) -> Callable[[Play], None]:
    return lambda p: p.do(c.EndTurn(turn=turn_of(p, who)))


def pause(who: MemberId) -> Callable[[Play], None]:
    return lambda p: p.do(c.PauseTurn(turn=turn_of(p, who)))


def suspend(p: Play) -> None:
    p.do(c.SuspendSitting())


def same_instant(*who: MemberId) -> Callable[[Play], None]:
    def act(p: Play) -> None:
        for w in who:
            p.do(c.GrantFloor(speaker=w, occupied=Occupied.SECOND_MIC))

    return act


def state_after(*acts: Callable[[Play], None]) -> Sitting:
    p = sitting_play()
    for act in acts:
        act(p)
    return p.s


def routed(s: Sitting, muted: AbstractSet[EndpointId] = frozenset()) -> Route:
    return route(s, ENDPOINTS, seated=SEATED, muted=muted)


def everyone_sees(source: EndpointId | None, **others: EndpointId | None) -> dict[str, object]:
    floor: dict[str, object] = {str(e.id): source for e in ENDPOINTS if e.kind is not Kind.CONSOLE}
    floor.update(others)
    return floor


# The policy, case by case

Act = Callable[[Play], None]
Case = tuple[str, tuple[Act, ...], frozenset[EndpointId], dict[str, object], frozenset[EndpointId]]
CASES: list[Case] = [
    ("nobody speaks", (), frozenset(), everyone_sees(None), frozenset()),
    (
        "a remote member speaks: all see them, they see nobody",
        (grant(m(5)),),
        frozenset(),
        everyone_sees(A, **{A: None}),
        frozenset({A}),
    ),
    (
        "a member in the hall without a room link has no feed",
        (grant(m(4)),),
        frozenset(),
        everyone_sees(None),
        frozenset(),
    ),
    (
        "a second device in the hall is not a remote feed: attendance decides",
        (grant(m(2)),),
        frozenset(),
        everyone_sees(None),
        frozenset(),
    ),
    (
        "a remote member without a link has no feed",
        (grant(m(8)),),
        frozenset(),
        everyone_sees(None),
        frozenset(),
    ),
    (
        "a speaker in the linked ward hall: the ward room feeds, the ward sees nobody",
        (grant(m(9)),),
        frozenset(),
        everyone_sees(RW, **{RW: None}),
        frozenset({RW}),
    ),
    (
        "a speaker in the main hall with its room link: the main room feeds",
        (grant(m(11)),),
        frozenset(),
        everyone_sees(RM, **{RM: None}),
        frozenset({RM}),
    ),
    (
        "a guest feeds their own link (the core keeps no attendance for guests)",
        (grant(GUEST),),
        frozenset(),
        everyone_sees(G, **{G: None}),
        frozenset({G}),
    ),
    (
        "two open mics: all get the latest, the latest gets the one before",
        (grant(m(5)), grant(m(6))),
        frozenset(),
        everyone_sees(B, **{B: A}),
        frozenset({A, B}),
    ),
    (
        "granted in the same millisecond: the core's grant order decides",
        (same_instant(m(6), m(5)),),
        frozenset(),
        everyone_sees(A, **{A: B}),
        frozenset({A, B}),
    ),
    (
        "three open mics, one without a feed: feeds in grant order",
        (grant(m(5)), grant(m(6)), grant(m(4))),
        frozenset(),
        everyone_sees(B, **{B: A}),
        frozenset({A, B}),
    ),
    (
        "the latest speaker paused: the floor goes back to the one before",
        (grant(m(5)), grant(m(6)), pause(m(6))),
        frozenset(),
        everyone_sees(A, **{A: None}),
        frozenset({A}),
    ),
    (
        "the chair mutes the latest speaker: the mute overrides the floor",
        (grant(m(5)), grant(m(6))),
        frozenset({B}),
        everyone_sees(A, **{A: None}),
        frozenset({A}),
    ),
    (
        "the chair mutes the only speaker: nobody is forwarded",
        (grant(m(5)),),
        frozenset({A}),
        everyone_sees(None),
        frozenset(),
    ),
    (
        "two speakers in one linked hall share its feed once",
        (grant(m(9)), grant(m(5)), grant(m(10))),
        frozenset(),
        everyone_sees(RW, **{RW: A}),
        frozenset({RW, A}),
    ),
    (
        "a finished turn is silent again",
        (grant(m(5)), end(m(5))),
        frozenset(),
        everyone_sees(None),
        frozenset(),
    ),
    (
        "suspending the sitting pauses every turn, so nobody is forwarded",
        (grant(m(5)), grant(m(9)), suspend),
        frozenset(),
        everyone_sees(None),
        frozenset(),
    ),
]


@pytest.mark.parametrize(
    ("acts", "muted", "floor", "on_air"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_policy(
    acts: tuple[Callable[[Play], None], ...],
    muted: frozenset[EndpointId],
    floor: dict[str, object],
    on_air: frozenset[EndpointId],
) -> None:
    r = routed(state_after(*acts), muted)
    assert r.floor == floor
    assert r.consoles == {CHAIR: on_air}
    assert r.silenced == PUBLISHING - on_air


def test_live_lists_the_sources_most_recent_first() -> None:
    s = state_after(grant(m(9)), grant(m(5)), grant(GUEST))
    assert live(s, ENDPOINTS, seated=SEATED) == (G, A, RW)
    assert live(s, ENDPOINTS, seated=SEATED, muted={A}) == (G, RW)
    assert live(s, ENDPOINTS) == (G, A)  # nobody seated in a room: the ward has no feed
    assert [t.speaker for t in speaking(s)] == [GUEST, m(5), m(9)]


@pytest.mark.parametrize(
    ("endpoints", "message"),
    [
        ((Endpoint(id=A, kind=Kind.GALLERY), Endpoint(id=A, kind=Kind.CONSOLE)), "twice"),
        (
            (
                Endpoint(id=A, kind=Kind.REMOTE, member=m(5)),
                Endpoint(id=B, kind=Kind.REMOTE, member=m(5)),
            ),
            "two remote endpoints",
        ),
        (
            (Endpoint(id=A, kind=Kind.ROOM, room=WARD), Endpoint(id=B, kind=Kind.ROOM, room=WARD)),
            "two room endpoints",
        ),
    ],
)
def test_an_ambiguous_endpoint_table_is_refused(
    endpoints: tuple[Endpoint, ...], message: str
) -> None:
    with pytest.raises(RoutingError, match=message):
        route(state_after(), endpoints)


@pytest.mark.parametrize(
    "build",
    [
        lambda: Endpoint(id=A, kind=Kind.REMOTE),
        lambda: Endpoint(id=A, kind=Kind.GALLERY, member=m(5)),
        lambda: Endpoint(id=A, kind=Kind.ROOM),
        lambda: Endpoint(id=A, kind=Kind.CONSOLE, room=WARD),
        lambda: Endpoint(id=A, kind=Kind.REMOTE, member=m(5), room=WARD),
    ],
)
def test_an_endpoint_speaks_for_what_its_kind_allows(build: Callable[[], Endpoint]) -> None:
    with pytest.raises(RoutingError):
        build()


# diff: the switches and keyframes a driver performs


def test_a_floor_switch_from_one_remote_speaker_to_the_next() -> None:
    old = routed(state_after(grant(m(5))))
    new = routed(state_after(grant(m(5)), end(m(5)), grant(m(6))))
    plan = diff(old, new)
    others = sorted(e.id for e in ENDPOINTS if e.kind is not Kind.CONSOLE and e.id != B)
    assert plan.switches == tuple(
        sorted([Switch(B, None), *(Switch(r, B) for r in others if r != A), Switch(A, B)])
    )
    assert (plan.attach, plan.detach) == ((Feed(CHAIR, B),), (Feed(CHAIR, A),))
    assert (plan.silence, plan.release) == (frozenset({A}), frozenset({B}))
    assert plan.keyframes == {B}  # one request, however many receivers switched
    assert patch(old, plan) == new


def test_a_second_mic_switches_everyone_but_the_earlier_speaker() -> None:
    old = routed(state_after(grant(m(5))))
    new = routed(state_after(grant(m(5)), grant(m(6))))
    plan = diff(old, new)
    # B already watched A; everyone else, A included, switches to B.
    assert {sw.receiver for sw in plan.switches} == {e.id for e in ENDPOINTS} - {CHAIR, B}
    assert {sw.source for sw in plan.switches} == {B}
    assert plan.keyframes == {B}
    assert (plan.attach, plan.detach) == ((Feed(CHAIR, B),), ())
    assert plan.release == {B}


def test_joining_and_leaving_receivers() -> None:
    s = state_after(grant(m(5)))
    console2 = Endpoint(id=ep("console-2"), kind=Kind.CONSOLE)
    old = route(s, ENDPOINTS[:3])
    new = route(s, (*ENDPOINTS[1:], console2))
    plan = diff(old, new)
    assert plan.gone == {A}
    assert plan.opened == {CHAIR, ep("console-2")}
    # A left, so nobody is on the air: B and C lose A, the new receivers start empty.
    assert {sw.source for sw in plan.switches} == {None}
    assert {sw.receiver for sw in plan.switches} == {e.id for e in ENDPOINTS[1:-1]}
    assert not plan.keyframes
    assert patch(old, plan) == new
    back = diff(new, route(s, (*ENDPOINTS, console2)))
    assert back.keyframes == {A}  # the late joiners need a keyframe from A
    assert {f.console for f in back.attach} == {CHAIR, ep("console-2")}


def test_nothing_changed_means_nothing_to_do() -> None:
    r = routed(state_after(grant(m(5)), grant(m(9))))
    assert not diff(r, r)
    assert diff(r, r) == Plan()
    assert diff(Route(), r)


# Properties over random sittings: floor commands replayed through the core


def pick_turn(who: MemberId, command: Callable[[TurnId], c.AnyCommand]) -> Callable[[Play], None]:
    def act(p: Play) -> None:
        turn = next((t.id for t in p.s.turns.values() if t.speaker == who), None)
        if turn is not None:
            p.do(command(turn))

    return act


who = st.sampled_from(SPEAKERS)
floor_act = st.one_of(
    who.map(grant),
    who.map(lambda w: pick_turn(w, lambda t: c.EndTurn(turn=t))),
    who.map(lambda w: pick_turn(w, lambda t: c.PauseTurn(turn=t))),
    who.map(lambda w: pick_turn(w, lambda t: c.ResumeTurn(turn=t))),
    st.just(lambda p: p.do(c.SuspendSitting())),
    st.just(lambda p: p.do(c.ResumeSitting())),
    st.just(lambda p: p.tick(0)),
)
endpoint_sets = st.lists(st.sampled_from(ENDPOINTS), unique=True).map(tuple)
mute_sets = st.frozensets(st.sampled_from(sorted(PUBLISHING)))
seatings = st.dictionaries(st.sampled_from(SPEAKERS), st.sampled_from([WARD, MAIN]))


def forwarded(r: Route) -> set[EndpointId]:
    sources = {s for s in r.floor.values() if s is not None}
    return sources.union(*r.consoles.values())


def may_speak(
    s: Sitting, endpoints: tuple[Endpoint, ...], seated: Mapping[MemberId, RoomId]
) -> set[EndpointId]:
    """Endpoints that speak for someone holding a speaking turn (an over-approximation)."""
    voices = {t.speaker for t in s.turns.values() if t.status is TurnStatus.SPEAKING}
    rooms = {seated[v] for v in voices if v in seated}
    return {e.id for e in endpoints if e.member in voices or e.room in rooms}


def check_route(
    s: Sitting,
    endpoints: tuple[Endpoint, ...],
    seated: Mapping[MemberId, RoomId],
    muted: frozenset[EndpointId],
) -> Route:
    r = route(s, endpoints, seated=seated, muted=muted)
    ids = {e.id for e in endpoints}
    consoles = {e.id for e in endpoints if e.kind is Kind.CONSOLE}
    publishers = {e.id for e in endpoints if e.kind in PUBLISHERS}
    # Every receiver but the chair consoles has exactly one floor entry (a source or None).
    assert r.floor.keys() == ids - consoles and r.consoles.keys() == consoles
    # A muted or non-speaking source is forwarded to nobody, and it is said to be silenced.
    sent = forwarded(r)
    assert sent <= may_speak(s, endpoints, seated) - muted
    assert sent <= publishers
    assert publishers - may_speak(s, endpoints, seated) <= r.silenced
    assert muted & publishers <= r.silenced
    assert not (r.silenced & sent)
    # Nobody receives themselves.
    assert all(src != rcv for rcv, src in r.floor.items())
    assert all(rcv not in feeds for rcv, feeds in r.consoles.items())
    # Everyone off the air gets the same floor source, and the consoles get every live one.
    on_air = live(s, endpoints, seated=seated, muted=muted)
    assert set(on_air) == publishers - r.silenced
    for rcv, src in r.floor.items():
        if rcv not in on_air:
            assert src == (on_air[0] if on_air else None)
    assert all(feeds == set(on_air) for feeds in r.consoles.values())
    # A remote member is a feed only while the core records them as remote.
    for e in endpoints:
        if e.member in s.roster and e.id in on_air:
            assert s.attendance.get(e.member) is Presence.REMOTE
    return r


def check_diff(old: Route, new: Route) -> None:
    plan = diff(old, new)
    assert patch(old, plan) == new
    assert not diff(new, new)
    # Exactly one keyframe per source some track newly carries.
    fresh = {s for r, s in new.floor.items() if s is not None and old.floor.get(r) != s}
    for console, feeds in new.consoles.items():
        fresh |= feeds - old.consoles.get(console, frozenset())
    assert plan.keyframes == fresh
    assert len({sw.receiver for sw in plan.switches}) == len(plan.switches)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_routing_properties(data: st.DataObject) -> None:
    p = sitting_play()
    seated = data.draw(seatings)
    previous = Route()
    for _ in range(data.draw(st.integers(1, 12))):
        act = data.draw(floor_act)
        p.tick(data.draw(st.sampled_from([0, 0.001, 1])))
        with contextlib.suppress(ChamberError):  # a refused command changes nothing
            act(p)
        current = check_route(p.s, data.draw(endpoint_sets), seated, data.draw(mute_sets))
        check_diff(previous, current)
        previous = current


def test_the_hall_second_device_member_really_is_in_the_hall() -> None:
    s = state_after()
    assert s.attendance[m(2)] is Presence.IN_HALL  # a JoinRemote would not change that
    p = sitting_play()
    p.do(c.JoinRemote(member=m(2)), None, Role.SYSTEM)
    assert p.s.attendance[m(2)] is Presence.IN_HALL


# The arrows point down only


def imported(where: str) -> set[str]:
    """The top-level packages the modules at ``where`` (a package or a file) import."""
    root = Path(__file__).parents[2] / where
    roots = set()
    for path in [root] if root.is_file() else root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                roots |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                roots.add(node.module.split(".")[0])
    return roots


def test_media_reads_the_core_and_nothing_of_the_server() -> None:
    assert "server" not in imported("media")
    assert {"aiortc", "asyncio"}.isdisjoint(imported("media/routing.py"))  # pure policy
    assert "media" not in imported("chamber")
