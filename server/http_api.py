"""The HTTP API (JSON; docs/http-api.md): login, sittings, commands, exports, and the
operator's councils, members and logins. Documents are in server/documents.py, the
plumbing every route shares in server/http_base.py."""

from __future__ import annotations

import asyncio
import secrets
from typing import Annotated

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from chamber import AnyCommand, export
from chamber import commands as c
from chamber.ids import CouncilId, ItemId, MemberId, Role
from chamber.limits import (
    AGENDA_BOUND,
    NAME_MAX,
    TITLE_MAX,
    CommandId,
    Id,
    Millis,
    Name,
    Password,
    Title,
    Username,
)
from chamber.log import load
from chamber.model import AgendaItem, Council, Guest, Member
from chamber.projection import Audience, project_log, project_state
from chamber.rules import Rules
from server import members_api
from server.acting import PUBLIC, Refused, schedule_check, who_in
from server.auth import Inactive, LoginFailed, RateLimited
from server.documents import document, upload_document
from server.http_base import (
    COMMAND_BODY,
    RECORD_BODY,
    SITTING_BODY,
    ApiError,
    Services,
    body,
    endpoint,
    invalid,
    lang_of,
    operator,
    outcome_json,
    principal,
    reply,
)
from server.hub import UnknownSitting
from server.member_rules import Problem, text_problems
from server.registry import Conflict, CouncilRow, NotFound, SittingRow
from server.sequencer import wall_ms

# Login


class LoginBody(msgspec.Struct):
    username: Username
    password: Password


async def login(request: Request, s: Services) -> Response:
    data = await body(request, LoginBody)
    # The peer, or the client a trusted proxy names (NGHITRUONG_TRUSTED_PROXIES, resolved
    # by uvicorn's proxy headers in server/serve.py); a forwarded header is never read here.
    address = request.client.host if request.client else "?"
    try:
        session = await asyncio.to_thread(
            s.auth.login, data.username, data.password, address, wall_ms()
        )
    except RateLimited as err:
        raise ApiError(429, "auth.rate_limited", seconds=err.retry_after_s) from err
    except Inactive as err:
        raise ApiError(403, "auth.inactive") from err
    except LoginFailed as err:
        raise ApiError(401, "auth.login_failed") from err
    p = session.principal
    roles: list[str] = ["operator"]
    name = p.username
    if p.kind == "operator":
        given = await asyncio.to_thread(s.registry.operator_name, p.id)
        name = given or p.username
    elif p.kind == "room":
        room = await asyncio.to_thread(s.registry.room, p.id)
        roles, name = ["room"], room.name
    else:
        member = await asyncio.to_thread(s.registry.member, p.id)
        roles, name = list(member.roles), member.name
    return reply(
        {
            "token": session.token,
            "kind": p.kind,
            "id": p.id,
            "name": name,
            "council": p.council,
            "roles": roles,
            "expires_at": session.expires,
        }
    )


async def logout(request: Request, s: Services) -> Response:
    await principal(request, s)
    token = request.headers["authorization"][7:]
    await asyncio.to_thread(s.auth.revoke, token)
    return reply({"ok": True})


# Sittings


async def sittings(request: Request, s: Services) -> Response:
    rows = await asyncio.to_thread(s.registry.sittings)
    out = []
    for row in rows:
        state = s.hub.state(row.id)
        out.append(
            {
                "id": row.id,
                "council": row.council,
                "title": row.title,
                "scheduled_at": row.scheduled_at,
                "phase": state.phase.value if state else "scheduled",
            }
        )
    return reply(out)


class AgendaEntry(msgspec.Struct):
    title: Title
    presenter: Name = ""


class NewSitting(msgspec.Struct):
    council: Id
    title: Title
    scheduled_at: Millis
    agenda: Annotated[list[AgendaEntry], AGENDA_BOUND] = msgspec.field(default_factory=list)
    rules: Rules | None = None  # the council's rules of procedure; the law's by default


async def roster(s: Services, council_id: str) -> Council:
    row = await asyncio.to_thread(s.registry.council, council_id)
    # Deactivated members stay in the registry and in the records of past sittings, but
    # are put on no new sitting's roster.
    members = await asyncio.to_thread(lambda: s.registry.members(council_id, active_only=True))
    guests = await asyncio.to_thread(s.registry.guests, council_id)
    rooms = await asyncio.to_thread(s.registry.rooms, council_id)
    return Council(
        id=CouncilId(row.id),
        name=row.name,
        total_seats=row.total_seats,
        members=tuple(
            Member(
                id=MemberId(m.id),
                name=m.name,
                seat=m.seat,
                roles=frozenset(Role(r) for r in m.roles),
            )
            for m in members
        ),
        # A linked hall is a guest under its room's id: giving it the floor puts the
        # hall's feed on the air (server/video.py).
        guests=tuple(
            Guest(id=MemberId(g.id), name=g.name, affiliation=g.affiliation) for g in guests
        )
        + tuple(Guest(id=MemberId(r.id), name=r.name) for r in rooms),
    )


