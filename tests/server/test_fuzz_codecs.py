"""Property-based fuzzing of both codecs (issue 7, defect 3 and "Tests that stay").

Whatever bytes (or text) a client sends, `Codec.decode` returns a typed inbound frame or
raises `FrameError`, nothing else, and `Codec.command_id` never raises: the connection
answers `frame.malformed` instead of dying with a traceback.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from server.protocol import MAX_COMMAND_ID, Cmd, Codec, FrameError, Hello, Ping
from tests.server.frames import (
    NASTY_JSON,
    NASTY_MSGPACK,
    body_of,
    encode,
    frames,
    mutated_frames,
    structures,
    valid_frames,
)

MSGPACK, JSON = Codec("msgpack"), Codec("json")
FUZZ = settings(
    max_examples=300,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def holds(codec: Codec, data: bytes | str) -> Any:
    """The property: a typed frame or FrameError; a command id that is None or usable."""
    try:
        frame = codec.decode(data)
    except FrameError:
        frame = None
    else:
        assert isinstance(frame, Hello | Cmd | Ping), frame
        if isinstance(frame, Cmd):
            assert 0 < len(frame.id) <= MAX_COMMAND_ID
    cid = codec.command_id(data)
    assert cid is None or (isinstance(cid, str) and 0 < len(cid) <= MAX_COMMAND_ID)
    return frame


@pytest.mark.parametrize("data", NASTY_MSGPACK, ids=lambda d: d[:12].hex() or "empty")
def test_msgpack_nasty_frames(data: bytes) -> None:
    holds(MSGPACK, data)


@pytest.mark.parametrize("data", NASTY_JSON, ids=lambda d: repr(d[:16]))
def test_json_nasty_frames(data: bytes) -> None:
    holds(JSON, data)
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return  # a WebSocket text frame is valid UTF-8: only bytes can carry this
    holds(JSON, text)


def test_invalid_utf8_and_deep_nesting_are_malformed_frames() -> None:
    """The two frames issue 7 names: both refused as FrameError, with no command id."""
    for codec, data in ((MSGPACK, b"\xa2\xff\xfe"), (MSGPACK, b"\x91" * 1000 + b"\xc0")):
        with pytest.raises(FrameError):
            codec.decode(data)
        assert codec.command_id(data) is None
    with pytest.raises(FrameError):
        JSON.decode("[" * 1000 + "]" * 1000)
    assert JSON.command_id("[" * 1000 + "]" * 1000) is None


def test_a_malformed_command_keeps_its_id() -> None:
    """A cmd frame that fails its schema still names its id, so its sender can settle it."""
    frame = {"t": "cmd", "id": "c-7", "cmd": {"type": "vote.cast", "vote": 5}}
    for codec in (MSGPACK, JSON):
        data = encode(frame, codec.binary)
        with pytest.raises(FrameError):
            codec.decode(data)
        assert codec.command_id(data) == "c-7"


@FUZZ
@given(st.binary(max_size=256))
@example(b"\xa2\xff\xfe")
@example(b"\x91" * 1000 + b"\xc0")
def test_msgpack_arbitrary_bytes(data: bytes) -> None:
    holds(MSGPACK, data)


@FUZZ
@given(st.binary(max_size=256))
@example(b'"\xff\xfe"')
@example(b"[" * 1000 + b"]" * 1000)
def test_json_arbitrary_bytes(data: bytes) -> None:
    holds(JSON, data)


@FUZZ
@given(st.text(max_size=256))
@example("[" * 1000 + "]" * 1000)
@example('{"t":"ping","n":' + "9" * 5000 + "}")
def test_json_arbitrary_text(text: str) -> None:
    holds(JSON, text)


@FUZZ
@given(structures(), st.booleans())
def test_arbitrary_structures(value: Any, binary: bool) -> None:
    codec = MSGPACK if binary else JSON
    holds(codec, encode(value, binary))


@FUZZ
@given(st.data())
def test_hostile_frames_of_each_codec(data: st.DataObject) -> None:
    binary = data.draw(st.booleans())
    holds(MSGPACK if binary else JSON, data.draw(frames(binary)))


@FUZZ
@given(valid_frames(), st.booleans())
def test_valid_frames_decode_to_their_type(frame: dict[str, Any], binary: bool) -> None:
    """Hello (fresh or resuming), ping and every command: decoded, typed, never refused."""
    codec = MSGPACK if binary else JSON
    decoded = holds(codec, encode(frame, binary))
    kinds = {"hello": Hello, "ping": Ping, "cmd": Cmd}
    assert isinstance(decoded, kinds[frame["t"]]), (frame, decoded)
    if isinstance(decoded, Cmd):
        assert decoded.id == frame["id"]
        assert decoded.cmd.__struct_config__.tag == frame["cmd"]["type"]


@FUZZ
@given(mutated_frames(), st.booleans())
def test_mutated_frames(frame: Any, binary: bool) -> None:
    holds(MSGPACK if binary else JSON, encode(frame, binary))


@FUZZ
@given(st.sampled_from(["hello", "cmd", "ping"]), st.integers(1, 1200), st.booleans())
def test_deep_nesting_anywhere(kind: str, depth: int, binary: bool) -> None:
    """A frame of the right shape with one field nested ``depth`` lists deep."""
    deep: Any = None
    for _ in range(depth):
        deep = [deep]
    base: dict[str, Any] = {
        "hello": {"t": "hello", "sitting": "s", "token": deep},
        "cmd": {"t": "cmd", "id": "c1", "cmd": {**body_of("agenda.add"), "title": deep}},
        "ping": {"t": "ping", "n": 1, "x": deep},
    }[kind]
    codec = MSGPACK if binary else JSON
    holds(codec, encode(base, binary))
