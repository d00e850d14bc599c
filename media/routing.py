"""Who is heard and seen: the media routing policy, a pure function of floor state.

The policy, in words:

* **Endpoints.** Each video link is one endpoint of the hub: a *remote* member or guest
  (publishes and receives), a *room* (a hall's computer: publishes the hall's camera and
  mixed audio, receives the floor on the hall's projector), a *gallery* screen (receives
  only) or a *chair console* (receives only).
* **Feeds.** A speaker has a feed when the hub can carry their voice: a remote member
  whose attendance is ``remote`` (the core's record, not the client's claim) and who has a
  remote endpoint feeds it; a guest (the core keeps no attendance for guests) feeds their
  remote endpoint if they have one; otherwise a speaker who sits in a linked hall (the
  ``seated`` argument, since the core does not know rooms yet) feeds that hall's room
  endpoint. A speaker in a hall without a room endpoint has no feed: the hall's own sound
  system carries them and receivers get no floor source for them.
* **On the air.** Only speaking turns count (a paused turn is silent). The live sources
  are the feeds of the speaking turns, most recently granted first (grant time, then the
  order the core granted them), each source once (two speakers in one room share its
  feed), without the sources the chair muted: a server-side mute overrides the floor.
* **The floor track.** Every receiver but a chair console has exactly one outgoing floor
  track (audio and video from one source, switched in place): it carries the most
  recently granted live source that is not the receiver itself, or nothing. So with one
  speaker everyone sees and hears that speaker and the speaker's own endpoint gets
  nothing; with several open microphones (up to ``max_open_mics``) everyone gets the
  latest speaker, and the latest speaker gets the one before (the exchange they are in).
  The earlier speakers are *not* heard by the other receivers: the hub forwards encoded
  frames and never mixes audio.
* **Chair consoles** receive every live source, each on a track of its own ("the chair's
  console can see all feeds" read together with issue 8's "a delegate without the floor
  who sends media is received by nobody": a preview of silenced cameras would be a
  deliberate exception, not made here).
* **Silenced.** A publishing endpoint (remote or room) that is not live is forwarded to
  nobody, the chair consoles included, whatever it sends.

``diff(old, new)`` turns two routes into the steps a driver performs: floor switches, the
chair consoles' feeds to attach and detach, the receivers gone, who became silenced or not,
and the sources to ask for a keyframe (PLI): exactly those some receiver switched or
attached to. ``patch(old, diff(old, new)) == new``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from enum import StrEnum
from typing import NewType

from msgspec import Struct, field

from chamber.ids import MemberId, Presence, TurnStatus
from chamber.model import Sitting, Turn

EndpointId = NewType("EndpointId", str)
RoomId = NewType("RoomId", str)


class RoutingError(ValueError):
    """An endpoint table the policy cannot route: the driver built it wrong."""


class Kind(StrEnum):
    """What an endpoint is; the values are the strings the wire will carry."""

    REMOTE = "remote"  # a remote member or guest: one camera and microphone
    ROOM = "room"  # a linked hall's computer: its camera and mixed audio
    GALLERY = "gallery"  # a public screen: receive only
    CONSOLE = "console"  # the chair's console: receives every live feed


PUBLISHERS = frozenset({Kind.REMOTE, Kind.ROOM})


class Endpoint(Struct, frozen=True, kw_only=True):
    """One peer connection to the hub, and whom it speaks for."""

    id: EndpointId
    kind: Kind
    member: MemberId | None = None  # REMOTE only: the member or guest
    room: RoomId | None = None  # ROOM only: the hall

    def __post_init__(self) -> None:
        if (self.member is not None) != (self.kind is Kind.REMOTE):
            raise RoutingError(f"endpoint {self.id}: a member belongs to remote endpoints only")
        if (self.room is not None) != (self.kind is Kind.ROOM):
            raise RoutingError(f"endpoint {self.id}: a room belongs to room endpoints only")


class Route(Struct, frozen=True, kw_only=True):
    """Who receives what.

    ``floor`` has an entry for every receiver that is not a chair console: the source of
    its floor track, or None. ``consoles`` maps each chair console to the live sources it
    receives. ``silenced`` holds the publishing endpoints forwarded to nobody.
    """

    floor: dict[EndpointId, EndpointId | None] = field(default_factory=dict)
    consoles: dict[EndpointId, frozenset[EndpointId]] = field(default_factory=dict)
    silenced: frozenset[EndpointId] = frozenset()


class Switch(Struct, frozen=True, order=True):
    """Point ``receiver``'s floor track at ``source`` (None: send nothing); a receiver that
    joins gets one too."""

    receiver: EndpointId
    source: EndpointId | None


class Feed(Struct, frozen=True, order=True):
    """A chair console's track carrying ``source``."""

    console: EndpointId
    source: EndpointId


