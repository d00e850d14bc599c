"""The field limits are stated once, in the schema (chamber/limits.py and the types that use
it); docs/protocol.md repeats them in a table generated from the schema, and this test
fails when the two disagree or when any text or list a client can send has no bound.

Rewrite the table after changing a bound: ``python -m tests.server.test_limits_doc``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import msgspec.inspect as mi

from server import http_api
from server.protocol import Inbound
from server.registry import CouncilRow

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
BEGIN, END = "<!-- field-limits:begin -->", "<!-- field-limits:end -->"

# Every struct a client can send, as docs/http-api.md names the routes that take it.
BODIES: dict[type[Any], str] = {
    http_api.LoginBody: "POST /api/login",
    http_api.NewSitting: "POST /api/sittings",
    http_api.CommandBody: "POST /api/sittings/{sitting}/commands",
    CouncilRow: "POST /api/councils",
    http_api.NewMember: "POST /api/councils/{council}/members",
    http_api.LoginRequest: "POST /api/members/{member}/login",
}
COLLECTIONS = (mi.ListType, mi.VarTupleType, mi.SetType, mi.FrozenSetType, mi.DictType)
BOUNDED_BY_KIND = (
    mi.IntType,
    mi.BoolType,
    mi.NoneType,
    mi.EnumType,
    mi.LiteralType,
    mi.FloatType,
)


class Walk:
    """Each struct's bounded fields, in the order a reader meets them."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str]] = []
        self.unbounded: list[str] = []
        self.seen: set[type[Any]] = set()
        self.queue: list[tuple[mi.StructType, str]] = []

    def struct(self, info: mi.StructType, where: str | None = None) -> None:
        if info.cls in self.seen:
            return
        self.seen.add(info.cls)
        self.queue.append((info, where or self.name(info.cls)))

    @staticmethod
    def name(cls: type[Any]) -> str:
        tag = cls.__struct_config__.tag
        if cls in BODIES:
            return BODIES[cls]
        if isinstance(tag, str) and cls.__struct_config__.tag_field == "t":
            return f"`{tag}` frame"
        return f"`{tag}`" if isinstance(tag, str) else f"`{cls.__name__}`"

    def run(self) -> None:
        while self.queue:
            info, where = self.queue.pop(0)
            for f in info.fields:
                self.field(where, f.encode_name, f.type)

    def field(self, where: str, path: str, t: mi.Type) -> None:
        if isinstance(t, mi.UnionType):
            for option in t.types:
                self.field(where, path, option)
        elif isinstance(t, mi.StructType):
            self.struct(t)
        elif isinstance(t, mi.StrType):
            self.bound(where, path, t.max_length, "")
        elif isinstance(t, COLLECTIONS):
            self.bound(where, path, t.max_length, " items")
            if isinstance(t, mi.DictType):
                self.field(where, f"{path} keys", t.key_type)
                self.field(where, f"{path}[…]", t.value_type)
            else:
                self.field(where, f"{path}[…]", t.item_type)
        elif not isinstance(t, BOUNDED_BY_KIND):
            self.unbounded.append(f"{where} {path}: {t!r}")

    def bound(self, where: str, path: str, most: int | None, unit: str) -> None:
        if most is None:
            self.unbounded.append(f"{where} {path}")
        else:
            self.rows.append((where, path, f"{most:,}{unit}"))


def walk() -> Walk:
    w = Walk()
    for info in mi.multi_type_info([Inbound])[0].types:  # type: ignore[attr-defined]
        w.struct(info)
    w.run()
    for cls in BODIES:
        w.struct(mi.type_info(cls))  # type: ignore[arg-type]
        w.run()
    return w


def table() -> str:
    """One row per struct: each bounded field and its bound (characters, or items)."""
    fields: dict[str, list[str]] = {}
    for where, path, most in walk().rows:
        name = f"`{path[:-5]}` keys" if path.endswith(" keys") else f"`{path}`"
        fields.setdefault(where, []).append(f"{name} {most}")
    rows = ["| where | field and its bound |", "|---|---|"]
    rows += [f"| {where} | {' · '.join(bounds)} |" for where, bounds in fields.items()]
    return "\n".join(rows)


def documented() -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(re.escape(BEGIN) + r"\n(.*?)\n" + re.escape(END), text, re.DOTALL)
    assert match, f"docs/protocol.md has no {BEGIN} … {END} block"
    return match.group(1)


def test_every_text_and_list_a_client_sends_has_a_bound() -> None:
    assert walk().unbounded == []


def test_the_documented_limits_are_the_schemas() -> None:
    assert documented() == table(), "run: python -m tests.server.test_limits_doc"


def test_the_table_covers_the_reported_fields() -> None:
    rows = walk().rows
    assert ("`floor.request`", "note", "1,000") in rows
    assert ("`Council`", "members", "500 items") in rows
    assert ("`Member`", "name", "200") in rows
    assert ("POST /api/login", "password", "256") in rows


if __name__ == "__main__":  # rewrite the table in docs/protocol.md
    text = DOC.read_text(encoding="utf-8")
    start, stop = text.index(BEGIN) + len(BEGIN), text.index(END)
    DOC.write_text(text[:start] + "\n" + table() + "\n" + text[stop:], encoding="utf-8")
    sys.stdout.write(f"{DOC}: {len(walk().rows)} rows\n")
