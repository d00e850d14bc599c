"""The OpenAPI 3.1 description of the HTTP API (docs/http-api.md says it in prose).

Built at run time from the routes' own msgspec types: each request body's schema comes from
the Struct the handler decodes it into (`msgspec.json.schema_components`), so a limit put
on a field there is described here with no second statement. Served at
`GET /api/openapi.json`; `nghitruong openapi docs/openapi.yaml` writes the copy kept in the
repository, and tests/server/test_openapi.py checks that the two agree and that a live hub
answers as described (schemathesis)."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from chamber import Sitting
from chamber.limits import Id, Title
from chamber.log import HeldBack, Record
from server import http_api as api
from server import members_api, video_api
from server.registry import CouncilRow, MemberRow

VERSION = "0.1.0"

# Responses: the shapes the handlers build (as dicts) in server/http_api.py.


class FieldError(msgspec.Struct):
    """What is wrong with one field of the body: its path ("name", "agenda[2].title"; ""
    for the body as a whole), a stable code, the code's params, the message in the
    request's language."""

    field: str
    code: str
    params: dict[str, Any]
    message: str


class Error(msgspec.Struct):
    """Every error: a stable code, a message in the request's language, the code's params,
    and a field error for each field of the body at fault (docs/http-api.md#errors)."""

    code: str
    message: str
    params: dict[str, Any]
    fields: list[FieldError] = []


class Session(msgspec.Struct):
    token: str
    kind: Literal["member", "operator"]
    id: str
    name: str
    council: str | None
    roles: list[str]
    expires_at: int  # ms since the epoch


class Done(msgspec.Struct):
    ok: Literal[True]


class SittingSummary(msgspec.Struct):
    id: str
    council: str
    title: str
    scheduled_at: int
    phase: str


class Created(msgspec.Struct):
    id: str


class LogExport(msgspec.Struct):
    """The exported log (chamber/log.py `export`), verifiable with `nghitruong verify`: the
    records 1..n the request's audience may have; `head` is record n's hash; `held_back`
    names the first record left out, and why, when `complete` is false."""

    format: str
    sitting: str
    head: str
    records: list[Record]
    complete: bool
    held_back: HeldBack | None
    audience: Literal["public", "delegate", "chair"]


class Applied(msgspec.Struct):
    ok: Literal[True]
    # [first, last] seq of the command's events; a list here, not a tuple: schemathesis
    # reads a 3.1 `prefixItems` as an invalid schema
    seq: Annotated[list[int], msgspec.Meta(min_length=2, max_length=2)] | None
    ballot: dict[str, str] | None


class Refused(msgspec.Struct):
    ok: Literal[False]
    code: str
    params: dict[str, Any]
    message: str


class StoredDocument(msgspec.Struct):
    hash: str
    pages: int
    media_type: str


class ListedMember(msgspec.Struct):
    id: str
    council: str
    name: str
    seat: str
    roles: list[str]
    username: str | None
    active: bool = True  # false: deactivated, on no new sitting's roster


class ImportedRow(msgspec.Struct):
    line: int  # the row's line in the file
    name: str
    seat: str
    roles: list[str]
    errors: list[FieldError]


class ImportReport(msgspec.Struct):
    """A members file checked row by row; `added` is empty unless committed."""

    ok: bool
    rows: list[ImportedRow]
    errors: list[FieldError]  # about the file as a whole
    added: list[MemberRow]


class IssuedLogin(msgspec.Struct):
    username: str
    password: str
    member: str


class ListedRoom(msgspec.Struct):
    id: str
    name: str
    username: str | None


class IssuedRoomLogin(msgspec.Struct):
    id: str
    username: str
    password: str
    name: str | None = None


class MediaLink(msgspec.Struct):
    id: str
    kind: str
    member: str | None
    room: str | None
    name: str | None
    seat: str | None
    live: bool
    muted: bool
    silenced: bool
    connected: bool
    loss: float
    kbps: float
    frozen: bool


class MediaReport(msgspec.Struct):
    enabled: bool
    endpoints: list[MediaLink]
    forwarded: dict[str, int]


class IceServerOut(msgspec.Struct, omit_defaults=True):
    urls: list[str]
    username: str | None = None
    credential: str | None = None


