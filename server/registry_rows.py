"""The registry's rows and errors (server/registry.py, server/registry_redis.py)."""

from __future__ import annotations

import secrets
from typing import Annotated, Literal

import msgspec

from chamber.limits import Id, Name
from server.member_rules import ImportRow, Problem


class RegistryError(Exception):
    code = "registry.error"


class NotFound(RegistryError):
    code = "registry.not_found"


class Conflict(RegistryError):
    code = "registry.conflict"


class Unavailable(RegistryError):
    """The shared store (Redis, server/registry_redis.py) did not answer in time."""

    code = "server.unavailable"


class CouncilRow(msgspec.Struct, frozen=True):
    id: Annotated[Id, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    name: Annotated[Name, msgspec.Meta(min_length=1)]
    total_seats: Annotated[int, msgspec.Meta(ge=1, le=10_000)]  # the statutory seats
    # The tiers of local government: a province or a centrally run city above its
    # wards, communes and special zones.
    kind: Literal["ward", "commune", "special_zone", "city", "province"] = "ward"
    parent: Id | None = None


class MemberRow(msgspec.Struct, frozen=True):
    id: str
    council: str
    name: str
    seat: str = ""
    roles: tuple[str, ...] = ("delegate",)
    # A member who left the council: kept for the records of the sittings they were on,
    # put on no new sitting's roster, not counted against the council's seats.
    active: bool = True


class ImportCheck(msgspec.Struct, frozen=True):
    """An import checked against the council as it is: every row with its problems, the
    problems of the file as a whole, and the members added (none unless committed and
    nothing is wrong: an import is all or nothing)."""

    rows: list[ImportRow]
    problems: list[Problem]
    added: list[MemberRow]

    @property
    def ok(self) -> bool:
        return not self.problems and not any(r.problems for r in self.rows)


class GuestRow(msgspec.Struct, frozen=True):
    id: str
    council: str
    name: str
    affiliation: str = ""


class RoomRow(msgspec.Struct, frozen=True):
    """A linked hall: its computer logs in as the room and carries the hall's camera and
    mixed audio; on a sitting's roster it is a guest under the same id."""

    id: str
    council: str
    name: str


class SittingRow(msgspec.Struct, frozen=True):
    id: str
    council: str
    title: str
    scheduled_at: int


class LoginRow(msgspec.Struct, frozen=True):
    username: str
    hash: str
    kind: str  # "operator" or "member"
    subject: str
    council: str | None


class OperatorRow(msgspec.Struct, frozen=True):
    username: str
    name: str = ""


class SessionRow(msgspec.Struct, frozen=True):
    token_hash: str
    username: str
    kind: str
    subject: str
    council: str | None
    created: int
    expires: int
    revoked: bool


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"
