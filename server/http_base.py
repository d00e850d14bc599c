"""HTTP plumbing shared by the API's routes (docs/http-api.md): the services they use,
typed errors answered in the request's language, bodies read as streams within each
route's limit, and the principal a bearer token speaks for."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message

from server.auth import Auth, Principal
from server.hub import Hub, NotOwner, UnknownSitting
from server.i18n import negotiate, t
from server.member_rules import InUse, Invalid, Problem
from server.registry import Conflict, NotFound, Registry, Unavailable
from server.security import BODY_LIMIT
from server.sequencer import Outcome, wall_ms
from server.sessions import SessionWatch

if TYPE_CHECKING:
    from server.registry_redis import DocumentBlobs
    from server.video import Video

_json = msgspec.json.Encoder()

# The largest body each route reads (docs/http-api.md#limits). A larger one is refused with
# 413 before it is read (Content-Length) or as soon as the bytes read pass the limit.
SMALL_BODY = 4 * 1024  # a login, a member's login
# A council or a member: room for a field far past its bound (a name pasted 5,000 times
# over), so that the answer names the field and its bound rather than the body's size.
RECORD_BODY = 32 * 1024
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
    video: Video | None = None  # video links (server/video.py), unless turned off
    blobs: DocumentBlobs | None = None  # documents' bytes shared by the nodes (Redis)


class ApiError(Exception):
    """An answer other than success: ``code`` and ``params`` say why; ``fields`` say what
    is wrong with which fields of the body, for a form to show beside each field."""

    def __init__(self, status: int, code: str, **params: Any) -> None:
        super().__init__(code)
        self.status, self.code, self.params = status, code, params
        self.fields: list[Problem] = []

    @classmethod
    def about(cls, fields: list[Problem], status: int, code: str, **params: Any) -> ApiError:
        """An error with field errors (``fields``) besides its code and params."""
        err = cls(status, code, **params)
        err.fields = fields
        return err


def invalid(problems: list[Problem]) -> ApiError:
    """422 ``request.invalid`` with a field error for each problem."""
    detail = "; ".join(f"{p.field or '$'}: {p.code}" for p in problems)
    return ApiError.about(problems, 422, "request.invalid", detail=detail)


def field_errors(problems: list[Problem], lang: str) -> list[dict[str, Any]]:
    """The ``fields`` of an error body: each problem with its message in ``lang``."""
    return [
        {
            "field": p.field,
            "code": p.code,
            "params": p.params,
            "message": t(f"error.{p.code}", lang, **p.params),
        }
        for p in problems
    ]


def error_body(err: ApiError, lang: str) -> dict[str, Any]:
    """Every error's body (docs/http-api.md#errors): ``code``, ``message`` and ``params``,
    and ``fields``, a list of field errors (empty unless the body's fields are at fault).
    With field errors, ``message`` says what each is, so that a client that shows only
    ``message`` still shows why."""
    fields = field_errors(err.fields, lang)
    message = t(f"error.{err.code}", lang, **err.params)
    if fields:
        message = " ".join(f["message"] for f in fields)
    return {"code": err.code, "message": message, "params": err.params, "fields": fields}


# msgspec's own words for a value its schema refuses, as a field error's code and params.
_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_RULES: tuple[tuple[re.Pattern[str], str, str | None], ...] = (
    (re.compile(r"^Expected `str` of length <= (\d+)"), "field.too_long", "max"),
    (re.compile(r"^Expected `str` of length >= 1\b"), "field.required", None),
    (re.compile(r"^Expected `str` of length >= (\d+)"), "field.too_short", "min"),
    (re.compile(r"^Expected `(?:array|object)` of length <= (\d+)"), "field.too_many", "max"),
    (re.compile(r"^Expected `(?:int|float|number)` >= (-?\d+)"), "field.too_small", "min"),
    (re.compile(r"^Expected `(?:int|float|number)` <= (-?\d+)"), "field.too_large", "max"),
    (re.compile(r"^Expected `str` matching regex '\^\[a-z0-9\]"), "field.id_format", None),
    (re.compile(r"^Expected `str` matching regex '\^\[\^\\+x00"), "field.one_line", None),
    (re.compile(r"^Expected `str` matching regex '\^\[A-Za-z0-9\]"), "field.username_format", None),
    (re.compile(r"^Expected `str` matching regex"), "field.pattern", None),
    (re.compile(r"^Invalid enum value"), "field.choice", None),
    (re.compile(r"^Expected `([^`]+)`, got"), "field.wrong_type", "expected"),
)
_MISSING = re.compile(r"^Object missing required field `(?P<name>[^`]+)`")


def schema_problems(err: msgspec.ValidationError) -> list[Problem]:
    """The field error a msgspec validation error stands for: the field's path as the
    body has it ("name", "agenda[2].title"), and a code of the catalogue; an error
    msgspec words in a way not listed here gives ``field.invalid {detail}``."""
    text = str(err)
    at = _AT.search(text)
    path = at.group("path").lstrip(".") if at else ""
    what = text[: at.start()] if at else text
    missing = _MISSING.match(what)
    if missing:
        name = missing.group("name")
        return [Problem(f"{path}.{name}" if path else name, "field.required")]
    if re.match(r"^Expected `(?:int|float|number)(?: \| null)?`, got", what):
        return [Problem(path, "field.not_a_number")]
    for pattern, code, param in _RULES:
        found = pattern.match(what)
        if found:
            params: dict[str, Any] = {}
            if param is not None:
                value = found.group(1)
                params[param] = int(value) if value.lstrip("-").isdigit() else value
            return [Problem(path, code, params)]
    return [Problem(path, "field.invalid", {"detail": what})]


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
            failed = err
        except msgspec.ValidationError as err:
            failed = ApiError.about(schema_problems(err), 422, "request.invalid", detail=str(err))
        except Invalid as err:
            failed = invalid(err.problems)
        except InUse as err:
            failed = ApiError(409, "member.in_sittings", member=err.member, count=len(err.sittings))
        except NotFound as err:
            failed = ApiError(404, "registry.not_found", id=str(err))
        except Conflict as err:
            failed = ApiError(409, "registry.conflict", detail=str(err))
        except Unavailable:  # the shared registry (Redis) did not answer: try again
            failed = ApiError(503, "server.unavailable")
        except NotOwner:  # another node sequences it (Redis journal): try again there
            failed = ApiError(503, "server.unavailable")
        except UnknownSitting as err:
            failed = ApiError(404, "sitting.unknown", sitting=str(err))
        answer = reply(error_body(failed, lang_of(request)), failed.status)
        if failed.status == 429 and "seconds" in failed.params:
            answer.headers["Retry-After"] = str(failed.params["seconds"])
        return answer

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
    except msgspec.ValidationError as err:  # JSON, but a field is wrong: say which
        raise ApiError.about(schema_problems(err), 422, "request.invalid", detail=str(err)) from err
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
