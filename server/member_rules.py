"""The rules a council's members follow, and what is wrong when they are broken.

Pure functions over a member's fields (a trimmed one-line name within its bound, a seat
within its bound, known roles); the rules that need the council (a seat held once among
the active members, no more active members than seats) are checked by the registry
(server/registry.py) in the transaction that writes. A broken rule is a `Problem` naming
the field it is about, which the HTTP API answers as a field error (server/http_base.py).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from chamber.limits import NAME_MAX, SEAT_MAX


class Problem(msgspec.Struct, frozen=True):
    """What is wrong with one field of a request: ``field`` names it as the body does
    ("name", "seat", "agenda[2].title"; "" for the request as a whole), ``code`` is a
    catalogue key under ``error.`` and ``params`` fill its placeholders."""

    field: str
    code: str
    params: dict[str, Any] = msgspec.field(default_factory=dict)


class Invalid(ValueError):
    """The request breaks a rule of the registry; nothing was changed."""

    code = "request.invalid"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.code}" for p in problems))
        self.problems = problems


class InUse(ValueError):
    """A member who is on a sitting's roster is part of its record: deactivate instead."""

    code = "member.in_sittings"

    def __init__(self, member: str, sittings: list[str]) -> None:
        super().__init__(member)
        self.member, self.sittings = member, sittings


ROLES = ("chair", "vice_chair", "secretary", "delegate")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def text_problems(field: str, value: str, max_length: int, *, required: bool) -> list[Problem]:
    """A one-line text field, already trimmed: present if ``required``, within its bound,
    without control characters (a newline, a tab, NUL)."""
    if not value:
        return [Problem(field, "field.required")] if required else []
    if len(value) > max_length:
        return [Problem(field, "field.too_long", {"max": max_length, "length": len(value)})]
    if _CONTROL.search(value):
        return [Problem(field, "field.one_line")]
    return []


def member_problems(name: str, seat: str, roles: tuple[str, ...]) -> list[Problem]:
    """The rules a member's own fields follow (the roster's rules need the council)."""
    out = text_problems("name", name, NAME_MAX, required=True)
    out += text_problems("seat", seat, SEAT_MAX, required=False)
    unknown = [r for r in roles if r not in ROLES]
    if not roles or unknown:
        out.append(Problem("roles", "field.choice", {"value": ",".join(unknown)}))
    return out


def clean_roles(roles: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Roles in their order of precedence, each once; a member is always a delegate."""
    given = {r.strip() for r in roles if r.strip()}
    known = [r for r in ROLES if r in given]
    return tuple(known + sorted(given - set(ROLES))) if given else ()


def seat_key(seat: str) -> str:
    return seat.strip().casefold()


class ImportRow(msgspec.Struct, frozen=True):
    """One row of an import as the file gave it (server/members_csv.py): ``line`` is its
    line in the file, ``problems`` what is wrong with it (a problem's ``field`` is the
    column's: "name", "seat", "roles"), empty when it can be added."""

    line: int
    name: str
    seat: str
    roles: tuple[str, ...]
    problems: tuple[Problem, ...] = ()
