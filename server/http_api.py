"""The HTTP API (JSON; docs/http-api.md): login, sittings, commands, documents, exports,
and the operator's councils, members and logins."""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import msgspec
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message

from chamber import AnyCommand, export
from chamber import commands as c
from chamber.ids import CouncilId, DocHash, ItemId, MemberId, Role
from chamber.limits import (
    AGENDA_BOUND,
    ROLES_BOUND,
    CommandId,
    Id,
    Millis,
    Name,
    Password,
    Seat,
    Title,
    Username,
)
from chamber.log import load
from chamber.model import AgendaItem, Council, Guest, Member
from chamber.projection import Audience, project_log, project_state
from chamber.rules import Rules
from server import doctypes
from server.acting import PUBLIC, Refused, command_check, who_in
from server.auth import Auth, LoginFailed, Principal, RateLimited
from server.hub import Hub, UnknownSitting
from server.i18n import negotiate, t
from server.registry import Conflict, CouncilRow, MemberRow, NotFound, Registry, SittingRow
from server.security import BODY_LIMIT
from server.sequencer import Outcome, wall_ms
from server.sessions import SessionWatch

_json = msgspec.json.Encoder()

# The largest body each route reads (docs/http-api.md#limits). A larger one is refused with
# 413 before it is read (Content-Length) or as soon as the bytes read pass the limit.
SMALL_BODY = 4 * 1024  # a login, a member's login, a council or a member
COMMAND_BODY = 64 * 1024  # a command: as large as the socket's largest frame
SITTING_BODY = 256 * 1024  # a new sitting: its title, agenda and rules of procedure
FORM_BODY = 64 * 1024  # an upload's form fields and multipart envelope, beyond the file


@dataclass
class Services:
    hub: Hub
    registry: Registry
    auth: Auth
    documents: Path
    max_upload_bytes: int
    watch: SessionWatch | None = None  # open sockets that end with their session


class ApiError(Exception):
    def __init__(self, status: int, code: str, **params: Any) -> None:
        super().__init__(code)
        self.status, self.code, self.params = status, code, params


def reply(data: Any, status: int = 200) -> Response:
    return Response(_json.encode(data), status_code=status, media_type="application/json")


