"""`serve --demo`: a demo council, its logins and a sitting, seeded once. The demo logins'
passwords are kept in the data folder (`demo-logins.json`, mode 0600: demo data, not a
secret of the deployment) and printed at every start; a restart changes nothing."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import msgspec

from chamber import commands as c
from chamber.ids import DocHash, ItemId, MemberId, Role
from chamber.model import AgendaItem, Guest
from server.auth import Auth, check_password, new_password
from server.config import Config
from server.demo import NAMES, demo_council
from server.documents import store_document
from server.i18n import t
from server.record.draft import AUTHORITY, draft_pdf
from server.registry import CouncilRow, GuestRow, MemberRow, NotFound, RoomRow, SittingRow
from server.sequencer import wall_ms

if TYPE_CHECKING:
    from server.http_base import Services

SITTING = "ky-hop-thu-nhat"
OPERATOR = "vanhanh"
ROOM = "diem-cau-khu-pho-3"  # a linked hall: its computer logs in under this id
ROOM_NAME = "Điểm cầu Nhà văn hóa khu phố 3"
LOGINS_FILE = "demo-logins.json"
DRAFT_TITLE = "Dự thảo Nghị quyết dự toán ngân sách năm 2026"
DRAFT_PAGES = [
    "Căn cứ Luật Tổ chức chính quyền địa phương; Luật Ngân sách nhà nước;\n"
    "Hội đồng nhân dân phường quyết nghị:\n"
    "Điều 1. Phê chuẩn dự toán thu ngân sách nhà nước trên địa bàn phường năm 2026.",
    "Điều 2. Phê chuẩn dự toán chi ngân sách phường năm 2026, "
    "ưu tiên giáo dục, y tế và chỉnh trang đô thị.",
    "Điều 3. Tổ chức thực hiện.\n"
    "Ủy ban nhân dân phường tổ chức thực hiện Nghị quyết này; Thường trực Hội đồng nhân dân, "
    "các Ban và đại biểu Hội đồng nhân dân phường giám sát việc thực hiện.",
]


def demo_pdf(title: str, pages: list[str], authority: str = AUTHORITY) -> bytes:
    """A real PDF with ``title`` and one block of text per page, typeset with the
    minutes' fonts so that its Vietnamese keeps every diacritic."""
    return draft_pdf(title, pages, authority)


async def seed(services: Services, config: Config) -> None:
    reg = services.registry
    council = demo_council()
    # The linked hall is on the roster as a guest under its own id (server/video_api.py).
    council = msgspec.structs.replace(
        council, guests=(*council.guests, Guest(id=MemberId(ROOM), name=ROOM_NAME))
    )
    try:
        await asyncio.to_thread(reg.council, council.id)
        fresh = False
    except NotFound:
        fresh = True
    if fresh:
        await asyncio.to_thread(
            reg.add_council, CouncilRow(council.id, council.name, council.total_seats)
        )
        for m in council.members:
            await asyncio.to_thread(
                reg.add_member,
                MemberRow(
                    m.id, council.id, m.name, m.seat, tuple(sorted(r.value for r in m.roles))
                ),
            )
        for g in council.guests:
            if g.id != ROOM:
                await asyncio.to_thread(
                    reg.add_guest, GuestRow(g.id, council.id, g.name, g.affiliation)
                )
    try:
        await asyncio.to_thread(reg.room, ROOM)
    except NotFound:
        await asyncio.to_thread(reg.add_room, RoomRow(ROOM, council.id, ROOM_NAME))
    # The council may come from `nghitruong demo --data` (its year-end sitting): the live
    # demo sitting is seeded on its own.
    try:
        await asyncio.to_thread(reg.sitting, SITTING)
        scheduled = True
    except NotFound:
        scheduled = False
    if not scheduled:
        agenda = (
            AgendaItem(
                id=ItemId("bao-cao"),
                title="Báo cáo tình hình kinh tế - xã hội năm 2025",
                presenter="Chủ tịch UBND phường",
            ),
            AgendaItem(id=ItemId("thao-luan"), title="Thảo luận và chất vấn"),
            AgendaItem(id=ItemId("nghi-quyet"), title="Xem xét, thông qua các nghị quyết"),
            AgendaItem(id=ItemId("bau-cu"), title="Bầu Phó Chủ tịch Hội đồng nhân dân"),
        )
        now = wall_ms()
        await services.hub.submit(
            SITTING,
            c.ScheduleSitting(
                sitting=SITTING,
                council=council,
                title="Kỳ họp thường lệ cuối năm 2025",
                scheduled_at=now,
                agenda=agenda,
            ),
            None,
            Role.OPERATOR,
            None,
        )
        await asyncio.to_thread(
            reg.add_sitting, SittingRow(SITTING, council.id, "Kỳ họp thường lệ cuối năm 2025", now)
        )
        pdf = demo_pdf(DRAFT_TITLE, DRAFT_PAGES, council.name)
        digest, _ = await store_document(services, pdf)
        await asyncio.to_thread(reg.add_document, digest, "application/pdf", len(pdf), council.id)
        await services.hub.submit(
            SITTING,
            c.RegisterDocument(
                hash=DocHash(digest),
                title=DRAFT_TITLE,
                pages=len(DRAFT_PAGES),
                item=ItemId("nghi-quyet"),
            ),
            None,
            Role.OPERATOR,
            None,
        )
        await services.hub.submit(
            SITTING,
            c.ProposeMotion(
                title="Nghị quyết về dự toán ngân sách năm 2026",
                doc=DocHash(digest),
                item=ItemId("nghi-quyet"),
            ),
            None,
            Role.OPERATOR,
            None,
        )
    logins = await asyncio.to_thread(demo_logins, services.auth, config.data, council.id)
    print_demo(config, logins)


