"""Security headers on every HTTP answer: pages, their assets, API answers and documents
(docs/http-api.md#security-headers); and no keep-alive after an answer that left the
request's body unread.

A pure ASGI middleware: it adds each header the answer does not set itself, so a route
can be stricter (a document's own policy sandboxes it). The consoles' policy allows only
what they use: their scripts, styles and pdf.js worker from this origin, images from the
API and from pdf.js (``data:``, ``blob:``), and the WebSocket to this host.
"""

from __future__ import annotations

import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)
HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(self), microphone=(self), geolocation=(), payment=(), usb=()",
}
DRAIN = 4 * 1024 * 1024  # how far over its route's limit an unread body is still read
BODY_LIMIT = "nghitruong.body_limit"  # the scope key where a route states its body limit
HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def policy(host: str | None) -> str:
    """The consoles' Content-Security-Policy. ``connect-src 'self'`` covers ws: and wss:
    on this host in CSP 3; older browsers need them named, from the Host header (any
    header that is not a plain host and port is left out)."""
    connect = "connect-src 'self'"
    if host and HOST.fullmatch(host):
        connect += f" ws://{host} wss://{host}"
    return "; ".join((*POLICY, connect))


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = dict(HEADERS)
        wanted["content-security-policy"] = policy(headers_get(scope, b"host"))
        if scope["path"].startswith("/api/"):
            wanted["cache-control"] = "no-store"  # a token, a member's list: never cached

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                for name, value in wanted.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def headers_get(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


class UnreadBody:
    """An answer given before the request's body was read to its end (a refusal, a 413
    at the route's limit): a body at most ``DRAIN`` bytes over the route's limit (which
    the route puts in the scope as ``BODY_LIMIT``) is read to its end and dropped before
    the answer goes out, so that a client still sending it reads the answer on a
    connection that stays open; the rest of a larger one is never read: the answer
    closes the connection. With ``expect: 100-continue`` nothing unread was sent: it
    closes too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not has_body(scope):
            await self.app(scope, receive, send)
            return
        body = Body(scope, receive)

        async def send_after_body(message: Message) -> None:
            if message["type"] == "http.response.start" and not await body.drained():
                message.setdefault("headers", [])
                MutableHeaders(scope=message)["connection"] = "close"
            await send(message)

        await self.app(scope, body.receive, send_after_body)


class Body:
    """A request's body as the app reads it: how much was read, whether to its end."""

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.scope, self.receive_next = scope, receive
        self.seen, self.ended = 0, False

    async def receive(self) -> Message:
        message = await self.receive_next()
        self.seen += len(message.get("body", b""))
        self.ended = message["type"] != "http.request" or not message.get("more_body", False)
        return message

    async def drained(self) -> bool:
        """True if the body was read to its end, or is now: one of at most the route's
        limit and ``DRAIN`` is read and dropped."""
        if self.ended:
            return True
        if headers_get(self.scope, b"expect") is not None:
            return False
        budget = int(self.scope.get(BODY_LIMIT, 0)) + DRAIN
        declared = headers_get(self.scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > budget):
            return False
        while not self.ended and self.seen <= budget:
            await self.receive()
        return self.ended


def has_body(scope: Scope) -> bool:
    length = headers_get(scope, b"content-length")
    return headers_get(scope, b"transfer-encoding") is not None or length not in (None, "0")
