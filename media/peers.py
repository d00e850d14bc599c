"""A sitting's video links: the media driver the server holds, one per sitting.

``SittingMedia`` keeps one ``Link`` (peer connection) per endpoint and one ``Source`` per
publishing endpoint, and carries out the routing policy (media/routing.py): after every
change it computes the route, diffs it against the last one and performs the plan (floor
switches, chair console feeds, who is silenced, keyframe requests). It never decodes; see
media/forward.py for how frames travel and media/passthrough.py for the aiortc internals.

Callbacks: ``on_link(endpoint, up)`` when a link's connection comes up (True) or fails or
closes after having been up (False; not on ``close()`` nor for a link replaced by a new
offer from the same endpoint); ``on_change()`` when anything ``status()``, ``floor()`` or
``slots()`` report may have changed. Both are called synchronously from the event loop
and must not block.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from msgspec import Struct

from chamber.ids import MemberId
from chamber.model import Sitting
from media import passthrough
from media.forward import OutTrack, Source
from media.link import Link, Mode, Slot, ice_servers, settle
from media.routing import (
    PUBLISHERS,
    Endpoint,
    EndpointId,
    Kind,
    Plan,
    RoomId,
    Route,
    diff,
    live,
    route,
)
from media.sdp import BadOffer, check_shape, filter_offer

log = logging.getLogger(__name__)
STATS_INTERVAL_S = 1.0
MODES: dict[str, frozenset[Kind]] = {
    "publish": PUBLISHERS,
    "receive": frozenset({Kind.REMOTE, Kind.ROOM, Kind.GALLERY}),
    "console": frozenset({Kind.CONSOLE}),
}


class IceServer(Struct, frozen=True, kw_only=True):
    """A STUN or TURN server, as RTCIceServer has it."""

    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None


class MediaConfig(Struct, frozen=True, kw_only=True):
    """How the hub's video links are set up.

    ``host_addresses``: the addresses ICE gathers host candidates on (tests: 127.0.0.1);
    None leaves it to aioice (every interface but loopback). ``queue_frames``: frames an
    outgoing track holds before it is flushed. ``pli_interval_s``: at most one keyframe
    request per source per interval.
    """

    ice_servers: tuple[IceServer, ...] = ()
    host_addresses: tuple[str, ...] | None = None
    console_slots: int = 3
    queue_frames: int = 30
    pli_interval_s: float = 0.5
    max_endpoints: int = 200


class EndpointStatus(Struct, frozen=True, kw_only=True):
    """One endpoint as the chair console shows it (the wire's media.status entries,
    less the name the server adds)."""

    id: EndpointId
    kind: Kind
    member: MemberId | None
    room: RoomId | None
    connected: bool  # ICE and DTLS up
    live: bool  # a publisher on the air
    muted: bool  # muted by the chair on the server
    silenced: bool  # a publisher forwarded to nobody
    loss: float  # packet loss, 0..1 (incoming for publishers)
    kbps: float  # incoming bitrate (publishers)
    frozen: bool  # live but no video frame for more than a second


class OfferError(Exception):
    """An offer the hub does not answer; ``code`` is the wire's error code: media.bad_offer
    (the offer, or the endpoint for the mode), media.full (``max_endpoints``) or
    media.unavailable (the hub cannot set up a connection now, or it is closed)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


