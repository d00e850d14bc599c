"""uvicorn's sans-I/O WebSocket protocol, with a way for the app to drop a connection.

ASGI lets an application close a WebSocket only politely: a close frame queued behind
everything unsent. A peer that never reads keeps that buffer, and its socket, forever
(uvicorn's closing waits for the buffer to drain). The hub must be able to cut such a
connection and free what it holds, so this protocol offers the transport's `abort()`
to the application in the scope's extensions, under `nghitruong.abort`.
"""

from __future__ import annotations

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request

ABORT = "nghitruong.abort"


class Protocol(WebSocketsSansIOProtocol):
    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)  # absent when the handshake was refused
        if scope is not None:
            scope["extensions"][ABORT] = self.abort

    def abort(self) -> None:
        """Drop the connection now: unsent bytes are discarded, the app's receive() gets
        a disconnect, and a send() waiting for the buffer to drain is released."""
        self.close_sent = True
        if self.close_timer is not None:
            self.close_timer.cancel()
            self.close_timer = None
        self.transport.abort()
