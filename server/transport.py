"""uvicorn's sans-I/O WebSocket protocol, with a way for the app to drop a connection.

ASGI lets an application close a WebSocket only politely: a close frame queued behind
everything unsent. A peer that never reads keeps that buffer, and its socket, forever
(uvicorn's closing waits for the buffer to drain). The hub must be able to cut such a
connection and free what it holds, so this protocol offers the transport's `abort()`
to the application in the scope's extensions, under `nghitruong.abort`.
"""

from __future__ import annotations

import time

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request

ABORT = "nghitruong.abort"
#: When the bytes of the frame the app was last handed were read (time.perf_counter()):
#: reading pauses while a frame waits for the app, so this is that frame's.
RECEIVED = "nghitruong.received"


class Protocol(WebSocketsSansIOProtocol):
    received_at = 0.0

    def data_received(self, data: bytes) -> None:
        self.received_at = time.perf_counter()
        super().data_received(data)

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)  # absent when the handshake was refused
        if scope is not None:
            scope["extensions"][ABORT] = self.abort
            scope["extensions"][RECEIVED] = self.received

    def abort(self) -> None:
        """Drop the connection now: unsent bytes are discarded, the app's receive() gets
        a disconnect, and a send() waiting for the buffer to drain is released."""
        self.close_sent = True
        if self.close_timer is not None:
            self.close_timer.cancel()
            self.close_timer = None
        self.transport.abort()

    def received(self) -> float:
        return self.received_at