class IceConfig(msgspec.Struct):
    enabled: bool
    iceServers: list[IceServerOut]


class Health(msgspec.Struct):
    ok: bool
    version: str
    journal: str


class OpenDataLog(msgspec.Struct):
    """The log the open data was drawn from: check `head` with `nghitruong verify`."""

    sitting: str
    head: str
    records: int
    complete: bool
    held_back: HeldBack | None
    url: str


class OpenData(msgspec.Struct):
    """A sitting's votes as Popolo / Open Civic Data vote events (docs/open-data.md)."""

    format: str
    log: OpenDataLog
    organization: dict[str, Any]
    legislative_session: dict[str, Any]
    people: list[dict[str, Any]]
    memberships: list[dict[str, Any]]
    motions: list[dict[str, Any]]
    vote_events: list[dict[str, Any]]


class Upload(msgspec.Struct):
    """The multipart form of a document upload (its `file` part is binary)."""

    file: str
    title: Title = ""  # held to doc.register's bound (409 command.invalid past it)
    item: Id = ""
    supersedes: Id = ""


# Operations

Auth = Literal["none", "optional", "any", "operator"]

WHY = {
    400: "Malformed multipart form (more than one file or 8 fields); plain text.",
    401: "No session, or an unknown, expired or revoked token (`auth.invalid`).",
    403: "The session may not use this route (`auth.operator_only`, `auth.not_a_member`).",
    404: "Unknown id (`sitting.unknown`, `registry.not_found`, `doc.unknown`).",
    409: "Refused: a duplicate (`registry.conflict`) or the core refused the command.",
    413: "The body is over the route's limit (`request.too_large`, `doc.too_large`).",
    415: "The document is not PDF, PNG or JPEG (`doc.bad_type`).",
    422: "The body is not valid (`request.invalid {detail}`) or a core refusal of the roster.",
    429: "Too many attempts (`auth.rate_limited {seconds}`); retry later.",
}


@dataclass(frozen=True)
class Op:
    method: str
    path: str
    summary: str
    auth: Auth
    ok: tuple[int, Any]  # (status, response type or a media type's name)
    errors: tuple[int, ...] = ()
    body: Any = None  # a msgspec type, or Upload for multipart
    body_required: bool = True


JSON_BODY = (413, 422)
OPERATOR = (401, 403)