def lang_of(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"))


Handler = Callable[[Request, Services], Awaitable[Response]]


def endpoint(
    handler: Handler, max_body: int | None = SMALL_BODY
) -> Callable[[Request], Awaitable[Response]]:
    """The route's handler with its errors answered; its body bounded to ``max_body`` bytes
    (None: the handler bounds it itself)."""

    async def run(request: Request) -> Response:
        try:
            if max_body is not None:
                too_large = ApiError(413, "request.too_large", limit=max_body)
                request = bounded(request, max_body, too_large)
            return await handler(request, request.app.state.services)
        except ApiError as err:
            message = t(f"error.{err.code}", lang_of(request), **err.params)
            answer = reply({"code": err.code, "message": message, "params": err.params}, err.status)
            if err.status == 429 and "seconds" in err.params:
                answer.headers["Retry-After"] = str(err.params["seconds"])
            return answer
        except msgspec.ValidationError as err:
            message = t("error.request.invalid", lang_of(request), detail=str(err))
            return reply(
                {"code": "request.invalid", "message": message, "params": {"detail": str(err)}}, 422
            )
        except NotFound as err:
            return reply(
                {
                    "code": "registry.not_found",
                    "message": t("error.registry.not_found", lang_of(request)),
                    "params": {"id": str(err)},
                },
                404,
            )
        except Conflict as err:
            return reply(
                {
                    "code": "registry.conflict",
                    "message": t("error.registry.conflict", lang_of(request)),
                    "params": {"detail": str(err)},
                },
                409,
            )
        except UnknownSitting as err:
            return reply(
                {
                    "code": "sitting.unknown",
                    "message": t("error.sitting.unknown", lang_of(request), sitting=str(err)),
                    "params": {"sitting": str(err)},
                },
                404,
            )

    return run


def bounded(request: Request, limit: int, too_large: ApiError) -> Request:
    """The request with a body that stops at ``limit`` bytes: ``too_large`` is raised when
    Content-Length says more, or as soon as the bytes read pass it (a chunked body), so
    no more than ``limit`` and one chunk is ever held. What is left of the body is
    dropped or cut off by server.security.UnreadBody."""
    request.scope[BODY_LIMIT] = limit
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise too_large
    seen = 0

    async def receive() -> Message:
        nonlocal seen
        message = await request.receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise too_large
        return message

    return Request(request.scope, receive)


async def body(request: Request, kind: type[Any], *, optional: bool = False) -> Any:
    """The JSON body as ``kind``, read as a stream within the route's limit (`endpoint`);
    an ``optional`` body may be empty: ``kind()`` then."""
    chunks = [chunk async for chunk in request.stream()]
    raw = b"".join(chunks)
    if optional and not raw.strip():
        return kind()
    try:
        return msgspec.json.decode(raw, type=kind)
    except msgspec.DecodeError as err:
        raise ApiError(422, "request.invalid", detail=str(err)) from err


async def principal(request: Request, s: Services) -> Principal:
    header = request.headers.get("authorization", "")
    token = header[7:] if header.lower().startswith("bearer ") else ""
    who = await asyncio.to_thread(s.auth.resolve, token, wall_ms())
    if who is None:
        raise ApiError(401, "auth.invalid")
    return who


async def operator(request: Request, s: Services) -> Principal:
    who = await principal(request, s)
    if who.kind != "operator":
        raise ApiError(403, "auth.operator_only")
    return who


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
    except LoginFailed as err:
        raise ApiError(401, "auth.login_failed") from err
    p = session.principal
    roles: list[str] = ["operator"]
    name = p.username
    if p.kind == "operator":
        given = await asyncio.to_thread(s.registry.operator_name, p.id)
        name = given or p.username
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
    members = await asyncio.to_thread(s.registry.members, council_id)
    guests = await asyncio.to_thread(s.registry.guests, council_id)
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
        guests=tuple(
            Guest(id=MemberId(g.id), name=g.name, affiliation=g.affiliation) for g in guests
        ),
    )


async def create_sitting(request: Request, s: Services) -> Response:
    await operator(request, s)
    data = await body(request, NewSitting)
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
    await s.hub.sequencer(sitting)
    state = s.hub.state(sitting)
    assert state is not None
    return reply(project_state(state, Audience.PUBLIC))


async def sitting_log(request: Request, s: Services) -> Response:
    """The log as the request's audience may have it (chamber/projection.py `project_log`):
    anyone gets the public prefix; a bearer token, its principal's (a presiding member or
    an operator: the whole log). A token that does not resolve is refused, not demoted."""
    sitting = request.path_params["sitting"]
    state = (await s.hub.sequencer(sitting)).state
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


def outcome_json(outcome: Outcome, lang: str) -> Response:
    a = outcome.answer
    if a.ok:
        return reply({"ok": True, "seq": a.seq, "ballot": outcome.ballot})
    return reply(
        {
            "ok": False,
            "code": a.code,
            "params": a.params,
            "message": t(f"error.{a.code}", lang, **a.params),
        },
        409,
    )


