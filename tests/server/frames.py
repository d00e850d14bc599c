"""Frames for the socket tests: a raw frame's encoding for a socket's subprotocol, a sample
body for every command derived from its schema, and hypothesis strategies for hostile
frames of both codecs."""

from __future__ import annotations

import json
from typing import Any, get_args

import msgspec
from hypothesis import strategies as st

from chamber import AnyCommand
from server.protocol import MSGPACK


def frame_for(ws: Any, frame: dict[str, Any]) -> bytes | str:
    """``frame`` as a raw socket ``ws`` sends it under its subprotocol."""
    if ws.subprotocol == MSGPACK:
        return msgspec.msgpack.encode(frame)
    return msgspec.json.encode(frame).decode()


def frame_of(data: bytes | str) -> dict[str, Any]:
    """A frame as a raw socket received it: binary is MessagePack, text is JSON."""
    if isinstance(data, bytes):
        return dict(msgspec.msgpack.decode(data))
    return dict(msgspec.json.decode(data))


COMMANDS: dict[str, type[Any]] = {t.__struct_config__.tag: t for t in get_args(AnyCommand)}


def sample(info: msgspec.inspect.Type) -> Any:
    """A minimal value of the type: enough to pass the schema, not to succeed."""
    mi = msgspec.inspect
    if isinstance(info, mi.StrType):
        return "x" * max(1, info.min_length or 0)
    if isinstance(info, mi.IntType):
        return max(1, info.ge or 0)
    if isinstance(info, mi.FloatType):
        return 1.0
    if isinstance(info, mi.BoolType):
        return False
    if isinstance(info, mi.EnumType):
        return next(iter(info.cls)).value
    if isinstance(info, mi.LiteralType):
        return info.values[0]
    if isinstance(info, mi.ListType | mi.VarTupleType | mi.SetType | mi.FrozenSetType):
        return []
    if isinstance(info, mi.DictType):
        return {}
    if isinstance(info, mi.UnionType):
        return sample(next(t for t in info.types if not isinstance(t, mi.NoneType)))
    if isinstance(info, mi.StructType):
        out: dict[str, Any] = {}
        if info.tag is not None and info.tag_field is not None:
            out[info.tag_field] = info.tag
        for field in info.fields:
            if field.required:
                out[field.encode_name] = sample(field.type)
        return out
    if isinstance(info, mi.NoneType):
        return None
    raise AssertionError(f"no sample for {info!r}: teach sample() this type")


def body_of(name: str) -> dict[str, Any]:
    """A command body of type ``name`` that passes the schema."""
    return dict(sample(msgspec.inspect.type_info(COMMANDS[name])))


# Hostile input


DEPTH = 1000
#: Frames that broke the decoders once (issue 7 defect 3) and their relatives.
NASTY_MSGPACK: list[bytes] = [
    b"\xa2\xff\xfe",  # a str of invalid UTF-8
    b"\x81\xa1t\xa2\xff\xfe",  # {"t": <invalid UTF-8>}
    b"\x81\xa2\xff\xfe\xa1x",  # an invalid UTF-8 key
    b"\x83\xa1t\xa3cmd\xa2id\xa2\xff\xfe\xa3cmd\xc0",  # a cmd with an invalid UTF-8 id
    b"\x91" * DEPTH + b"\xc0",  # lists 1,000 deep
    b"\x81\xa1t" * DEPTH + b"\xc0",  # maps 1,000 deep
    b"\x82\xa1t\xa4ping\xa1x" + b"\x91" * DEPTH + b"\xc0",  # deep in an unknown field
    b"\x83\xa1t\xa3cmd\xa2id\xa1x\xa3cmd" + b"\x91" * DEPTH + b"\xc0",  # deep where a cmd goes
    b"\x82\xa1t\xa4ping\xa1n\xcf\xff\xff\xff\xff\xff\xff\xff\xff",  # n = 2**64 - 1
    b"\x82\xa1t\xa4ping\xa1n\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00",  # n = NaN
    b"\xdd\xff\xff\xff\xff",  # an array that claims 4 G items
    b"\xdb\xff\xff\xff\xff",  # a str that claims 4 GB
    b"\xc7\x01\x05x",  # an ext type
    b"\xc1",  # the never-used byte
    b"",
]
NASTY_JSON: list[bytes] = [
    b'"\xff\xfe"',
    b'{"t":"\xff\xfe"}',
    b'{"t":"cmd","id":"\xff","cmd":null}',
    b"[" * DEPTH + b"]" * DEPTH,
    b'{"a":' * DEPTH + b"1" + b"}" * DEPTH,
    b'{"t":"ping","x":' + b"[" * DEPTH + b"]" * DEPTH + b"}",
    b'{"t":"cmd","id":"x","cmd":' + b"[" * DEPTH + b"]" * DEPTH + b"}",
    b'{"t":"ping","n":' + b"9" * 5000 + b"}",
    b'{"t":"ping","n":NaN}',
    b'{"t":"ping","n":1e999}',
    b'{"t":"hello","sitting":"s","last_seq":-' + b"9" * 400 + b"}",
    b'{"t":"hello","sitting":"\\ud800"}',  # a lone surrogate escape
    b"\xef\xbb\xbf{}",  # a byte-order mark
    b"",
]

