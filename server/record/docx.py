"""The minutes as DOCX for the secretary to edit (python-docx), from the same composed
blocks as the PDF: A4, the decree's margins, Times New Roman 13 pt, the header as a
borderless two-column table, page numbers in the top margin from page 2."""

from __future__ import annotations

import io
from typing import Any

from docx import Document as new_docx
from docx.enum.section import WD_SECTION_START
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph

from server.record.compose import Block, Document, Heading, Para, Table

FONT = "Times New Roman"
ALIGN = {
    "left": WD_ALIGN_PARAGRAPH.LEFT,
    "center": WD_ALIGN_PARAGRAPH.CENTER,
    "right": WD_ALIGN_PARAGRAPH.RIGHT,
}


def _line(
    p: Paragraph, text: str, *, bold: bool = False, italic: bool = False, size: float = 13
) -> None:
    run = p.add_run(text)
    run.bold, run.italic, run.font.size = bold, italic, Pt(size)


def _centred(
    container: Any, lines: list[tuple[str, bool, bool, float]], *, reuse_first: bool = False
) -> None:
    """Centred lines, each its own paragraph; ``reuse_first``: the first goes in the
    container's empty first paragraph (a new table cell has one)."""
    for n, (text, bold, italic, size) in enumerate(lines):
        p = container.paragraphs[0] if reuse_first and n == 0 else container.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.space_after = Pt(0)
        _line(p, text, bold=bold, italic=italic, size=size)


def _no_borders(table: DocxTable) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    table._tbl.tblPr.append(borders)


def _page_number(doc: object) -> None:
    """PAGE in the top margin, centred; not on the first page (Decree 30)."""
    section = doc.sections[0]  # type: ignore[attr-defined]
    section.different_first_page_header_footer = True
    p = section.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    p._p.append(field)


def _block(doc: object, b: Block) -> None:
    if isinstance(b, Heading):
        p = doc.add_paragraph()  # type: ignore[attr-defined]
        _line(p, b.text, bold=True, italic=b.level > 1)
        p.paragraph_format.space_before = Pt(6 if b.level == 1 else 3)
        p.paragraph_format.keep_with_next = True
    elif isinstance(b, Para):
        p = doc.add_paragraph()  # type: ignore[attr-defined]
        p.alignment = (
            WD_ALIGN_PARAGRAPH.CENTER if b.style == "center" else WD_ALIGN_PARAGRAPH.JUSTIFY
        )
        _line(p, b.text, bold=b.style == "bold", italic=b.style == "italic")
    elif isinstance(b, Table):
        table = doc.add_table(rows=1, cols=len(b.columns))  # type: ignore[attr-defined]
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for cell, text in zip(table.rows[0].cells, b.columns, strict=True):
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
            _line(cell.paragraphs[0], text, bold=True, size=11.5)
        for row in b.rows:
            cells = table.add_row().cells
            for cell, text, align in zip(cells, row, b.align, strict=True):
                cell.paragraphs[0].alignment = ALIGN[align]
                _line(cell.paragraphs[0], text, size=11.5)
        total = sum(b.widths)
        usable = 165  # mm: A4 less the 30 and 15 mm margins
        for column, width in zip(table.columns, b.widths, strict=True):
            for cell in column.cells:
                cell.width = Mm(usable * width / total)
        doc.add_paragraph().paragraph_format.space_after = Pt(0)  # type: ignore[attr-defined]


def render_docx(document: Document) -> bytes:
    doc = new_docx()
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(13)
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), FONT)
    style.paragraph_format.space_after = Pt(4)
    section = doc.sections[0]
    section.start_type = WD_SECTION_START.NEW_PAGE
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    _page_number(doc)
    doc.core_properties.title = f"{document.title} {document.subtitle}"
    doc.core_properties.language = document.lang

    header = doc.add_table(rows=1, cols=2)
    _no_borders(header)
    left, right = header.rows[0].cells
    left.width, right.width = Mm(65), Mm(100)
    _centred(left, [(line, True, False, 12.5) for line in document.authority], reuse_first=True)
    _centred(left, [("―――――", False, False, 10), (document.number, False, False, 12.5)])
    _centred(
        right,
        reuse_first=True,
        lines=[
            (document.motto[0], True, False, 12),
            (document.motto[1], True, False, 13),
            ("――――――――――", False, False, 10),
            (document.place_date, False, True, 13),
        ],
    )
    if document.draft:
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _line(p, document.draft, bold=True)
    _centred(doc, [("", False, False, 13), (document.title, True, False, 14)])
    _centred(doc, [(document.subtitle, True, False, 14), ("", False, False, 13)])
    for b in document.blocks:
        _block(doc, b)

    signs = doc.add_table(rows=1, cols=len(document.signatures))
    _no_borders(signs)
    for cell, s in zip(signs.rows[0].cells, document.signatures, strict=True):
        _centred(
            cell,
            reuse_first=True,
            lines=[
                (s.role, True, False, 13),
                (s.hint, False, True, 12),
                ("", False, False, 13),
                ("", False, False, 13),
                ("", False, False, 13),
                (s.name, True, False, 13),
            ],
        )
    if document.annex:
        p = doc.add_paragraph()
        p.add_run().add_break(WD_BREAK.PAGE)
        _centred(doc, [(document.annex_title, True, False, 13)])
        for b in document.annex:
            _block(doc, b)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
