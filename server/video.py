"""Video links: the server's side of media/ (docs/media.md).

`media/` routes encoded audio and video by the sitting's floor (media/routing.py) over
aiortc peer connections (media/peers.py). This module hands it what it needs and nothing
more: the sitting's state after every durable batch, who an endpoint speaks for (a
connection's principal, decided here), and it turns a link going up or down into the
remote presence that sockets already give (`Hub.member_connected`, with its grace
period). Media state follows the sitting's state, never the other way.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from typing import Any, Literal

from chamber import Sitting
from chamber.ids import MemberId
from media.peers import EndpointStatus, IceServer, MediaConfig, OfferError, SittingMedia
from media.routing import Endpoint, EndpointId, Kind, RoomId
from server.acting import PRESIDING_ROLES, Who
from server.config import Config
from server.hub import Hub

log = logging.getLogger("nghitruong.video")

Mode = Literal["publish", "receive", "console"]
STATUS_EVERY_S = 1.0  # link quality reaches the chair's tiles this often


class NotAllowed(Exception):
    """This connection may not open a link of that mode."""


def media_config(config: Config) -> MediaConfig:
    urls = tuple(u.strip() for u in config.ice_servers.split(",") if u.strip())
    servers: list[IceServer] = []
    for url in urls:
        turn = url.startswith(("turn:", "turns:"))
        servers.append(
            IceServer(
                urls=(url,),
                username=config.turn_username or None if turn else None,
                credential=config.turn_credential or None if turn else None,
            )
        )
    hosts = tuple(h.strip() for h in config.media_hosts.split(",") if h.strip())
    return MediaConfig(
        ice_servers=tuple(servers),
        host_addresses=hosts or None,
        console_slots=config.media_console_slots,
        max_endpoints=config.media_max_endpoints,
    )


def browser_ice(config: Config, now_s: int) -> list[dict[str, Any]]:
    """The STUN/TURN servers a browser is given (RTCPeerConnection's `iceServers`). With a
    TURN secret, credentials of its own that expire after `turn_ttl_s` (coturn's
    `use-auth-secret`: username `expiry:nghitruong`, credential base64 HMAC-SHA1)."""
    out: list[dict[str, Any]] = []
    for url in (u.strip() for u in config.ice_servers.split(",")):
        if not url:
            continue
        server: dict[str, Any] = {"urls": [url]}
        if url.startswith(("turn:", "turns:")):
            if config.turn_secret:
                username = f"{now_s + config.turn_ttl_s}:nghitruong"
                digest = hmac.new(config.turn_secret.encode(), username.encode(), hashlib.sha1)
                server["username"] = username
                server["credential"] = base64.b64encode(digest.digest()).decode()
            elif config.turn_username:
                server["username"] = config.turn_username
                server["credential"] = config.turn_credential
        out.append(server)
    return out


def presiding(who: Who) -> bool:
    return who.principal is not None and (
        who.principal.kind == "operator" or bool(who.roles & PRESIDING_ROLES)
    )


def endpoint_for(who: Who, mode: Mode) -> Endpoint:
    """The endpoint a connection of ``who`` may open in ``mode``; NotAllowed otherwise.

    A member publishes as themself (their feed is heard only with the floor and while
    the core records them remote); a linked hall's computer publishes as its room; the
    presiding officers and operators may open a console; anyone may receive."""
    principal = who.principal
    if mode == "publish":
        if principal is not None and principal.kind == "room":
            return Endpoint(
                id=EndpointId(f"r:{principal.id}"), kind=Kind.ROOM, room=RoomId(principal.id)
            )
        if who.member is not None:
            member = who.member
            return Endpoint(id=EndpointId(f"m:{member}"), kind=Kind.REMOTE, member=member)
        raise NotAllowed
    if mode == "console":
        if not presiding(who):
            raise NotAllowed
        owner = who.member or f"op-{principal.id if principal else ''}"
        return Endpoint(id=EndpointId(f"c:{owner}:{secrets.token_hex(3)}"), kind=Kind.CONSOLE)
    return Endpoint(id=EndpointId(f"g:{secrets.token_hex(4)}"), kind=Kind.GALLERY)


class Video:
    """Every sitting's media, created when its first link opens."""

    def __init__(self, hub: Hub, config: MediaConfig) -> None:
        self.hub, self.config = hub, config
        self.sittings: dict[str, SittingMedia] = {}
        self._watchers: dict[str, dict[EndpointId, Callable[[], None]]] = {}
        self._ticker: dict[str, asyncio.Task[None]] = {}
        self._owners: dict[tuple[str, EndpointId], object] = {}
        self._rows: dict[str, list[EndpointStatus]] = {}  # status rows since the last change
        self._linked: set[tuple[str, EndpointId]] = set()  # remote links counted present
        hub.listeners.append(self._committed)

    def media(self, sitting: str) -> SittingMedia:
        sm = self.sittings.get(sitting)
        if sm is None:
            sm = SittingMedia(
                sitting,
                self.config,
                on_link=lambda ep, up: self._link(sitting, ep, up),
                on_change=lambda: self._changed(sitting),
            )
            self.sittings[sitting] = sm
            state = self.hub.state(sitting)
            if state is not None:
                self._seat_rooms(sm, state)
        return sm

    async def join(
        self,
        sitting: str,
        endpoint: Endpoint,
        sdp: str,
        mode: Mode,
        owner: object,
        notify: Callable[[], None],
    ) -> str:
        """Open or replace ``endpoint``'s link for ``owner`` (a connection: a member's
        second device takes the link over); the answer SDP. ``notify`` is called when the
        sitting's media status changes, until the owner leaves."""
        state = self.hub.state(sitting)
        if state is None:
            raise OfferError("media.unavailable")
        sm = self.media(sitting)
        self._owners[(sitting, endpoint.id)] = owner
        answer = await sm.join(endpoint, sdp, mode, state)
        self._rows.pop(sitting, None)
        if self._owners.get((sitting, endpoint.id)) is not owner:
            return answer  # taken over meanwhile: the newer owner's link stands
        self._watchers.setdefault(sitting, {})[endpoint.id] = notify
        if sitting not in self._ticker:
            self._ticker[sitting] = asyncio.create_task(self._tick(sitting))
        return answer

    async def leave(self, sitting: str, endpoint: EndpointId, owner: object) -> None:
        """Close ``endpoint``'s link, unless another owner has taken it over since."""
        if self._owners.get((sitting, endpoint)) is not owner:
            return
        del self._owners[(sitting, endpoint)]
        self._watchers.get(sitting, {}).pop(endpoint, None)
        sm = self.sittings.get(sitting)
        if sm is not None:
            await sm.leave(endpoint)
            self._rows.pop(sitting, None)

    def mute(self, sitting: str, endpoint: EndpointId, muted: bool) -> bool:
        sm, state = self.sittings.get(sitting), self.hub.state(sitting)
        if sm is None or state is None or endpoint not in {s.id for s in sm.status()}:
            return False
        sm.mute(endpoint, muted, state)
        return True

    def status(self, sitting: str, endpoint: EndpointId, kind: Kind) -> dict[str, Any]:
        """What ``endpoint`` is told: a console everything, others the floor source."""
        sm = self.sittings.get(sitting)
        if sm is None:
            return {"floor": None, "endpoints": [], "slots": {}}
        state = self.hub.state(sitting)
        rows = self._rows.get(sitting)
        if rows is None:  # once per change, however many links are told of it
            rows = self._rows[sitting] = sm.status()
        if kind is Kind.CONSOLE:
            return {
                "floor": None,
                "endpoints": [self._row(r, state) for r in rows],
                "slots": dict(sm.slots(endpoint)),
            }
        source = sm.floor(endpoint)
        return {
            "floor": source,
            "endpoints": [self._row(r, state) for r in rows if r.id == source],
            "slots": {},
        }

    @staticmethod
    def _row(r: EndpointStatus, state: Sitting | None) -> dict[str, Any]:
        name, seat = None, None
        if state is not None:
            who = r.member or r.room
            if who is not None:
                member = state.member(MemberId(who))
                guest = state.guests.get(MemberId(who))
                if member is not None:
                    name, seat = member.name, member.seat or None
                elif guest is not None:
                    name = guest.name
        return {
            "id": r.id,
            "kind": r.kind.value,
            "member": r.member,
            "room": r.room,
            "name": name,
            "seat": seat,
            "live": r.live,
            "muted": r.muted,
            "silenced": r.silenced,
            "connected": r.connected,
            "loss": round(r.loss, 4),
            "kbps": round(r.kbps, 1),
            "frozen": r.frozen,
        }

    def report(self, sitting: str) -> list[dict[str, Any]]:
        """Every link of the sitting, as a console's status lists them."""
        sm = self.sittings.get(sitting)
        state = self.hub.state(sitting)
        return [] if sm is None else [self._row(r, state) for r in sm.status()]

    def forwarded(self, sitting: str) -> dict[str, int]:
        sm = self.sittings.get(sitting)
        return {} if sm is None else {str(k): v for k, v in sm.forwarded.items()}

    # From the hub and from media/

    def _committed(self, sitting: str, state: Sitting) -> None:
        sm = self.sittings.get(sitting)
        if sm is not None:
            self._seat_rooms(sm, state)
            sm.update(state)

    @staticmethod
    def _seat_rooms(sm: SittingMedia, state: Sitting) -> None:
        """A linked hall is on the sitting's roster as a guest under the room's own id:
        giving it the floor puts the hall's feed on the air."""
        for guest in state.guests:
            sm.seat(guest, RoomId(guest))

    def _link(self, sitting: str, endpoint: Endpoint, up: bool) -> None:
        """A remote member's live link is remote presence, as their socket is."""
        if endpoint.kind is not Kind.REMOTE or endpoint.member is None:
            return
        key = (sitting, endpoint.id)
        if up and key not in self._linked:
            self._linked.add(key)
            self.hub.spawn(self.hub.member_connected(sitting, endpoint.member, remote=True))
        elif not up and key in self._linked:
            self._linked.discard(key)
            self.hub.member_disconnected(sitting, endpoint.member)

    def _changed(self, sitting: str) -> None:
        self._rows.pop(sitting, None)
        for notify in list(self._watchers.get(sitting, {}).values()):
            notify()

    async def _tick(self, sitting: str) -> None:
        """Link quality changes without any event: tell the consoles every second."""
        try:
            while self._watchers.get(sitting):
                await asyncio.sleep(STATUS_EVERY_S)
                self._changed(sitting)
        finally:
            self._ticker.pop(sitting, None)

    async def stop(self) -> None:
        for task in list(self._ticker.values()):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for sm in list(self.sittings.values()):
            await sm.close()
        self.sittings.clear()