OPS: tuple[Op, ...] = (
    Op("post", "/api/login", "Log in; answers a session token", "none", (200, Session),
       (401, 403, *JSON_BODY, 429), api.LoginBody),
    Op("post", "/api/logout", "Revoke the request's token", "any", (200, Done), (401,)),
    Op("get", "/api/sittings", "Every sitting, with its live phase", "none",
       (200, list[SittingSummary])),
    Op("post", "/api/sittings", "Schedule a sitting of a council", "operator", (201, Created),
       (*OPERATOR, 404, 409, *JSON_BODY), api.NewSitting),
    Op("get", "/api/sittings/{sitting}", "The sitting's public state", "none", (200, Sitting),
       (404,)),
    Op("get", "/api/sittings/{sitting}/log", "The sitting's log, as far as the audience may see",
       "optional", (200, LogExport), (401, 403, 404)),
    Op("post", "/api/sittings/{sitting}/commands", "A command, as a `cmd` frame would send it",
       "any", (200, Applied), (401, 403, 404, 409, *JSON_BODY, 429), api.CommandBody),
    Op("get", "/api/sittings/{sitting}/minutes.pdf",
       "The minutes (biên bản) as PDF, from the public log; `?lang=vi|en`", "none",
       (200, "pdf"), (404,)),
    Op("get", "/api/sittings/{sitting}/minutes.docx",
       "The minutes (biên bản) as DOCX, from the public log; `?lang=vi|en`", "none",
       (200, "docx"), (404,)),
    Op("get", "/api/sittings/{sitting}/votes.json",
       "Open data: the votes as Popolo vote events, with the log's head hash", "none",
       (200, OpenData), (404,)),
    Op("get", "/api/sittings/{sitting}/votes.csv",
       "Open data: one row per vote event, UTF-8 with a BOM, with the log's head hash", "none",
       (200, "csv"), (404,)),
    Op("post", "/api/sittings/{sitting}/documents",
       "Upload and register a document (an operator, or the sitting's chair, vice-chair or"
       " secretary)",
       "any", (201, StoredDocument), (400, *OPERATOR, 404, 409, 413, 415, 422), Upload),
    Op("get", "/api/documents/{digest}", "A document's bytes, by SHA-256", "none",
       (200, "document"), (404,)),
    Op("get", "/api/councils", "Every council", "operator", (200, list[CouncilRow]), OPERATOR),
    Op("post", "/api/councils", "Add a council", "operator", (201, CouncilRow),
       (*OPERATOR, 409, *JSON_BODY), CouncilRow),
    Op("get", "/api/councils/{council}/members", "A council's members and login names",
       "operator", (200, list[ListedMember]), (*OPERATOR, 404)),
    Op("post", "/api/councils/{council}/members", "Add a member to a council", "operator",
       (201, MemberRow), (*OPERATOR, 404, 409, *JSON_BODY), api.NewMember),
    Op("post", "/api/councils/{council}/members/import",
       "Check (or with `?commit=true` add, all or nothing) members from a CSV file",
       "operator", (200, ImportReport), (*OPERATOR, 404, *JSON_BODY), "csv"),
    Op("patch", "/api/members/{member}", "Edit, deactivate or reactivate a member", "operator",
       (200, ListedMember), (*OPERATOR, 404, *JSON_BODY), members_api.MemberEdit),
    Op("delete", "/api/members/{member}", "Delete a member on no sitting's roster", "operator",
       (200, Done), (*OPERATOR, 404, 409)),
    Op("post", "/api/members/{member}/login", "Create or reset a member's login", "operator",
       (200, IssuedLogin), (*OPERATOR, 404, 409, *JSON_BODY), api.LoginRequest, False),
    Op("get", "/api/councils/{council}/rooms", "A council's linked halls and login names",
       "operator", (200, list[ListedRoom]), (*OPERATOR, 404)),
    Op("post", "/api/councils/{council}/rooms", "Add a linked hall and its login", "operator",
       (201, IssuedRoomLogin), (*OPERATOR, 404, 409, *JSON_BODY), video_api.NewRoom),
    Op("post", "/api/rooms/{room}/password", "Reset a linked hall's password", "operator",
       (200, IssuedRoomLogin), (*OPERATOR, 404)),
    Op("get", "/api/sittings/{sitting}/media", "A sitting's video links and forwarded packets",
       "any", (200, MediaReport), (401, 403, 404)),
    Op("get", "/api/media/ice", "STUN/TURN servers for a browser's video link", "none",
       (200, IceConfig)),
    Op("get", "/api/openapi.json", "This description", "none", (200, "openapi")),
    Op("get", "/healthz", "Liveness", "none", (200, Health)),
    Op("get", "/metrics", "Prometheus metrics", "none", (200, "metrics")),
)  # fmt: skip

MEDIA = {
    "document": {
        m: {"schema": {"type": "string", "format": "binary"}}
        for m in ("application/pdf", "image/png", "image/jpeg")
    },
    "openapi": {"application/json": {"schema": {"type": "object"}}},
    "metrics": {"text/plain": {"schema": {"type": "string"}}},
    "pdf": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    "docx": {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {
            "schema": {"type": "string", "format": "binary"}
        }
    },
    "csv": {"text/csv": {"schema": {"type": "string"}}},
}
PARAMS = {
    "sitting": "A sitting's id (`ky-hop-…`).",
    "digest": "A document's SHA-256, 64 lowercase hex digits (else `404 doc.unknown`).",
    "council": "A council's id.",
    "member": "A member's id.",
    "room": "A linked hall's id (`room-…`).",
}


def _types() -> list[Any]:
    out: list[Any] = [Error, Refused]
    for op in OPS:
        if op.body is not None and not isinstance(op.body, str):
            out.append(op.body)
        if not isinstance(op.ok[1], str):
            out.append(op.ok[1])
    return out