class DemoLogin(NamedTuple):
    username: str
    password: str | None  # None: changed since it was created (it is not shown)
    name: str


def _accounts() -> list[tuple[str, str, str]]:
    """(username, kind, display name) of every demo login, in the printed order."""
    accounts = [(OPERATOR, "operator", t("role.operator"))]
    accounts += [(f"db{i:02d}", "member", name) for i, name in enumerate(NAMES, start=1)]
    accounts.append((ROOM, "room", ROOM_NAME))
    return accounts


def _read_kept(path: Path) -> dict[str, tuple[str, str]]:
    """username → (password, hash at creation) from the logins file; {} if none."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return {
            str(e["username"]): (str(e["password"]), str(e["hash"])) for e in document["logins"]
        }
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _write_kept(path: Path, kept: dict[str, tuple[str, str]]) -> None:
    """Replace the logins file atomically; it is created with mode 0600."""
    document = {
        "format": "nghitruong.demo-logins.v1",
        "note": "Demo logins of `nghitruong serve --demo`: demo data, readable by the owner only.",
        "logins": [{"username": u, "password": p, "hash": h} for u, (p, h) in kept.items()],
    }
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(document, out, ensure_ascii=False, indent=2)
        out.write("\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def demo_logins(auth: Auth, data: Path, council: str) -> list[DemoLogin]:
    """The demo logins, created the first time and read back from the logins file after.

    A login in the file is shown as long as the registry still holds it with that
    password; one changed since (an operator reset it) is listed without a password and
    left alone. Only a login missing from the file (a first start, or a data folder from
    before the file existed) gets a new password: nothing else is changed on a restart.
    """
    path = data / LOGINS_FILE
    kept = _read_kept(path)
    out: list[DemoLogin] = []
    issued = False
    for username, kind, name in _accounts():
        entry = kept.get(username)
        if entry is not None:
            password, created_hash = entry
            row = auth.registry.login(username)
            valid = (
                row is not None
                and row.kind == kind
                and row.subject == username
                and (row.hash == created_hash or check_password(row.hash, password))
            )
            out.append(DemoLogin(username, password if valid else None, name))
            continue
        if kind == "operator":
            password = new_password()
            auth.set_password(username, password, "operator", username, None)
        else:  # a member or the linked hall: their id is their username
            password = auth.issue_login(kind, username, council, username)
        row = auth.registry.login(username)
        assert row is not None
        kept[username] = (password, row.hash)
        issued = True
        out.append(DemoLogin(username, password, name))
    if issued:
        _write_kept(path, kept)
    return out


def _line(login: DemoLogin, with_name: bool) -> str:
    if login.password is None:
        return f"  {login.username}: {t('demo.serve.changed')}"
    if with_name:
        return f"  {login.username} / {login.password}  ({login.name})"
    return f"  {login.username} / {login.password}"


def print_demo(config: Config, logins: list[DemoLogin]) -> None:
    base = f"http://{config.host}:{config.port}"
    operator, members, room = logins[0], logins[1:-1], logins[-1]
    lines = [
        t("demo.serve.title"),
        f"  {t('demo.serve.chair')}: {base}/chair/?sitting={SITTING}",
        f"  {t('demo.serve.delegate')}: {base}/delegate/?sitting={SITTING}",
        f"  {t('demo.serve.gallery')}: {base}/gallery/?sitting={SITTING}",
        f"  {t('demo.serve.operator')}: {base}/operator/",
        f"  {t('demo.serve.room')}: {base}/room/?sitting={SITTING}",
        "",
        t("demo.serve.logins_kept", file=str(config.data / LOGINS_FILE)),
        _line(operator, True),
        _line(room, True),
    ]
    lines += [_line(m, True) for m in members[:5]]
    lines.append(f"  {t('demo.serve.more', count=len(members) - 5)}")
    lines += [_line(m, False) for m in members[5:]]
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
