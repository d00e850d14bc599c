"""The wire protocol (docs/protocol.md): frame schemas and their two encodings.

Inbound frames are decoded straight into typed structs by msgspec, which validates them
against the declared schema (a `cmd` frame's command against chamber's command union), so
nothing is parsed by hand. Outbound frames are encoded once per audience and encoding.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

from chamber import AnyCommand
from chamber.limits import ID_MAX, CommandId, Id, Lang, Token
from chamber.permissions import Permits

MSGPACK = "nghitruong.v1.msgpack"
JSON = "nghitruong.v1.json"
SUBPROTOCOLS = (MSGPACK, JSON)
MAX_COMMAND_ID = ID_MAX  # a Cmd's id is a CommandId: 1 to this many characters
HEARTBEAT_MAX_MS = 60_000  # the longest heartbeat a hello may promise
HEARTBEAT_MISSES = 4  # silent for this many heartbeats: the peer is gone
HEARTBEAT_FLOOR_S = 3.0  # but never dropped for a silence shorter than this


# Client → server


class Hello(Struct, frozen=True, tag="hello", tag_field="t"):
    sitting: Id
    token: Token | None = None
    last_seq: int | None = None
    lang: Lang = "vi"
    remote: bool = False  # a member joining from outside the hall: presence follows the link
    # The client's promise: a frame (a ping if nothing else) at least every this many ms;
    # the hub then drops a connection silent for HEARTBEAT_MISSES of them. 0: no promise.
    heartbeat: Annotated[int, Meta(ge=0, le=HEARTBEAT_MAX_MS)] = 0


class Cmd(Struct, frozen=True, tag="cmd", tag_field="t"):
    id: CommandId
    cmd: AnyCommand


class Ping(Struct, frozen=True, tag="ping", tag_field="t"):
    n: int = 0


MAX_SDP = 48 * 1024  # a browser's offer is 5-15 KB; the frame bound is 64 KiB


class MediaOffer(Struct, frozen=True, tag="media.offer", tag_field="t"):
    """Join (or rejoin) the sitting's video: an SDP offer with its ICE candidates."""

    sdp: Annotated[str, Meta(min_length=1, max_length=MAX_SDP)]
    mode: Literal["publish", "receive", "console"] = "receive"


class MediaLeave(Struct, frozen=True, tag="media.leave", tag_field="t"):
    pass


class MediaMute(Struct, frozen=True, tag="media.mute", tag_field="t"):
    """Server-side mute of one endpoint's feed, by the presiding officers."""

    endpoint: Annotated[str, Meta(min_length=1, max_length=2 * ID_MAX + 4)]
    muted: bool = True


Inbound = Hello | Cmd | Ping | MediaOffer | MediaLeave | MediaMute


# Server → client


class Welcome(Struct, frozen=True, tag="welcome", tag_field="t"):
    sitting: str
    audience: str
    member: str | None
    role: str | None
    seq: int
    snapshot: Any
    server_time: int
    lang: str
    permits: Permits  # chamber/permissions.py permits(): what this connection may issue


class EventItem(Struct, frozen=True):
    seq: int
    at: int
    event: Any


class Events(Struct, frozen=True, tag="events", tag_field="t"):
    from_: int = msgspec.field(name="from")
    to: int = 0
    events: list[EventItem] = msgspec.field(default_factory=list)


class View(Struct, frozen=True, tag="view", tag_field="t"):
    seq: int
    vote: Any
    present: int
    figures: Any = None  # chamber/figures.py Figures, for the connection's audience


class Ack(Struct, frozen=True, tag="ack", tag_field="t"):
    id: str
    seq: tuple[int, int] | None
    ballot: dict[str, str] | None = None


class Error(Struct, frozen=True, tag="error", tag_field="t"):
    id: str | None
    code: str
    message: str
    params: dict[str, Any] = msgspec.field(default_factory=dict)


class Snapshot(Struct, frozen=True, tag="snapshot", tag_field="t"):
    seq: int
    snapshot: Any


class Pong(Struct, frozen=True, tag="pong", tag_field="t"):
    n: int
    server_time: int


class MediaAnswer(Struct, frozen=True, tag="media.answer", tag_field="t"):
    endpoint: str
    sdp: str


class MediaStatus(Struct, frozen=True, tag="media.status", tag_field="t"):
    floor: str | None  # the source of this endpoint's floor track (a console: None)
    endpoints: list[Any]
    slots: dict[str, str | None]


class _CmdHead(Struct, frozen=True):
    """Just enough of a frame to find a failed command's id: the rest is skipped unread."""

    t: str = ""
    id: Any = None


class FrameError(Exception):
    """A frame that could not be decoded or did not match the schema; ``invalid`` holds
    the schema's refusal when the bytes decoded but a field broke a bound (a title too
    long), so that the sender can be told which field and why in their language."""

    def __init__(self, detail: str, invalid: msgspec.ValidationError | None = None) -> None:
        super().__init__(detail)
        self.invalid = invalid


class Codec:
    """One subprotocol's encoding."""

    def __init__(self, kind: Literal["msgpack", "json"]) -> None:
        self.kind = kind
        self.binary = kind == "msgpack"
        if self.binary:
            self._decoder: Any = msgspec.msgpack.Decoder(Inbound)
            self._head: Any = msgspec.msgpack.Decoder(_CmdHead)
            self._encoder: Any = msgspec.msgpack.Encoder()
        else:
            self._decoder = msgspec.json.Decoder(Inbound)
            self._head = msgspec.json.Decoder(_CmdHead)
            self._encoder = msgspec.json.Encoder()

    def decode(self, data: bytes | str) -> Inbound:
        try:
            frame: Inbound = self._decoder.decode(data)
        except msgspec.ValidationError as exc:
            raise FrameError(str(exc), exc) from exc
        except msgspec.DecodeError as exc:
            raise FrameError(str(exc)) from exc
        except (ValueError, RecursionError) as exc:
            # Client bytes msgspec rejects outside its own error types: invalid UTF-8 in a
            # msgpack string (UnicodeDecodeError), lone surrogates (UnicodeEncodeError),
            # nesting deeper than the decoder recurses (RecursionError).
            raise FrameError(f"{type(exc).__name__}: {str(exc)[:120]}") from exc
        return frame

    def command_id(self, data: bytes | str) -> str | None:
        """The id of a `cmd` frame that failed its schema, when it has a usable one."""
        try:
            head: _CmdHead = self._head.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError, RecursionError):
            return None
        if head.t != "cmd" or not isinstance(head.id, str):
            return None
        return head.id if 0 < len(head.id) <= MAX_COMMAND_ID else None

    def encode(self, frame: Any) -> bytes:
        out: bytes = self._encoder.encode(frame)
        return out


CODECS = {MSGPACK: Codec("msgpack"), JSON: Codec("json")}