def build() -> dict[str, Any]:
    """The whole OpenAPI document, as JSON-ready builtins."""
    types = _types()
    refs, components = msgspec.json.schema_components(
        types, ref_template="#/components/schemas/{name}"
    )
    schema_of = dict(zip(map(repr, types), refs, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for op in OPS:
        paths.setdefault(op.path, {})[op.method] = _operation(op, schema_of)
    document = {
        "openapi": "3.1.0",
        "info": {
            "title": "Nghị trường hub HTTP API",
            "version": VERSION,
            "description": "The prose, with examples, is docs/http-api.md. Generated by "
            "server/openapi.py; the copy in docs/openapi.yaml is written by "
            "`nghitruong openapi docs/openapi.yaml`.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The token from `POST /api/login`.",
                }
            },
        },
    }
    result: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(document))  # plain lists
    return result


SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "none": [],
    "optional": [{}, {"bearer": []}],  # anyone; a token changes the answer
}


def _operation(op: Op, schema_of: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "operationId": f"{op.method}{re.sub(r'[^A-Za-z0-9]+', '_', op.path).rstrip('_')}",
        "summary": op.summary,
        "security": SECURITY.get(op.auth, [{"bearer": []}]),
    }
    names = re.findall(r"{(\w+)}", op.path)
    if names:
        out["parameters"] = [
            {
                "name": n,
                "in": "path",
                "required": True,
                "description": PARAMS[n],
                "schema": {"type": "string"},
            }
            for n in names
        ]
    if op.body is Upload:
        out["requestBody"] = {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": schema_of[repr(Upload)],
                    "encoding": {"file": {"contentType": "application/pdf, image/png, image/jpeg"}},
                }
            },
        }
    elif op.body == "csv":
        out["requestBody"] = {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    elif op.body is not None:
        out["requestBody"] = {
            "required": op.body_required,
            "content": {"application/json": {"schema": schema_of[repr(op.body)]}},
        }
    status, kind = op.ok
    content = MEDIA[kind] if isinstance(kind, str) else _json(schema_of[repr(kind)])
    responses: dict[str, Any] = {str(status): {"description": "OK", "content": content}}
    for code in op.errors:
        responses[str(code)] = _error(op, code, schema_of)
    out["responses"] = responses
    return out


def _json(schema: Any) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _error(op: Op, code: int, schema_of: dict[str, Any]) -> dict[str, Any]:
    if code == 400:
        return {"description": WHY[400], "content": {"text/plain": {"schema": {"type": "string"}}}}
    schema = schema_of[repr(Error)]
    if code == 409 and op.body in (api.CommandBody, Upload):  # a refused command's answer
        schema = {"anyOf": [schema_of[repr(Refused)], schema]}
    return {"description": WHY[code], "content": _json(schema)}


@functools.cache
def _encoded() -> bytes:
    return msgspec.json.encode(build())


async def endpoint(request: Request) -> Response:
    return Response(_encoded(), media_type="application/json")


# YAML: block style, strings quoted unless plainly safe; no YAML library needed to write it.

_PLAIN = re.compile(r"[A-Za-z_$/][\w.$/-]*")
_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        if "e" in text and "." not in text:  # YAML 1.1 floats need a dot
            mantissa, exp = text.split("e")
            text = f"{mantissa}.0e{exp}"
        return text
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _WORDS:
        return text
    return json.dumps(text, ensure_ascii=False)


def _lines(value: Any, indent: str) -> list[str]:
    out: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            head = f"{indent}{_scalar(key)}:"
            if isinstance(item, dict | list) and item:
                out.append(head)
                out.extend(_lines(item, indent + "  "))
            else:
                out.append(f"{head} {_inline(item)}")
    else:
        for item in value:
            if isinstance(item, dict | list) and item:
                inner = _lines(item, indent + "  ")
                out.append(f"{indent}- {inner[0].lstrip()}")
                out.extend(inner[1:])
            else:
                out.append(f"{indent}- {_inline(item)}")
    return out


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _scalar(value)


def to_yaml(document: dict[str, Any]) -> str:
    header = (
        "# Generated by `nghitruong openapi docs/openapi.yaml` (server/openapi.py): do not edit.\n"
    )
    return header + "\n".join(_lines(document, "")) + "\n"
