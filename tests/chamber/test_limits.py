"""Every bound of chamber/limits.py takes its length and refuses one more, wherever it
is decoded; a command built in code past a bound is refused by the core and changes
nothing."""

from __future__ import annotations

from typing import Annotated, Any, get_args, get_origin

import msgspec
import pytest

from chamber import ChamberError, ids, limits
from chamber import commands as c
from chamber.commands import AnyCommand
from chamber.ids import ItemId, MemberId, Role, TurnKind
from chamber.model import Council, Guest, Member
from chamber.rules import PRESETS
from tests.chamber.play import Play, council

TEXTS = {
    name: value
    for name, value in vars(limits).items()
    if get_origin(value) is Annotated and get_args(value)[0] is str
}
BOUNDS = {name: value for name, value in vars(limits).items() if isinstance(value, msgspec.Meta)}
IDS = {
    name: value
    for name, value in vars(ids).items()
    if getattr(value, "__supertype__", None) is limits.Id
}


def test_the_limits_module_names_every_kind() -> None:
    assert set(TEXTS) == {
        "Id",
        "Name",
        "Title",
        "Note",
        "Reason",
        "Seat",
        "Option",
        "MediaType",
        "Username",
        "Password",
        "Token",
        "Lang",
        "CommandId",
    }
    assert len(BOUNDS) == 7
    assert len(IDS) == 10


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_each_text_type_takes_its_length_and_refuses_one_more(name: str) -> None:
    kind = TEXTS[name]
    most = get_args(kind)[1].max_length
    assert isinstance(most, int) and most > 0
    # Lengths are characters, not bytes: a Vietnamese letter counts once.
    assert msgspec.json.decode(msgspec.json.encode("ệ" * most), type=kind) == "ệ" * most
    with pytest.raises(msgspec.ValidationError, match=f"length <= {most}"):
        msgspec.json.decode(msgspec.json.encode("ệ" * (most + 1)), type=kind)
    with pytest.raises(msgspec.ValidationError):
        msgspec.msgpack.decode(msgspec.msgpack.encode("a" * (most + 1)), type=kind)


@pytest.mark.parametrize("name", sorted(BOUNDS))
def test_each_list_bound_takes_its_count_and_refuses_one_more(name: str) -> None:
    most = BOUNDS[name].max_length
    assert isinstance(most, int) and most > 0
    bound = BOUNDS[name]
    items = list(range(most))
    pairs = {str(i): i for i in items}
    cases: list[tuple[Any, Any, Any]] = [
        (Annotated[list[int], bound], items, [*items, 0]),
        (Annotated[tuple[int, ...], bound], items, [*items, 0]),
        (Annotated[dict[str, int], bound], pairs, {**pairs, "x": 0}),
    ]
    for kind, ok, over in cases:
        assert len(msgspec.json.decode(msgspec.json.encode(ok), type=kind)) == most
        with pytest.raises(msgspec.ValidationError, match=f"length <= {most}"):
            msgspec.json.decode(msgspec.json.encode(over), type=kind)


@pytest.mark.parametrize("name", sorted(IDS))
def test_each_id_is_bounded(name: str) -> None:
    kind = IDS[name]
    assert msgspec.json.decode(b'"' + b"a" * limits.ID_MAX + b'"', type=kind)
    with pytest.raises(msgspec.ValidationError, match=f"length <= {limits.ID_MAX}"):
        msgspec.json.decode(b'"' + b"a" * (limits.ID_MAX + 1) + b'"', type=kind)


def decode_command(cmd: dict[str, Any]) -> AnyCommand:
    return msgspec.json.decode(msgspec.json.encode(cmd), type=AnyCommand)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cmd", "field", "over"),
    [
        ({"type": "floor.request"}, "note", "x" * (limits.NOTE_MAX + 1)),
        ({"type": "sitting.suspend"}, "reason", "x" * (limits.REASON_MAX + 1)),
        ({"type": "agenda.add"}, "title", "x" * (limits.TITLE_MAX + 1)),
        ({"type": "agenda.add", "title": "t"}, "presenter", "x" * (limits.NAME_MAX + 1)),
        ({"type": "agenda.reorder"}, "order", ["i"] * (limits.AGENDA_MAX + 1)),
        ({"type": "attendance.excuse", "member": "m01"}, "reason", "x" * 1001),
        ({"type": "vote.cast", "vote": "v1"}, "choice", "x" * (limits.OPTION_MAX + 1)),
        ({"type": "vote.cast"}, "vote", "v" * (limits.ID_MAX + 1)),
        (
            {"type": "vote.cast", "vote": "v1"},
            "answers",
            {f"q{i}": "approve" for i in range(limits.QUESTIONS_MAX + 1)},
        ),
        ({"type": "vote.open", "motion": "mo1"}, "options", ["o"] * (limits.OPTIONS_MAX + 1)),
        (
            {"type": "doc.register", "hash": "d", "title": "t"},
            "media_type",
            "x" * (limits.MEDIA_TYPE_MAX + 1),
        ),
        (
            {"type": "roster.add_guest"},
            "guest",
            {"id": "g1", "name": "Khách", "affiliation": "x" * (limits.NAME_MAX + 1)},
        ),
    ],
)
def test_a_decoded_command_past_a_bound_is_refused_naming_its_field(
    cmd: dict[str, Any], field: str, over: Any
) -> None:
    with pytest.raises(msgspec.ValidationError, match=rf"`\$\.{field}"):
        decode_command({**cmd, field: over})


