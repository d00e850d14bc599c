"""The minutes as PDF, typeset by Typst (the ``typst`` package: the compiler in a wheel,
no system library) from the composed blocks, with the bundled fonts only."""

from __future__ import annotations

import dataclasses
import json
import threading
from functools import cache
from importlib import resources
from pathlib import Path

import typst

from server.record.compose import Document

FONTS = Path(str(resources.files("server.record") / "fonts"))
TEMPLATE = Path(str(resources.files("server.record") / "templates" / "minutes.typ"))


@cache
def _compiler() -> typst.Compiler:
    """One compiler per process: it keeps the fonts it has read. The machine's fonts are
    ignored, so every machine sets the same pages."""
    return typst.Compiler(
        str(TEMPLATE), root=str(TEMPLATE.parent), font_paths=[str(FONTS)], ignore_system_fonts=True
    )


_lock = threading.Lock()  # the compiler is one Rust object: one compilation at a time


def render_pdf(document: Document) -> bytes:
    data = json.dumps(dataclasses.asdict(document), ensure_ascii=False)
    with _lock:
        pdf = _compiler().compile(format="pdf", sys_inputs={"doc": data})
    assert isinstance(pdf, bytes)
    return pdf
