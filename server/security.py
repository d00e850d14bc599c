"""No keep-alive after an answer that left the request's body unread."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class CloseUnreadBody:
    """An answer given before the request's body was read to its end (a refusal, a 413
    at the route's limit) closes the connection: the hub neither reads nor drains the
    rest, however large."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not has_body(scope):
            await self.app(scope, receive, send)
            return
        ended = False

        async def receive_watched() -> Message:
            nonlocal ended
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                ended = True
            return message

        async def send_closing(message: Message) -> None:
            if message["type"] == "http.response.start" and not ended:
                message.setdefault("headers", [])
                MutableHeaders(scope=message)["connection"] = "close"
            await send(message)

        await self.app(scope, receive_watched, send_closing)


def has_body(scope: Scope) -> bool:
    length = headers_get(scope, b"content-length")
    return headers_get(scope, b"transfer-encoding") is not None or length not in (None, "0")


def headers_get(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None
