"""Video over HTTP: linked halls (rooms) for the operator (list, create, reset a login),
and a sitting's video links for whoever runs it (status and forwarded packet counts).

A room is a hall's computer: its camera and the hall's mixed audio join a sitting as one
video link (server/video.py), and the room is on the council's roster as a guest under
its own id, so that the chair can give the floor to a speaker in that hall.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from chamber.limits import Name
from server.acting import Refused, who_in
from server.http_base import ApiError, Services, body, endpoint, operator, principal, reply
from server.registry import Conflict, RoomRow, new_id
from server.sequencer import wall_ms
from server.video import browser_ice, presiding


class NewRoom(msgspec.Struct):
    name: Annotated[Name, msgspec.Meta(min_length=1)]


async def rooms(request: Request, s: Services) -> Response:
    await operator(request, s)
    council = request.path_params["council"]
    await asyncio.to_thread(s.registry.council, council)  # NotFound: 404
    if request.method == "POST":
        data = await body(request, NewRoom)
        if not data.name.strip():
            raise ApiError(422, "request.invalid", detail="name")
        row = await asyncio.to_thread(
            s.registry.add_room, RoomRow(new_id("room"), council, data.name.strip())
        )
        password = await asyncio.to_thread(s.auth.issue_login, "room", row.id, council, row.id)
        return reply(
            {"id": row.id, "name": row.name, "username": row.id, "password": password}, 201
        )
    out = []
    for r in await asyncio.to_thread(s.registry.rooms, council):
        login = await asyncio.to_thread(s.registry.login_of, "room", r.id)
        out.append({"id": r.id, "name": r.name, "username": login.username if login else None})
    return reply(out)


async def room_password(request: Request, s: Services) -> Response:
    """A new password for a room's login (shown once); its open sessions end."""
    await operator(request, s)
    room = await asyncio.to_thread(s.registry.room, request.path_params["room"])
    login = await asyncio.to_thread(s.registry.login_of, "room", room.id)
    username = login.username if login else room.id
    try:
        password = await asyncio.to_thread(
            s.auth.issue_login, "room", room.id, room.council, username
        )
    except Conflict as err:  # pragma: no cover - the room's own username is its id
        raise ApiError(409, "request.conflict", detail=str(err)) from None
    return reply({"id": room.id, "username": username, "password": password})


async def sitting_media(request: Request, s: Services) -> Response:
    """Every video link of a sitting, as a chair console sees them, and the packets the
    hub forwarded from each source: for the operator and the presiding officers."""
    sitting = request.path_params["sitting"]
    state = (await s.hub.sequencer(sitting)).state
    try:
        who = who_in(await principal(request, s), state)
    except Refused as refused:
        raise ApiError(403, refused.code, **refused.params) from None
    if not presiding(who):
        raise ApiError(403, "media.not_allowed", mode="status")
    video = s.video
    if video is None:
        return reply({"enabled": False, "endpoints": [], "forwarded": {}})
    return reply(
        {
            "enabled": True,
            "endpoints": video.report(sitting),
            "forwarded": video.forwarded(sitting),
        }
    )


async def ice(request: Request, s: Services) -> Response:
    """What a browser needs before its offer: whether video is on, and the STUN/TURN
    servers to gather through (TURN credentials of its own when a secret is set)."""
    config = request.app.state.config
    servers = browser_ice(config, wall_ms() // 1000) if s.video is not None else []
    return Response(
        msgspec.json.encode({"enabled": s.video is not None, "iceServers": servers}),
        media_type="application/json",
        headers={"cache-control": "no-store"},
    )


def routes() -> list[Route]:
    return [
        Route("/api/media/ice", endpoint(ice), methods=["GET"]),
        Route("/api/sittings/{sitting}/media", endpoint(sitting_media), methods=["GET"]),
        Route("/api/councils/{council}/rooms", endpoint(rooms), methods=["GET", "POST"]),
        Route("/api/rooms/{room}/password", endpoint(room_password), methods=["POST"]),
    ]
