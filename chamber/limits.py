"""Bounds on everything a client can write: one maximum per kind of text and per kind of
list, stated here once.

The types below annotate the fields of commands, of the structs they carry and of the
hub's HTTP bodies; msgspec enforces them wherever those are decoded (a socket frame, an
HTTP body, a journal record), so an oversized field is refused before anything is
decided, naming the field (``Expected `str` of length <= 1000 - at `$.cmd.note```).
``check`` holds a command built in code (from a form or the registry) to the same bounds.
docs/protocol.md ("Field limits") lists every field with its bound; a test checks that
list against these types.

The figures are what a council needs with a wide margin: a Vietnamese resolution title
runs to 300 characters; a council has tens of delegates (the largest a little over a
hundred), a year-end sitting a few dozen agenda items, a confidence poll a few dozen
officials.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta

# Text, in characters (Unicode code points).
ID_MAX = 64  # any id: sitting, council, member, item, vote, document hash, preset, question
NAME_MAX = 200  # a person's, a council's or a body's name; a guest's affiliation; presenter
TITLE_MAX = 500  # a sitting, agenda item, document, motion or ballot title; a ballot line
NOTE_MAX = 1000  # a floor request's note
REASON_MAX = 1000  # why a sitting is suspended, a member excused, a vote cancelled
SEAT_MAX = 32  # a seat label in the hall
OPTION_MAX = 64  # a ballot option code ("approve", "strike", "high", ...)
MEDIA_TYPE_MAX = 255  # RFC 6838: type and subtype of at most 127 characters each
USERNAME_MAX = 64
PASSWORD_MAX = 256
TOKEN_MAX = 256  # a session token (43 characters as issued)
LANG_MAX = 35  # RFC 5646 asks implementations to accept language tags this long

# Lists, in entries.
MEMBERS_MAX = 500  # a council's roster
GUESTS_MAX = 200  # a council's invited guests
AGENDA_MAX = 200  # a sitting's agenda items
ROLES_MAX = 8  # the roles one member holds
OPTIONS_MAX = 16  # the options of one ballot
QUESTIONS_MAX = 200  # the lines of one ballot: candidates, officials; a ballot's answers
PRESETS_MAX = 32  # the vote presets of a council's rules

Id = Annotated[str, Meta(max_length=ID_MAX)]
# A name is one line of printable text: no control characters (NUL, newlines, escapes).
Name = Annotated[str, Meta(max_length=NAME_MAX, pattern=r"^[^\x00-\x1f\x7f]*$")]
Title = Annotated[str, Meta(max_length=TITLE_MAX)]
Note = Annotated[str, Meta(max_length=NOTE_MAX)]
Reason = Annotated[str, Meta(max_length=REASON_MAX)]
Seat = Annotated[str, Meta(max_length=SEAT_MAX)]
Option = Annotated[str, Meta(max_length=OPTION_MAX)]
MediaType = Annotated[str, Meta(max_length=MEDIA_TYPE_MAX)]
Username = Annotated[str, Meta(max_length=USERNAME_MAX)]
Password = Annotated[str, Meta(max_length=PASSWORD_MAX)]
Token = Annotated[str, Meta(max_length=TOKEN_MAX)]
Lang = Annotated[str, Meta(max_length=LANG_MAX)]
# A command id: chosen by the client, the key of its stored answer.
CommandId = Annotated[str, Meta(min_length=1, max_length=ID_MAX)]

# Numbers: a client's integers stay within what every encoding carries exactly (MessagePack
# and JSON alike; JavaScript's safe integers for times). Domain checks (a position on the
# agenda, a positive duration) are the deciders' business; these keep absurd values out.
SMALL_MAX = 2**31 - 1
Small = Annotated[int, Meta(ge=-SMALL_MAX, le=SMALL_MAX)]  # counts, seconds, positions, pages
TIME_MAX = 2**53 - 1
Millis = Annotated[int, Meta(ge=0, le=TIME_MAX)]  # a time: ms since the epoch, UTC

MEMBERS_BOUND = Meta(max_length=MEMBERS_MAX)
GUESTS_BOUND = Meta(max_length=GUESTS_MAX)
AGENDA_BOUND = Meta(max_length=AGENDA_MAX)
ROLES_BOUND = Meta(max_length=ROLES_MAX)
OPTIONS_BOUND = Meta(max_length=OPTIONS_MAX)
QUESTIONS_BOUND = Meta(max_length=QUESTIONS_MAX)
PRESETS_BOUND = Meta(max_length=PRESETS_MAX)

_encoder = msgspec.msgpack.Encoder()
_decoders: dict[type[Any], msgspec.msgpack.Decoder[Any]] = {}


class OutOfBounds(ValueError):
    """A value built in code that its schema would refuse; the message names the field."""


def check(value: msgspec.Struct) -> None:
    """Raise ``OutOfBounds`` unless ``value`` decodes under its own type's schema.

    Decoded input was checked on the way in; this is for values built from anything else
    (a form field, a registry row), so that nothing past a bound reaches the log.
    """
    kind = type(value)
    decoder = _decoders.get(kind)
    if decoder is None:
        decoder = _decoders[kind] = msgspec.msgpack.Decoder(kind)
    try:
        decoder.decode(_encoder.encode(value))
    except msgspec.ValidationError as err:
        raise OutOfBounds(str(err)) from err
