"""A draft document for the demo and the tests, typeset by Typst with the bundled fonts
(the minutes' path, server/record/pdf.py): a real PDF whose Vietnamese text keeps every
diacritic, one page per block of text."""

from __future__ import annotations

import json
import threading
from functools import cache
from importlib import resources
from pathlib import Path

import typst

from server.record.pdf import FONTS

TEMPLATE = Path(str(resources.files("server.record") / "templates" / "draft.typ"))
AUTHORITY = "HỘI ĐỒNG NHÂN DÂN"
DRAFT = "Dự thảo"
PAGE = "Trang"


@cache
def _compiler() -> typst.Compiler:
    return typst.Compiler(
        str(TEMPLATE), root=str(TEMPLATE.parent), font_paths=[str(FONTS)], ignore_system_fonts=True
    )


_lock = threading.Lock()  # one compilation at a time per compiler


def draft_pdf(title: str, pages: list[str], authority: str = AUTHORITY) -> bytes:
    """``title`` on every page and one block of ``pages`` (lines split on newlines) each."""
    if not pages:
        raise ValueError("a document has at least one page")
    data = json.dumps(
        {
            "title": title,
            "pages": pages,
            "authority": authority.upper(),
            "draft": DRAFT,
            "page_label": PAGE,
        },
        ensure_ascii=False,
    )
    with _lock:
        pdf = _compiler().compile(format="pdf", sys_inputs={"doc": data})
    assert isinstance(pdf, bytes)
    return pdf
