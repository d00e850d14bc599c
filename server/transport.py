"""uvicorn's sans-I/O WebSocket protocol, with a way for the app to drop a connection.

It also offers a way around ASGI for the frames the hub fans out (`nghitruong.write`):
the same bytes go to thousands of connections, so each is framed once (a server's frames
are not masked: the frame is the same for every connection) and written straight to the
transport, with no per-connection task, ASGI message or framing. Only while the
connection is open and its transport below its high-water mark: otherwise the caller
queues the frame and sends it the ordinary way, which waits for the buffer to drain.

ASGI lets an application close a WebSocket only politely: a close frame queued behind
everything unsent. A peer that never reads keeps that buffer, and its socket, forever
(uvicorn's closing waits for the buffer to drain). The hub must be able to cut such a
connection and free what it holds, so this protocol offers the transport's `abort()`
to the application in the scope's extensions, under `nghitruong.abort`.
"""

from __future__ import annotations

import struct
import time

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request
from websockets.protocol import State

ABORT = "nghitruong.abort"
#: When the bytes of the frame the app was last handed were read (time.perf_counter()):
#: reading pauses while a frame waits for the app, so this is that frame's.
RECEIVED = "nghitruong.received"
#: Write already-framed bytes now: True if written, False if the caller must queue them.
WRITE = "nghitruong.write"

_FRAMED: dict[tuple[bool, bytes], bytes] = {}
_FRAMED_MAX = 1024


def framed(payload: bytes, binary: bool = True, shared: bool = False) -> bytes:
    """``payload`` as one whole, unmasked WebSocket frame (binary, or text). A ``shared``
    payload, handed to many connections, is framed once: the frame is kept for the next."""
    key = (binary, payload)
    if shared:
        hit = _FRAMED.get(key)
        if hit is not None:
            return hit
    op = 0x82 if binary else 0x81
    n = len(payload)
    if n < 126:
        head = bytes((op, n))
    elif n < 1 << 16:
        head = struct.pack("!BBH", op, 126, n)
    else:
        head = struct.pack("!BBQ", op, 127, n)
    out = head + payload
    if shared:
        if len(_FRAMED) >= _FRAMED_MAX:
            _FRAMED.clear()
        _FRAMED[key] = out
    return out


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
            scope["extensions"][WRITE] = self.write_framed

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

    def write_framed(self, data: bytes) -> bool:
        """Write whole frames now if the connection is open and its transport takes more;
        False: nothing was written."""
        if (
            self.close_sent
            or not self.handshake_complete
            or not self.writable.is_set()
            or self.conn.state is not State.OPEN
            or self.transport.is_closing()
        ):
            return False
        self.transport.write(data)
        return True
