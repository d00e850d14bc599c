"""The welcome tells each connection what it may issue (docs/protocol.md#welcome): the
permission table read for its principal's roles, the same choice `Who.role_for` makes,
in both encodings, on a fresh and on a resumed welcome."""

from __future__ import annotations

from itertools import combinations

import msgspec
import pytest

from chamber.ids import MemberId, Phase, Role
from chamber.permissions import NO_PERMITS, PERMISSIONS, check, permits
from chamber.projection import Audience
from server.acting import PUBLIC, Who
from server.auth import Principal
from server.client import Client, login
from server.seed import ROOM
from tests.server.conftest import SITTING, HubProcess

C, VC, S, D = Role.CHAIR, Role.VICE_CHAIR, Role.SECRETARY, Role.DELEGATE
MEMBER = Principal("member", "db07", "hdnd-phuong-ben-thanh", "db07")
ROLE_SETS = [frozenset(r) for n in range(1, 5) for r in combinations((C, VC, S, D), n)]


def issues(who: Who, command: str, phase: Phase | None) -> bool:
    """Whether the hub would let ``who`` issue ``command`` in ``phase`` past the table."""
    role = who.role_for(command)
    if role is None:
        return False
    try:
        check(command, role, phase)
    except Exception:
        return False
    return True


@pytest.mark.parametrize("roles", ROLE_SETS, ids=lambda r: "+".join(sorted(r)))
def test_a_members_permits_are_what_role_for_and_the_table_allow(roles: frozenset[Role]) -> None:
    who = Who(Audience.DELEGATE, MemberId("db07"), roles, MEMBER)
    table = who.permits()
    for command in PERMISSIONS:
        for phase in [None, *Phase]:
            name = "none" if phase is None else phase.value
            said = name in table.commands.get(command, ())
            assert said == issues(who, command, phase), (command, name)


def test_operators_rooms_and_the_public() -> None:
    operator = Who(
        Audience.CHAIR, None, frozenset({Role.OPERATOR}), Principal("operator", "op", None, "op")
    )
    assert operator.permits() == permits({Role.OPERATOR})
    assert "sitting.schedule" in operator.permits().commands
    room = Who(Audience.PUBLIC, None, frozenset(), Principal("room", ROOM, "x", ROOM))
    assert room.permits() == NO_PERMITS == PUBLIC.permits()


def expected(roles: set[Role]) -> dict[str, object]:
    """The table as a client decodes it (lists, not tuples)."""
    return dict(msgspec.json.decode(msgspec.json.encode(permits(roles))))


@pytest.mark.parametrize("binary", [False, True], ids=["json", "msgpack"])
async def test_every_welcome_carries_what_its_connection_may_issue(
    hub: HubProcess, binary: bool
) -> None:
    logins = {
        "db01": {C, D},
        "db02": {VC, D},
        "db03": {S, D},
        "db05": {D},
        "vanhanh": {Role.OPERATOR},
        ROOM: set(),
    }
    for username, roles in logins.items():
        token = await login(hub.url, username, hub.logins[username])
        async with Client(hub.url, SITTING, token, binary=binary) as client:
            assert client.welcome["permits"] == expected(roles), username
    async with Client(hub.url, SITTING, None, binary=binary) as public:
        assert public.welcome["permits"] == {"commands": {}, "others": []}


async def test_a_resumed_welcome_carries_them_too(hub: HubProcess) -> None:
    token = await login(hub.url, "db03", hub.logins["db03"])
    client = Client(hub.url, SITTING, token, binary=True)
    try:
        await client.connect()
        first = client.welcome
        await client.close()
        await client.connect()  # with last_seq: resumed, no snapshot
        assert first["snapshot"] is not None and client.welcome["snapshot"] is None
        assert client.welcome["permits"] == first["permits"] == expected({S, D})
        assert "floor.grant" not in client.welcome["permits"]["commands"]
        assert "agenda.add" in client.welcome["permits"]["commands"]
    finally:
        await client.close()
