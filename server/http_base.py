"""HTTP plumbing shared by the API's routes (docs/http-api.md): the services they use,
typed errors answered in the request's language, bodies read as streams within each
route's limit, and the principal a bearer token speaks for."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message

from server.auth import Auth, Principal
from server.hub import Hub, UnknownSitting
from server.i18n import negotiate, t
from server.registry import Conflict, NotFound, Registry
from server.security import BODY_LIMIT
from server.sequencer import Outcome, wall_ms
from server.sessions import SessionWatch

if TYPE_CHECKING:
    from server.video import Video

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
    video: Video | None = None  # video links (server/video.py), unless turned off


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