class Plan(Struct, frozen=True, kw_only=True):
    """The steps from one route to the next, each list sorted so that plans compare."""

    switches: tuple[Switch, ...] = ()
    attach: tuple[Feed, ...] = ()
    detach: tuple[Feed, ...] = ()
    opened: frozenset[EndpointId] = frozenset()  # chair consoles that joined
    gone: frozenset[EndpointId] = frozenset()  # receivers no longer routed
    silence: frozenset[EndpointId] = frozenset()  # newly forwarded to nobody
    release: frozenset[EndpointId] = frozenset()  # no longer silenced (live, or gone)
    keyframes: frozenset[EndpointId] = frozenset()  # sources to send a PLI to, once each

    def __bool__(self) -> bool:
        """False when there is nothing to do (keyframes follow from the rest)."""
        steps = (self.switches, self.attach, self.detach, self.opened, self.gone)
        return any(steps) or bool(self.silence or self.release)


def _table(
    endpoints: Iterable[Endpoint],
) -> tuple[dict[EndpointId, Endpoint], dict[MemberId, EndpointId], dict[RoomId, EndpointId]]:
    by_id: dict[EndpointId, Endpoint] = {}
    remotes: dict[MemberId, EndpointId] = {}
    rooms: dict[RoomId, EndpointId] = {}
    for ep in endpoints:
        if ep.id in by_id:
            raise RoutingError(f"endpoint {ep.id} listed twice")
        by_id[ep.id] = ep
        if ep.member is not None:
            if ep.member in remotes:
                raise RoutingError(f"member {ep.member} has two remote endpoints")
            remotes[ep.member] = ep.id
        if ep.room is not None:
            if ep.room in rooms:
                raise RoutingError(f"room {ep.room} has two room endpoints")
            rooms[ep.room] = ep.id
    return by_id, remotes, rooms


def speaking(sitting: Sitting) -> list[Turn]:
    """The speaking turns, most recently granted first. ``turns`` keeps the order the core
    granted them in, which breaks ties between turns granted in the same millisecond."""
    granted = [t for t in sitting.turns.values() if t.status is TurnStatus.SPEAKING]
    return sorted(granted, key=lambda t: t.started_at)[::-1]


def _feed(
    sitting: Sitting,
    speaker: MemberId,
    remotes: Mapping[MemberId, EndpointId],
    rooms: Mapping[RoomId, EndpointId],
    seated: Mapping[MemberId, RoomId],
) -> EndpointId | None:
    own = remotes.get(speaker)
    is_guest = speaker in sitting.guests and speaker not in sitting.roster
    if own is not None and (is_guest or sitting.attendance.get(speaker) is Presence.REMOTE):
        return own
    room = seated.get(speaker)
    return None if room is None else rooms.get(room)


def live(
    sitting: Sitting,
    endpoints: Iterable[Endpoint],
    *,
    seated: Mapping[MemberId, RoomId] | None = None,
    muted: AbstractSet[EndpointId] = frozenset(),
) -> tuple[EndpointId, ...]:
    """The sources on the air, most recently granted first, each once, none muted."""
    _, remotes, rooms = _table(endpoints)
    return _live(sitting, remotes, rooms, seated or {}, muted)