async def command(request: Request, s: Services) -> Response:
    """A command over HTTP (the operator console; integrations): the same principal to
    actor and role as a socket's (server/acting.py), the same budget, the same checks."""
    who_p = await principal(request, s)
    data = await body(request, CommandBody)
    if not 0 < len(data.id) <= 64:
        raise ApiError(422, "request.invalid", detail="id")
    sitting = request.path_params["sitting"]
    name = str(data.cmd.__struct_config__.tag)
    scheduling = isinstance(data.cmd, c.ScheduleSitting)
    try:
        state = (await s.hub.sequencer(sitting)).state
    except UnknownSitting:
        if not scheduling:
            raise
        state = None  # a sitting.schedule: the sitting is still to be
    try:
        if state is not None:
            who = who_in(who_p, state)
        elif who_p.kind == "operator":
            who = who_in(who_p, None)
        else:
            raise ApiError(409, "permission.denied", command=name, role="delegate", state="none")
        if not s.hub.buckets.take(who.rate_key or ""):
            raise ApiError(429, "rate.limited")
        registered = (
            await roster(s, data.cmd.council.id)
            if state is None and isinstance(data.cmd, c.ScheduleSitting)
            else None
        )
        command_check(sitting, data.cmd, state, registered)
    except Refused as refused:
        status = 403 if refused.code == "auth.not_a_member" else 422
        raise ApiError(status, refused.code, **refused.params) from None
    role = who.role_for(name)
    assert role is not None  # a principal always acts in some capacity
    outcome = await s.hub.submit(sitting, data.cmd, who.member, role, who.key(data.id))
    return outcome_json(outcome, lang_of(request))


# Documents


async def upload_document(request: Request, s: Services) -> Response:
    too_large = ApiError(413, "doc.too_large", limit=s.max_upload_bytes)
    request = bounded(request, s.max_upload_bytes + FORM_BODY, too_large)  # first
    await operator(request, s)
    sitting = request.path_params["sitting"]
    state = (await s.hub.sequencer(sitting)).state  # UnknownSitting (404) before any work
    assert state is not None
    async with request.form(max_files=1, max_fields=8, max_part_size=FORM_BODY) as form:
        upload = form.get("file")  # its spooled copy is closed when the block ends
        if upload is None or isinstance(upload, str):
            raise ApiError(422, "request.invalid", detail="file")
        data = await upload.read()
    if len(data) > s.max_upload_bytes:
        raise too_large
    media_type = upload.content_type or "application/octet-stream"
    try:  # the content must be what it is declared to be; nothing is stored before
        pages = await asyncio.to_thread(doctypes.inspect, data, media_type)
    except doctypes.Refused as err:
        status = {"doc.bad_type": 415, "doc.type_mismatch": 415}.get(err.code, 422)
        raise ApiError(status, err.code, **err.params) from err
    digest, created = await store_document(s, data)
    title = str(form.get("title") or upload.filename or digest[:12])
    item = form.get("item")
    supersedes = form.get("supersedes")
    await asyncio.to_thread(
        s.registry.add_document, digest, media_type, len(data), state.council.id
    )
    cmd = c.RegisterDocument(
        hash=DocHash(digest),
        title=title,
        pages=pages,
        media_type=media_type,
        item=ItemId(str(item)) if item else None,
        supersedes=DocHash(str(supersedes)) if supersedes else None,
    )
    outcome = await s.hub.submit(sitting, cmd, None, Role.OPERATOR, None)
    if not outcome.answer.ok and outcome.answer.code != "doc.exists":
        if created:  # nothing refers to the bytes this request stored: they go again
            await asyncio.to_thread((s.documents / digest).unlink, True)
        return outcome_json(outcome, lang_of(request))
    return reply({"hash": digest, "pages": pages, "media_type": media_type}, 201)


async def store_document(s: Services, data: bytes) -> tuple[str, bool]:
    """Store the bytes under their SHA-256, durably (file and folder synced) before the
    event that announces them is written; True if this call created the file."""
    digest = hashlib.sha256(data).hexdigest()
    path = s.documents / digest

    def write() -> bool:
        s.documents.mkdir(parents=True, exist_ok=True)
        if path.exists():
            return False
        tmp = path.with_suffix(".part")
        with tmp.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
        folder = os.open(s.documents, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
        return True

    return digest, await asyncio.to_thread(write)


async def document(request: Request, s: Services) -> Response:
    digest = request.path_params["digest"]
    if len(digest) != 64 or any(ch not in "0123456789abcdef" for ch in digest):
        raise ApiError(404, "doc.unknown")
    path = s.documents / digest
    try:
        media_type, _size, _council = await asyncio.to_thread(s.registry.document, digest)
    except NotFound:
        raise ApiError(404, "doc.unknown") from None
    if not await asyncio.to_thread(path.is_file):
        raise ApiError(404, "doc.unknown")
    # Streamed from the file in chunks (and by ranges, which pdf.js asks for): a 25 MiB
    # document costs a request no more memory than a chunk.
    return FileResponse(path, media_type=media_type, headers=document_headers(digest, media_type))


# A document is served as data, never as a page: a PDF is downloaded, an image shown
# inline, and neither may run script or load anything if opened directly (docs/http-api.md).
EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}


