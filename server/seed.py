"""`serve --demo`: a demo council, its logins and a sitting, seeded once; the demo logins
get fresh passwords at every start (only their hashes are kept) and are printed."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING

from chamber import commands as c
from chamber.ids import DocHash, ItemId, Role
from chamber.model import AgendaItem
from server.config import Config
from server.demo import NAMES, demo_council
from server.i18n import t
from server.registry import CouncilRow, GuestRow, MemberRow, NotFound, SittingRow
from server.sequencer import wall_ms

if TYPE_CHECKING:
    from server.http_api import Services

SITTING = "ky-hop-thu-nhat"
OPERATOR = "vanhanh"


def demo_pdf(title: str, pages: list[str]) -> bytes:
    """A small, valid PDF with one line of text per page (no extra dependency)."""
    objects: list[bytes] = []
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    font_ref = 3 + 2 * len(pages)
    for i, text in enumerate(pages):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font_ref} 0 R >> >> >>".encode()
        )
        safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = (
            f"BT /F1 20 Tf 60 760 Td ({title}) Tj 0 -40 Td /F1 14 Tf ({safe}) Tj "
            f"0 -30 Td (Trang {i + 1}/{len(pages)}) Tj ET"
        ).encode("latin-1", "replace")
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


async def seed(services: Services, config: Config) -> None:
    from server.http_api import store_document

    reg = services.registry
    council = demo_council()
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
            await asyncio.to_thread(
                reg.add_guest, GuestRow(g.id, council.id, g.name, g.affiliation)
            )
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
        pdf = demo_pdf(
            "Du thao Nghi quyet du toan ngan sach 2026",
            [
                "Dieu 1. Phe chuan du toan thu ngan sach.",
                "Dieu 2. Phe chuan du toan chi.",
                "Dieu 3. To chuc thuc hien.",
            ],
        )
        digest, _ = await store_document(services, pdf)
        await asyncio.to_thread(reg.add_document, digest, "application/pdf", len(pdf), council.id)
        await services.hub.submit(
            SITTING,
            c.RegisterDocument(
                hash=DocHash(digest),
                title="Dự thảo Nghị quyết dự toán ngân sách năm 2026",
                pages=3,
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
    await print_demo(services, config, council.members)


async def print_demo(services: Services, config: Config, members: object) -> None:
    auth = services.auth
    from server.auth import new_password

    op_password = new_password()
    await asyncio.to_thread(auth.set_password, OPERATOR, op_password, "operator", OPERATOR, None)
    logins = []
    for i, name in enumerate(NAMES, start=1):
        member_id = f"db{i:02d}"
        password = await asyncio.to_thread(
            auth.issue_member_login, member_id, "hdnd-phuong-ben-thanh", member_id
        )
        logins.append((member_id, password, name))
    base = f"http://{config.host}:{config.port}"
    lines = [
        t("demo.serve.title"),
        f"  {t('demo.serve.chair')}: {base}/chair/?sitting={SITTING}",
        f"  {t('demo.serve.delegate')}: {base}/delegate/?sitting={SITTING}",
        f"  {t('demo.serve.gallery')}: {base}/gallery/?sitting={SITTING}",
        f"  {t('demo.serve.operator')}: {base}/operator/",
        "",
        t("demo.serve.logins"),
        f"  {OPERATOR} / {op_password}  ({t('role.operator')})",
    ]
    for member_id, password, name in logins[:5]:
        lines.append(f"  {member_id} / {password}  ({name})")
    lines.append(f"  … {t('demo.serve.more', count=len(logins) - 5)}")
    for member_id, password, _name in logins[5:]:
        lines.append(f"  {member_id} / {password}")
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