async def create_sitting(request: Request, s: Services) -> Response:
    await operator(request, s)
    data = await body(request, NewSitting)
    problems = text_problems("title", data.title.strip(), TITLE_MAX, required=True)
    for n, entry in enumerate(data.agenda):
        problems += text_problems(
            f"agenda[{n}].title", entry.title.strip(), TITLE_MAX, required=True
        )
    if problems:
        raise invalid(problems)
    council = await roster(s, data.council)
    sitting_id = f"ky-hop-{secrets.token_hex(4)}"
    agenda = tuple(
        AgendaItem(id=ItemId(f"i{n}"), title=a.title, presenter=a.presenter)
        for n, a in enumerate(data.agenda, start=1)
    )
    command = c.ScheduleSitting(
        sitting=sitting_id,
        council=council,
        title=data.title,
        scheduled_at=data.scheduled_at,
        agenda=agenda,
        rules=data.rules,
    )
    outcome = await s.hub.submit(sitting_id, command, None, Role.OPERATOR, None)
    if not outcome.answer.ok:
        raise ApiError(422, outcome.answer.code, **outcome.answer.params)
    await asyncio.to_thread(
        s.registry.add_sitting, SittingRow(sitting_id, data.council, data.title, data.scheduled_at)
    )
    return reply({"id": sitting_id}, 201)


async def sitting_state(request: Request, s: Services) -> Response:
    sitting = request.path_params["sitting"]
    await s.hub.served(sitting)
    state = s.hub.state(sitting)
    assert state is not None
    return reply(project_state(state, Audience.PUBLIC))


async def sitting_log(request: Request, s: Services) -> Response:
    """The log as the request's audience may have it (chamber/projection.py `project_log`):
    anyone gets the public prefix; a bearer token, its principal's (a presiding member or
    an operator: the whole log). A token that does not resolve is refused, not demoted."""
    sitting = request.path_params["sitting"]
    state = (await s.hub.served(sitting)).state
    who = PUBLIC
    if "authorization" in request.headers:
        try:
            who = who_in(await principal(request, s), state)
        except Refused as refused:
            raise ApiError(403, refused.code, **refused.params) from None
    stored = await s.hub.journal.read(sitting)
    view = project_log([load(r.payload, r.hash) for r in stored], who.audience, who.member)
    return Response(
        export(view.records, view.held_back, who.audience.value),
        media_type="application/json",
        headers={
            "content-disposition": f'attachment; filename="{sitting}.log.json"',
            "cache-control": "no-store",
            "vary": "authorization",
        },
    )


class CommandBody(msgspec.Struct):
    id: CommandId
    cmd: AnyCommand


async def command(request: Request, s: Services) -> Response:
    """A command over HTTP (the operator console; integrations): the same principal to
    actor and role as a socket's (server/acting.py), the same budget, the same checks."""
    who_p = await principal(request, s)
    data = await body(request, CommandBody)
    sitting = request.path_params["sitting"]
    name = str(data.cmd.__struct_config__.tag)
    try:
        state = (await s.hub.served(sitting)).state
    except UnknownSitting:
        if not isinstance(data.cmd, c.ScheduleSitting):
            raise
        state = None  # a sitting.schedule: the sitting is still to be
    try:
        if state is None and who_p.kind != "operator":
            raise ApiError(409, "permission.denied", command=name, role="delegate", state="none")
        who = who_in(who_p, state)
        if not s.hub.buckets.take(who.rate_key or ""):
            raise ApiError(429, "rate.limited")
        if state is None and isinstance(data.cmd, c.ScheduleSitting):
            schedule_check(sitting, data.cmd, await roster(s, data.cmd.council.id))
    except Refused as refused:
        status = 403 if refused.code == "auth.not_a_member" else 422
        raise ApiError(status, refused.code, **refused.params) from None
    role = who.role_for(name)
    if role is None:  # a linked hall's computer issues no command
        raise ApiError(403, "permission.denied", command=name, role="room", state="read-only")
    outcome = await s.hub.submit(sitting, data.cmd, who.member, role, who.key(data.id))
    return outcome_json(outcome, lang_of(request))


# Councils, members, logins (operator)


async def councils(request: Request, s: Services) -> Response:
    await operator(request, s)
    if request.method == "POST":
        row = await body(request, CouncilRow)
        row = msgspec.structs.replace(row, name=row.name.strip())
        problems = text_problems("name", row.name, NAME_MAX, required=True)
        if problems:
            raise invalid(problems)
        try:
            return reply(await asyncio.to_thread(s.registry.add_council, row), 201)
        except NotFound:  # its parent: a field of the body, not the path
            raise invalid([Problem("parent", "council.no_parent", {"id": row.parent})]) from None
        except Conflict:
            problem = Problem("id", "council.id_taken", {"id": row.id})
            raise ApiError.about([problem], 409, "registry.conflict", detail=row.id) from None
    return reply(await asyncio.to_thread(s.registry.councils))


def routes() -> list[Route]:
    return [
        Route("/api/login", endpoint(login), methods=["POST"]),
        Route("/api/logout", endpoint(logout), methods=["POST"]),
        Route("/api/sittings", endpoint(sittings), methods=["GET"]),
        Route("/api/sittings", endpoint(create_sitting, SITTING_BODY), methods=["POST"]),
        Route("/api/sittings/{sitting}", endpoint(sitting_state), methods=["GET"]),
        Route("/api/sittings/{sitting}/log", endpoint(sitting_log), methods=["GET"]),
        Route(
            "/api/sittings/{sitting}/commands", endpoint(command, COMMAND_BODY), methods=["POST"]
        ),
        Route(
            "/api/sittings/{sitting}/documents",
            endpoint(upload_document, None),  # bounded by the upload limit, in the handler
            methods=["POST"],
        ),
        Route("/api/documents/{digest}", endpoint(document), methods=["GET"]),
        Route("/api/councils", endpoint(councils, RECORD_BODY), methods=["GET", "POST"]),
        *members_api.routes(),
    ]


# What server/openapi.py describes, where it looks for the bodies.
NewMember = members_api.NewMember
LoginRequest = members_api.LoginRequest

__all__ = ["ApiError", "LoginRequest", "NewMember", "Services", "routes"]
