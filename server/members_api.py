"""A council's members over HTTP (operator; docs/http-api.md#members): list, add, edit,
deactivate or delete, import from a CSV file, and create or reset a member's login.

The registry holds the rules (server/registry.py): a name that is one trimmed line of at
most 200 characters, a seat no other active member of the council holds, no more active
members than the council has seats. A refusal names the field it is about, so that the
console shows the reason beside it. A member who is on a sitting's roster is part of that
sitting's record: they can be deactivated (left off new rosters), not deleted.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Annotated, Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from chamber.limits import MEMBERS_MAX, ROLES_BOUND, Id, Name, Seat, Username
from server import members_csv
from server.http_base import (
    RECORD_BODY,
    ApiError,
    Services,
    body,
    endpoint,
    field_errors,
    invalid,
    lang_of,
    operator,
    reply,
)
from server.hub import UnknownSitting
from server.member_rules import InUse
from server.registry import ImportCheck, MemberRow

IMPORT_BODY = 256 * 1024  # a CSV of the largest roster (500 members) with room to spare


class NewMember(msgspec.Struct):
    name: Name
    seat: Seat = ""
    roles: Annotated[list[Id], ROLES_BOUND] = msgspec.field(default_factory=lambda: ["delegate"])


class MemberEdit(msgspec.Struct, forbid_unknown_fields=True):
    """The fields to change; an absent field stays as it is."""

    name: Name | None = None
    seat: Seat | None = None
    roles: Annotated[list[Id], ROLES_BOUND] | None = None
    active: bool | None = None


def listed(m: MemberRow, username: str | None) -> dict[str, Any]:
    return {**msgspec.to_builtins(m), "username": username}


async def members(request: Request, s: Services) -> Response:
    await operator(request, s)
    council = request.path_params["council"]
    if request.method == "POST":
        data = await body(request, NewMember)
        row = MemberRow(
            f"m-{secrets.token_hex(4)}", council, data.name, data.seat, tuple(data.roles)
        )
        return reply(await asyncio.to_thread(s.registry.add_member, row), 201)
    await asyncio.to_thread(s.registry.council, council)  # NotFound: 404
    rows = await asyncio.to_thread(s.registry.members, council)
    out = []
    for m in rows:
        login_row = await asyncio.to_thread(s.registry.login_of, "member", m.id)
        out.append(listed(m, login_row.username if login_row else None))
    return reply(out)


async def sittings_of(s: Services, member: MemberRow) -> list[str]:
    """The sittings of the member's council whose roster (in their log) has the member."""
    found = []
    for row in await asyncio.to_thread(s.registry.sittings, member.council):
        try:
            state = (await s.hub.served(row.id)).state
        except UnknownSitting:  # pragma: no cover - a registered sitting has a log
            continue
        if state is not None and any(m.id == member.id for m in state.council.members):
            found.append(row.id)
    return found


async def member(request: Request, s: Services) -> Response:
    """PATCH: edit or (de)activate a member; DELETE: delete one on no sitting's roster."""
    await operator(request, s)
    current = await asyncio.to_thread(s.registry.member, request.path_params["member"])
    if request.method == "DELETE":
        on = await sittings_of(s, current)
        if on:
            raise InUse(current.id, on)
        await asyncio.to_thread(s.registry.delete_member, current.id)
        await asyncio.to_thread(s.auth.end_sessions, "member", current.id)
        return reply({"ok": True})
    data = await body(request, MemberEdit)
    row = await asyncio.to_thread(
        lambda: s.registry.update_member(
            current.id,
            name=data.name,
            seat=data.seat,
            roles=None if data.roles is None else tuple(data.roles),
            active=data.active,
        )
    )
    if current.active and not row.active:  # deactivated: their open sessions end now
        await asyncio.to_thread(s.auth.end_sessions, "member", row.id)
    login_row = await asyncio.to_thread(s.registry.login_of, "member", row.id)
    return reply(listed(row, login_row.username if login_row else None))


def check_json(check: ImportCheck, lang: str) -> dict[str, Any]:
    return {
        "ok": check.ok,
        "rows": [
            {
                "line": r.line,
                "name": r.name,
                "seat": r.seat,
                "roles": list(r.roles),
                "errors": field_errors(list(r.problems), lang),
            }
            for r in check.rows
        ],
        "errors": field_errors(check.problems, lang),
        "added": [msgspec.to_builtins(m) for m in check.added],
    }


async def import_members(request: Request, s: Services) -> Response:
    """A CSV file of members (server/members_csv.py): checked and answered row by row;
    with ``?commit=true`` and nothing wrong, every row is added at once, else none."""
    await operator(request, s)
    council = request.path_params["council"]
    commit = request.query_params.get("commit", "false").lower() in ("1", "true", "yes")
    await asyncio.to_thread(s.registry.council, council)  # NotFound: 404
    data = b"".join([chunk async for chunk in request.stream()])
    try:
        rows = members_csv.read(data, MEMBERS_MAX)
    except members_csv.CsvError as err:
        raise invalid([err.problem]) from None
    check = await asyncio.to_thread(s.registry.import_members, council, rows, commit)
    answer = check_json(check, lang_of(request))
    if commit and not check.ok:
        raise ApiError(
            422,
            "import.refused",
            invalid_rows=sum(1 for r in check.rows if r.problems),
            rows=len(check.rows),
        ) from None
    return reply(answer)


class LoginRequest(msgspec.Struct):
    # A new login's username: what `nghitruong operator add` accepts too (server/cli.py).
    username: (
        Annotated[Username, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")] | None
    ) = None


async def member_login(request: Request, s: Services) -> Response:
    """Create or reset a member's login; the password is shown this once, and every
    session of the member ends (their open sockets are closed, server/sessions.py)."""
    await operator(request, s)
    row = await asyncio.to_thread(s.registry.member, request.path_params["member"])
    data = await body(request, LoginRequest, optional=True)
    existing = await asyncio.to_thread(s.registry.login_of, "member", row.id)
    username = data.username or (existing.username if existing else row.id)
    password = await asyncio.to_thread(s.auth.issue_member_login, row.id, row.council, username)
    return reply({"username": username, "password": password, "member": row.id})


def routes() -> list[Route]:
    return [
        Route(
            "/api/councils/{council}/members",
            endpoint(members, RECORD_BODY),
            methods=["GET", "POST"],
        ),
        Route(
            "/api/councils/{council}/members/import",
            endpoint(import_members, IMPORT_BODY),
            methods=["POST"],
        ),
        Route("/api/members/{member}", endpoint(member, RECORD_BODY), methods=["PATCH", "DELETE"]),
        Route("/api/members/{member}/login", endpoint(member_login), methods=["POST"]),
    ]