_KEYS = st.sampled_from(["t", "id", "cmd", "type", "sitting", "token", "last_seq", "n", "x"])
_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(["hello", "cmd", "ping", *COMMANDS])
)
#: Any JSON- and msgpack-encodable structure, nested a few levels.
VALUES = st.recursive(
    _LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(_KEYS | st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def valid_frames() -> st.SearchStrategy[dict[str, Any]]:
    """Frames a client may send: a hello (fresh or resuming), a ping, a command of any type."""
    hello = st.fixed_dictionaries(
        {"t": st.just("hello"), "sitting": st.text(max_size=20)},
        optional={
            "token": st.none() | st.text(max_size=40),
            "last_seq": st.none() | st.integers(min_value=0, max_value=2**40),
            "lang": st.sampled_from(["vi", "en", "fr"]),
            "remote": st.booleans(),
        },
    )
    ping = st.fixed_dictionaries({"t": st.just("ping")}, optional={"n": st.integers(0, 2**31)})
    cmd = st.builds(
        lambda cid, name: {"t": "cmd", "id": cid, "cmd": body_of(name)},
        st.text(min_size=1, max_size=64),
        st.sampled_from(sorted(COMMANDS)),
    )
    return hello | ping | cmd


def _mutate(frame: Any, data: st.DataObject) -> Any:
    """One field of the frame (at any depth) replaced, removed or joined by another."""
    if not isinstance(frame, dict) or not frame:
        return data.draw(VALUES)
    key = data.draw(st.sampled_from(sorted(frame)))
    action = data.draw(st.sampled_from(["replace", "remove", "add", "descend"]))
    out = dict(frame)
    if action == "replace":
        out[key] = data.draw(VALUES)
    elif action == "remove":
        del out[key]
    elif action == "add":
        out[data.draw(_KEYS | st.text(max_size=8))] = data.draw(VALUES)
    else:
        out[key] = _mutate(frame[key], data)
    return out


@st.composite
def mutated_frames(draw: st.DrawFn) -> Any:
    frame: Any = draw(valid_frames())
    data = draw(st.data())
    for _ in range(draw(st.integers(1, 3))):
        frame = _mutate(frame, data)
    return frame


def encode(value: Any, binary: bool) -> bytes:
    """``value`` in the codec's encoding; JSON may carry NaN, Infinity and huge ints."""
    if binary:
        return msgspec.msgpack.encode(value)
    return json.dumps(value, allow_nan=True).encode()


def structures() -> st.SearchStrategy[Any]:
    return VALUES | valid_frames() | mutated_frames()


def frames(binary: bool) -> st.SearchStrategy[bytes]:
    """Hostile frames for one codec: raw bytes, encoded structures, mutated valid frames,
    the known-nasty ones, and a valid frame cut or with a byte flipped."""
    nasty = NASTY_MSGPACK if binary else NASTY_JSON
    encoded = structures().map(lambda v: encode(v, binary))
    huge = st.integers(min_value=2**64, max_value=2**300).map(
        lambda n: encode({"t": "ping", "n": n}, False)
    )

    @st.composite
    def damaged(draw: st.DrawFn) -> bytes:
        data = draw(encoded)
        if not data:
            return data
        i = draw(st.integers(0, len(data) - 1))
        if draw(st.booleans()):
            return data[:i]
        return data[:i] + bytes([draw(st.integers(0, 255))]) + data[i + 1 :]

    options = st.binary(max_size=64) | encoded | damaged() | st.sampled_from(nasty)
    return options if binary else options | huge