def _live(
    sitting: Sitting,
    remotes: Mapping[MemberId, EndpointId],
    rooms: Mapping[RoomId, EndpointId],
    seated: Mapping[MemberId, RoomId],
    muted: AbstractSet[EndpointId],
) -> tuple[EndpointId, ...]:
    order: dict[EndpointId, None] = {}
    for turn in speaking(sitting):
        source = _feed(sitting, turn.speaker, remotes, rooms, seated)
        if source is not None and source not in muted:
            order.setdefault(source)
    return tuple(order)


def route(
    sitting: Sitting,
    endpoints: Iterable[Endpoint],
    *,
    seated: Mapping[MemberId, RoomId] | None = None,
    muted: AbstractSet[EndpointId] = frozenset(),
) -> Route:
    """The route for ``endpoints`` in ``sitting``.

    ``seated`` says which linked hall (room) a member sits in; ``muted`` holds the
    endpoints the chair muted on the server. Raises ``RoutingError`` if an endpoint id,
    a member's remote endpoint or a room's endpoint appears twice.
    """
    by_id, remotes, rooms = _table(endpoints)
    on_air = _live(sitting, remotes, rooms, seated or {}, muted)
    floor: dict[EndpointId, EndpointId | None] = {}
    consoles: dict[EndpointId, frozenset[EndpointId]] = {}
    for ep in by_id.values():
        if ep.kind is Kind.CONSOLE:
            consoles[ep.id] = frozenset(on_air)
        else:
            floor[ep.id] = next((s for s in on_air if s != ep.id), None)
    silenced = frozenset(
        ep.id for ep in by_id.values() if ep.kind in PUBLISHERS and ep.id not in on_air
    )
    return Route(floor=floor, consoles=consoles, silenced=silenced)


def diff(old: Route, new: Route) -> Plan:
    """What to do to go from ``old`` to ``new``; keyframes exactly where a track changes
    to a source (a switch, a console's new feed, a receiver that joins)."""
    switches = tuple(
        Switch(r, s)
        for r, s in sorted(new.floor.items())
        if r not in old.floor or old.floor[r] != s
    )
    attach: list[Feed] = []
    detach: list[Feed] = []
    for console, feeds in sorted(new.consoles.items()):
        before = old.consoles.get(console, frozenset())
        attach.extend(Feed(console, s) for s in sorted(feeds - before))
        detach.extend(Feed(console, s) for s in sorted(before - feeds))
    gone = (old.floor.keys() - new.floor.keys()) | (old.consoles.keys() - new.consoles.keys())
    keyframes = {sw.source for sw in switches if sw.source is not None}
    keyframes.update(f.source for f in attach)
    return Plan(
        switches=switches,
        attach=tuple(attach),
        detach=tuple(detach),
        opened=frozenset(new.consoles.keys() - old.consoles.keys()),
        gone=frozenset(gone),
        silence=new.silenced - old.silenced,
        release=old.silenced - new.silenced,
        keyframes=frozenset(keyframes),
    )


def patch(old: Route, plan: Plan) -> Route:
    """``old`` with ``plan`` carried out: what a driver's tracks look like afterwards."""
    floor = {r: s for r, s in old.floor.items() if r not in plan.gone}
    floor.update((sw.receiver, sw.source) for sw in plan.switches)
    feeds = {c: set(s) for c, s in old.consoles.items() if c not in plan.gone}
    feeds.update((c, set()) for c in plan.opened)
    for f in plan.attach:
        feeds.setdefault(f.console, set()).add(f.source)
    for f in plan.detach:
        feeds[f.console].discard(f.source)
    return Route(
        floor=floor,
        consoles={c: frozenset(s) for c, s in feeds.items()},
        silenced=(old.silenced - plan.release) | plan.silence,
    )