class SittingMedia:
    """Every video link of one sitting."""

    def __init__(
        self,
        sitting_id: str,
        config: MediaConfig,
        on_link: Callable[[Endpoint, bool], None],
        on_change: Callable[[], None],
    ) -> None:
        passthrough.install()
        self.sitting_id = sitting_id
        self.config = config
        self._on_link = on_link
        self._on_change = on_change
        self._ice = [(s.urls, s.username, s.credential) for s in config.ice_servers]
        self._links: dict[EndpointId, Link] = {}
        self._sources: dict[EndpointId, Source] = {}
        self._retired_counts: dict[EndpointId, int] = {}
        self._muted: set[EndpointId] = set()
        self._seated: dict[MemberId, RoomId] = {}
        self._state: Sitting | None = None
        self._route = Route()
        self._tasks: set[asyncio.Task[None]] = set()
        self._stats: asyncio.Task[None] | None = None
        self._frozen: dict[EndpointId, bool] = {}
        self._closed = False

    # -- the driver's API --------------------------------------------------------------

    async def join(self, endpoint: Endpoint, offer_sdp: str, mode: Mode, state: Sitting) -> str:
        """Answer ``endpoint``'s offer (replacing its link if it has one)."""
        if self._closed:
            raise OfferError("media.unavailable", "the sitting's media is closed")
        if endpoint.kind not in MODES.get(mode, frozenset()):
            raise OfferError("media.bad_offer", f"a {endpoint.kind} endpoint cannot {mode}")
        if endpoint.id not in self._links and len(self._links) >= self.config.max_endpoints:
            raise OfferError("media.full")
        for other in self._links.values():
            ep = other.endpoint
            same = (ep.member is not None and ep.member == endpoint.member) or (
                ep.room is not None and ep.room == endpoint.room
            )
            if same and ep.id != endpoint.id:
                raise OfferError("media.bad_offer", f"{ep.id} already speaks for them")
        try:
            offer, sections = filter_offer(offer_sdp)
            check_shape(sections, mode, self.config.console_slots)
        except BadOffer as exc:
            raise OfferError("media.bad_offer", str(exc)) from exc
        link = Link(endpoint, mode, ice_servers(self._ice))
        try:
            answer = await link.answer(
                offer,
                sections,
                self.config.queue_frames,
                self.config.host_addresses,
                self._pli_from_receiver,
            )
        except OSError as exc:  # no address or port to gather on: the hub's trouble
            await link.close()
            raise OfferError("media.unavailable", str(exc)) from exc
        except Exception as exc:  # aiortc refused the offer
            await link.close()
            raise OfferError("media.bad_offer", str(exc)) from exc
        if self._closed:  # closed while answering
            await link.close()
            raise OfferError("media.unavailable", "the sitting's media is closed")
        old = self._links.get(endpoint.id)
        if old is not None:
            old.retired = True
        self._links[endpoint.id] = link
        link.pc.on("connectionstatechange", lambda: self._link_state(link))
        if endpoint.kind in PUBLISHERS:
            source = self._sources.get(endpoint.id)
            if source is None:
                source = Source(endpoint.id, self.config.pli_interval_s)
                self._sources[endpoint.id] = source
            source.set_input(link.inputs)
            source.request_pli = lambda: link.request_pli(self._spawn)
        self._newer(state)  # update() may have brought a newer state while answering
        # The new link's tracks route from scratch: forget what the old one received.
        self._route = Route(
            floor={r: s for r, s in self._route.floor.items() if r != endpoint.id},
            consoles={c: f for c, f in self._route.consoles.items() if c != endpoint.id},
            silenced=self._route.silenced,
        )
        self._apply(force=True)
        if old is not None:
            await old.close()
        if self._stats is None:
            self._stats = asyncio.ensure_future(self._run_stats())
        return answer

    async def leave(self, endpoint_id: EndpointId) -> None:
        """Close ``endpoint_id``'s link; it no longer routes."""
        link = self._links.pop(endpoint_id, None)
        if link is None:
            return
        was_up = link.up
        link.retired = True
        self._apply(force=True)
        source = self._sources.pop(endpoint_id, None)
        if source is not None:
            self._retire(source)
            await source.close()
        await link.close()
        if was_up:
            self._call(self._on_link, link.endpoint, False)
            self._call(self._on_change)

    def update(self, state: Sitting) -> None:
        """The sitting changed: route again."""
        self._newer(state)
        self._apply()

    def _newer(self, state: Sitting) -> None:
        """Keep the newest state seen: one read before an await never undoes a later one."""
        if self._state is None or state.seq >= self._state.seq:
            self._state = state

    def mute(self, endpoint_id: EndpointId, muted: bool, state: Sitting) -> None:
        """Mute or unmute ``endpoint_id`` on the server (overrides the floor)."""
        (self._muted.add if muted else self._muted.discard)(endpoint_id)
        self._newer(state)
        self._apply(force=True)

    def seat(self, member_id: MemberId, room_id: RoomId | None) -> None:
        """``member_id`` sits in the linked hall ``room_id`` (None: in none)."""
        if room_id is None:
            self._seated.pop(member_id, None)
        else:
            self._seated[member_id] = room_id
        self._apply()

    def status(self) -> list[EndpointStatus]:
        out = []
        for eid, link in self._links.items():
            ep, source = link.endpoint, self._sources.get(eid)
            live = ep.kind in PUBLISHERS and eid not in self._route.silenced
            out.append(
                EndpointStatus(
                    id=eid,
                    kind=ep.kind,
                    member=ep.member,
                    room=ep.room,
                    connected=link.up,
                    live=live,
                    muted=eid in self._muted,
                    silenced=eid in self._route.silenced,
                    loss=round(link.loss, 4),
                    kbps=round(source.kbps(), 1) if source is not None else 0.0,
                    frozen=live and source is not None and source.frozen(),
                )
            )
        return out

    def floor(self, receiver_id: EndpointId) -> EndpointId | None:
        return self._route.floor.get(receiver_id)

    def slots(self, console_id: EndpointId) -> dict[str, EndpointId | None]:
        link = self._links.get(console_id)
        return {} if link is None else {s.mid: s.source for s in link.slots}

    @property
    def forwarded(self) -> Mapping[EndpointId, int]:
        counts = dict(self._retired_counts)
        for eid, source in self._sources.items():
            counts[eid] = counts.get(eid, 0) + source.forwarded
        return counts

    async def close(self) -> None:
        """Close every link; nothing of this sitting's media runs afterwards."""
        self._closed = True
        if self._stats is not None:
            self._stats.cancel()
            await settle({self._stats})
            self._stats = None
        links, self._links = list(self._links.values()), {}
        for link in links:
            link.retired = True
        for source in self._sources.values():
            await source.close()
        for link in links:
            await link.close()
        for source in self._sources.values():
            await source.drain()
        await settle(self._tasks)

    # -- carrying out the route --------------------------------------------------------

    def _apply(self, force: bool = False) -> None:
        if self._state is None:
            return
        endpoints = [link.endpoint for link in self._links.values()]
        new = route(self._state, endpoints, seated=self._seated, muted=self._muted)
        plan = diff(self._route, new)
        self._route = new
        if not plan and not force:
            return
        self._carry_out(plan)
        self._call(self._on_change)

    def _carry_out(self, plan: Plan) -> None:
        for sw in plan.switches:
            link = self._links.get(sw.receiver)
            if link is not None and link.floor is not None:
                src = None if sw.source is None else self._sources.get(sw.source)
                for track in link.floor:
                    track.set_source(src)
        for feed in plan.detach:
            link = self._links.get(feed.console)
            for slot in [] if link is None else link.slots:
                if slot.source == feed.source:
                    slot.show(None)
        touched = {f.console for f in (*plan.attach, *plan.detach)} | set(plan.opened)
        for console in touched:
            link = self._links.get(console)
            if link is not None:
                self._fill_slots(link.slots, self._route.consoles.get(console, frozenset()))
        for eid, source in self._sources.items():
            source.silenced = eid in self._route.silenced or eid not in self._links
        for eid in plan.keyframes:
            wanted = self._sources.get(eid)
            if wanted is not None:
                wanted.request_keyframe()

    def _fill_slots(self, slots: list[Slot], feeds: frozenset[EndpointId]) -> None:
        """Put the feeds not shown yet in free slots, most recently granted first."""
        shown = {s.source for s in slots}
        waiting = [f for f in self._live_order() if f in feeds and f not in shown]
        for slot in slots:
            if slot.source is None and waiting:
                slot.show(self._sources.get(waiting.pop(0)))

    def _live_order(self) -> list[EndpointId]:
        """Live sources, most recently granted first (what the route's floor follows)."""
        if self._state is None:
            return []
        endpoints = [link.endpoint for link in self._links.values()]
        return list(live(self._state, endpoints, seated=self._seated, muted=self._muted))

    # -- events ------------------------------------------------------------------------

    def _link_state(self, link: Link) -> None:
        if link.retired or self._links.get(link.endpoint.id) is not link:
            return
        state = link.pc.connectionState
        if state == "connected" and not link.up:
            link.up = True
            source = self._sources.get(link.endpoint.id)
            if source is not None:
                source.request_keyframe()
            self._call(self._on_link, link.endpoint, True)
            self._call(self._on_change)
        elif state in ("failed", "closed") and link.up:
            link.up = False
            self._call(self._on_link, link.endpoint, False)
            self._call(self._on_change)

    def _pli_from_receiver(self, track: OutTrack) -> None:
        """A client asked the hub's sender for a keyframe: ask the track's source."""
        if track.source is not None:
            track.source.request_keyframe()

    async def _run_stats(self) -> None:
        while True:
            await asyncio.sleep(STATS_INTERVAL_S)
            changed = False
            for eid, link in list(self._links.items()):
                if link.up and not link.retired:
                    try:
                        await link.refresh_loss()
                    except Exception:  # a connection closing under the stats read
                        log.debug("stats of %s failed", eid, exc_info=True)
                source = self._sources.get(eid)
                live = source is not None and not source.silenced
                frozen = live and source is not None and source.frozen()
                if self._frozen.get(eid, False) != frozen:
                    self._frozen[eid] = frozen
                    changed = True
            if changed:
                self._call(self._on_change)

    def _retire(self, source: Source) -> None:
        self._retired_counts[source.endpoint] = (
            self._retired_counts.get(source.endpoint, 0) + source.forwarded
        )
        for kind in ("audio", "video"):
            for track in list(source.sinks[kind]):
                track.set_source(None)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    def _call(callback: Callable[..., None], *args: Any) -> None:
        try:
            callback(*args)
        except Exception:
            log.exception("media callback %r failed", callback)
