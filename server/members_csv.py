"""A council's members from a CSV file as Excel saves it.

Excel's "CSV UTF-8" starts the file with a byte order mark; in a vi-VN (or any
comma-as-decimal) locale it separates the fields with ``;`` rather than ``,``. Python's
standard ``csv`` module reads both (quoted fields, doubled quotes, line breaks inside
quotes): no third-party parser is needed. The separator is the one of ``;``, ``,`` or a
tab that the header line uses most. A file that is not UTF-8 (Excel's older "CSV
(Comma delimited)" writes the Windows code page) is refused with a typed error asking for
"CSV UTF-8" rather than guessed at.

The header names the columns, in Vietnamese or English, in any order: the name (required),
the seat and the role (a role code or its Vietnamese or English label; empty: delegate).
Every problem is a `Problem` with the column it belongs to; the registry adds the
council's rules (server/registry.py `Registry.import_members`).
"""

from __future__ import annotations

import csv
import io
import unicodedata

from server.i18n import catalogue
from server.member_rules import ROLES, ImportRow, Problem

# What a column may be called (compared without case, spaces at the ends or diacritics).
COLUMNS = {
    "name": ("name", "full name", "ho va ten", "ho ten", "ten", "dai bieu"),
    "seat": ("seat", "so ghe", "ghe", "vi tri"),
    "roles": ("role", "roles", "chuc danh", "chuc vu", "vai tro"),
}
SEPARATORS = (";", ",", "\t")


class CsvError(ValueError):
    """The file as a whole cannot be read: ``problem`` says why."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.code)
        self.problem = problem


def fold(text: str) -> str:
    """Lower case without diacritics, for matching headers and labels ("Họ và tên" →
    "ho va ten"; đ, which has no decomposition, becomes d)."""
    decomposed = unicodedata.normalize("NFD", text.strip().casefold().replace("đ", "d"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def _role_labels() -> dict[str, str]:
    labels = {fold(r): r for r in ROLES}
    for lang in ("vi", "en"):
        for role in ROLES:
            label = catalogue(lang).get(f"role.{role}")
            if label:
                labels[fold(label)] = role
    labels[fold("Phó Chủ tịch")] = "vice_chair"
    labels[fold("Chủ tịch")] = "chair"
    return labels


def read(data: bytes, max_rows: int) -> list[ImportRow]:
    """The rows of a members file; ``CsvError`` when the file cannot be read at all."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvError(Problem("file", "import.not_utf8")) from None
    lines = text.splitlines()
    header_line = next((line for line in lines if line.strip()), "")
    if not header_line:
        raise CsvError(Problem("file", "import.empty"))
    separator = max(SEPARATORS, key=header_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    try:
        header = next(r for r in reader if any(cell.strip() for cell in r))
        where = _columns(header)
        labels = _role_labels()
        rows: list[ImportRow] = []
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue  # Excel writes ";;;" for a row left empty
            if len(rows) == max_rows:
                raise CsvError(Problem("file", "import.too_many", {"max": max_rows}))
            rows.append(_row(reader.line_num, record, where, labels))
    except csv.Error as err:
        raise CsvError(
            Problem("file", "import.malformed", {"line": reader.line_num, "detail": str(err)})
        ) from None
    return rows


def _columns(header: list[str]) -> dict[str, int]:
    names = [fold(h) for h in header]
    where: dict[str, int] = {}
    for column, aliases in COLUMNS.items():
        found = [i for i, n in enumerate(names) if n in aliases]
        if found:
            where[column] = found[0]
    if "name" not in where:
        raise CsvError(Problem("file", "import.no_name_column", {"header": ", ".join(header)}))
    return where


def _row(line: int, record: list[str], where: dict[str, int], labels: dict[str, str]) -> ImportRow:
    def cell(column: str) -> str:
        i = where.get(column)
        return record[i].strip() if i is not None and i < len(record) else ""

    roles: list[str] = []
    problems: list[Problem] = []
    for part in cell("roles").replace("|", ",").replace("+", ",").split(","):
        if not part.strip():
            continue
        role = labels.get(fold(part))
        if role is None:
            problems.append(Problem("roles", "field.choice", {"value": part.strip()}))
        else:
            roles.append(role)
    if "delegate" not in roles:
        roles.append("delegate")
    return ImportRow(line, cell("name"), cell("seat"), tuple(roles), tuple(problems))