def test_nested_rosters_and_rules_are_bounded() -> None:
    member = {"id": "m", "name": "Đại biểu"}
    schedule = {
        "type": "sitting.schedule",
        "sitting": "s1",
        "title": "Kỳ họp",
        "scheduled_at": 0,
        "council": {"id": "c", "name": "HĐND", "total_seats": 1, "members": [member]},
    }
    assert isinstance(decode_command(schedule), c.ScheduleSitting)
    many = [member] * (limits.MEMBERS_MAX + 1)
    with pytest.raises(msgspec.ValidationError, match=r"`\$\.council\.members`"):
        decode_command({**schedule, "council": {**schedule["council"], "members": many}})
    long_name = {**member, "name": "x" * (limits.NAME_MAX + 1)}
    with pytest.raises(msgspec.ValidationError, match=r"`\$\.council\.members\[0\]\.name`"):
        decode_command({**schedule, "council": {**schedule["council"], "members": [long_name]}})
    preset = msgspec.to_builtins(PRESETS["resolution"])
    presets = {f"p{i}": {**preset, "id": f"p{i}"} for i in range(limits.PRESETS_MAX + 1)}
    with pytest.raises(msgspec.ValidationError, match=r"`\$\.rules\.presets`"):
        decode_command({**schedule, "rules": {"presets": presets}})


def test_a_command_built_in_code_past_a_bound_is_refused_by_the_core() -> None:
    p = Play()
    p.open_and_start(25)
    with pytest.raises(ChamberError) as refused:
        p.as_delegate(5, c.RequestFloor(kind=TurnKind.CONTRIBUTION, note="x" * 900_000))
    assert refused.value.code == "command.invalid"
    assert "`$.note`" in str(refused.value.params["detail"])
    assert msgspec.msgpack.encode(p.state) == p.before_bytes
    step = p.as_delegate(5, c.RequestFloor(note="ý" * limits.NOTE_MAX))
    assert step.records[0].event.request.note == "ý" * limits.NOTE_MAX  # type: ignore[attr-defined]


def test_a_roster_past_its_bound_cannot_be_scheduled() -> None:
    big = council(limits.MEMBERS_MAX)
    more = Member(id=MemberId("one-too-many"), name="Đại biểu", roles=frozenset({Role.DELEGATE}))
    too_big = Council(
        id=big.id, name=big.name, total_seats=big.total_seats, members=(*big.members, more)
    )
    p = Play()
    with pytest.raises(ChamberError) as refused:
        p.do(
            c.ScheduleSitting(sitting="s2", council=too_big, title="t", scheduled_at=0),
            None,
            Role.OPERATOR,
        )
    assert refused.value.code == "command.invalid"
    assert "`$.council.members`" in str(refused.value.params["detail"])
    p.do(c.AddItem(title="ệ" * limits.TITLE_MAX))
    assert any(i.title == "ệ" * limits.TITLE_MAX for i in p.s.agenda)
    assert ItemId("i-report") in {i.id for i in p.s.agenda}


def test_the_agenda_and_the_guests_grow_only_to_their_bounds() -> None:
    """What a schedule may list, commands may not grow past: a reorder must list every
    item, so the agenda stays within its bound."""
    p = Play()
    for n in range(limits.AGENDA_MAX - len(p.s.agenda)):
        p.do(c.AddItem(title=f"Nội dung {n}"))
    with pytest.raises(ChamberError) as refused:
        p.do(c.AddItem(title="Một nội dung nữa"))
    assert refused.value.code == "agenda.full"
    assert refused.value.params == {"limit": limits.AGENDA_MAX}
    p.do(c.ReorderAgenda(order=tuple(reversed([i.id for i in p.s.agenda]))))
    for n in range(limits.GUESTS_MAX - len(p.s.guests)):
        p.do(c.AddGuest(guest=Guest(id=MemberId(f"g{n}"), name=f"Khách {n}")))
    with pytest.raises(ChamberError) as refused:
        p.do(c.AddGuest(guest=Guest(id=MemberId("g-more"), name="Khách nữa")))
    assert refused.value.code == "guest.too_many"
    assert msgspec.msgpack.encode(p.state) == p.before_bytes