def document_headers(digest: str, media_type: str) -> dict[str, str]:
    disposition = "inline" if media_type.startswith("image/") else "attachment"
    name = f"{digest}.{EXTENSIONS.get(media_type, 'bin')}"
    return {
        "cache-control": "public, max-age=31536000, immutable",
        "content-disposition": f'{disposition}; filename="{name}"',
        "content-security-policy": "default-src 'none'; sandbox; frame-ancestors 'none'",
    }


# Councils, members, logins (operator)


async def councils(request: Request, s: Services) -> Response:
    await operator(request, s)
    if request.method == "POST":
        row = await body(request, CouncilRow)
        try:
            return reply(await asyncio.to_thread(s.registry.add_council, row), 201)
        except NotFound as err:  # its parent: a field of the body, not the path
            raise ApiError(422, "request.invalid", detail=f"parent {err}") from None
    return reply(await asyncio.to_thread(s.registry.councils))


class NewMember(msgspec.Struct):
    name: Name
    seat: Seat = ""
    roles: Annotated[list[Id], ROLES_BOUND] = msgspec.field(default_factory=lambda: ["delegate"])


async def members(request: Request, s: Services) -> Response:
    await operator(request, s)
    council = request.path_params["council"]
    if request.method == "POST":
        data = await body(request, NewMember)
        valid = {r.value for r in (Role.CHAIR, Role.VICE_CHAIR, Role.SECRETARY, Role.DELEGATE)}
        if not data.roles or not set(data.roles) <= valid:
            raise ApiError(422, "request.invalid", detail="roles")
        row = MemberRow(
            f"m-{secrets.token_hex(4)}", council, data.name, data.seat, tuple(data.roles)
        )
        return reply(await asyncio.to_thread(s.registry.add_member, row), 201)
    await asyncio.to_thread(s.registry.council, council)  # NotFound: 404
    rows = await asyncio.to_thread(s.registry.members, council)
    out = []
    for m in rows:
        login_row = await asyncio.to_thread(s.registry.login_of, "member", m.id)
        out.append(
            {**msgspec.to_builtins(m), "username": login_row.username if login_row else None}
        )
    return reply(out)


# A new login's username: what `nghitruong operator add` accepts too (server/cli.py).
NewUsername = Annotated[Username, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


class LoginRequest(msgspec.Struct):
    username: NewUsername | None = None


async def member_login(request: Request, s: Services) -> Response:
    """Create or reset a member's login; the password is shown this once."""
    await operator(request, s)
    member = await asyncio.to_thread(s.registry.member, request.path_params["member"])
    data = await body(request, LoginRequest, optional=True)
    existing = await asyncio.to_thread(s.registry.login_of, "member", member.id)
    username = data.username or (existing.username if existing else member.id)
    password = await asyncio.to_thread(
        s.auth.issue_member_login, member.id, member.council, username
    )
    return reply({"username": username, "password": password, "member": member.id})


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
        Route("/api/councils", endpoint(councils), methods=["GET", "POST"]),
        Route("/api/councils/{council}/members", endpoint(members), methods=["GET", "POST"]),
        Route("/api/members/{member}/login", endpoint(member_login), methods=["POST"]),
    ]


__all__ = ["ApiError", "JSONResponse", "Services", "routes"]
