"""The minutes as DOCX for the secretary to edit (python-docx), from the same composed
blocks as the PDF: A4, the decree's margins, Times New Roman 13 pt, the header as a
borderless two-column table, page numbers in the top margin from page 2."""

from __future__ import annotations

import io
import re
from typing import Any
from xml.sax.saxutils import escape

from docx import Document as new_docx
from docx.enum.section import WD_SECTION_START
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import nsdecls, qn
from docx.oxml.parser import parse_xml
from docx.shared import Mm, Pt
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph

from server.record.compose import Block, Document, Heading, Para, Table

FONT = "Times New Roman"
BODY_PT = 13
TABLE_STYLE = "Table Text"
USABLE_TWIPS = 165 * 1440 * 10 // 254  # A4 less the 30 and 15 mm margins, in twips
# Characters XML 1.0 cannot hold; a title typed with one still makes a document.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
JC = {"left": "left", "center": "center", "right": "right"}
ALIGN = {
    "left": WD_ALIGN_PARAGRAPH.LEFT,
    "center": WD_ALIGN_PARAGRAPH.CENTER,
    "right": WD_ALIGN_PARAGRAPH.RIGHT,
}


def _line(
    p: Paragraph, text: str, *, bold: bool = False, italic: bool = False, size: float = 13
) -> None:
    """A run; only what differs from the paragraph's style is set (each property costs an
    element in every run, which adds up over a roll call)."""
    run = p.add_run(text)
    if bold:
        run.bold = True
    if italic:
        run.italic = True
    if size != BODY_PT:
        run.font.size = Pt(size)


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
    properties = table._tbl.tblPr
    look = properties.find(qn("w:tblLook"))  # the schema's order: borders come before it
    if look is not None:
        look.addprevious(borders)
    else:
        properties.append(borders)


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
        body = doc.element.body  # type: ignore[attr-defined]
        body.insert(len(body) - 1, _table_xml(doc, b))  # before the section properties
        doc.add_paragraph().paragraph_format.space_after = Pt(0)  # type: ignore[attr-defined]


def _table_xml(doc: Any, b: Table) -> Any:
    """A bordered table as WordprocessingML, parsed by python-docx in one go: building a
    roll call of hundreds of rows cell by cell through python-docx's objects takes seconds
    (each property is a child element found and inserted by a search), this takes a few
    milliseconds. Text is escaped; cells use the "Table Text" paragraph style."""
    total = sum(b.widths)
    twips = [int(USABLE_TWIPS * w / total) for w in b.widths]
    style = doc.styles[TABLE_STYLE].style_id
    grid_style = doc.styles["Table Grid"].style_id

    def cell(text: str, align: str, bold: bool, width: int) -> str:
        jc = f'<w:jc w:val="{JC[align]}"/>' if align != "left" else ""
        rpr = "<w:rPr><w:b/></w:rPr>" if bold else ""
        clean = escape(CONTROL.sub("", text))
        return (
            f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr>'
            f'<w:p><w:pPr><w:pStyle w:val="{style}"/>{jc}</w:pPr>'
            f'<w:r>{rpr}<w:t xml:space="preserve">{clean}</w:t></w:r></w:p></w:tc>'
        )

    header = "".join(
        cell(text, "center", True, w) for text, w in zip(b.columns, twips, strict=True)
    )
    rows = [f"<w:tr><w:trPr><w:tblHeader/></w:trPr>{header}</w:tr>"]
    for row in b.rows:
        cells = zip(row, b.align, twips, strict=True)
        rows.append("<w:tr>" + "".join(cell(t, a, False, w) for t, a, w in cells) + "</w:tr>")
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in twips)
    return parse_xml(
        f'<w:tbl {nsdecls("w")}><w:tblPr><w:tblStyle w:val="{grid_style}"/>'
        f'<w:tblW w:w="{sum(twips)}" w:type="dxa"/><w:jc w:val="center"/>'
        f'<w:tblLook w:val="04A0"/></w:tblPr><w:tblGrid>{grid}</w:tblGrid>'
        + "".join(rows)
        + "</w:tbl>"
    )


def render_docx(document: Document) -> bytes:
    doc = new_docx()
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(13)
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), FONT)
    style.paragraph_format.space_after = Pt(4)
    cells = doc.styles.add_style(TABLE_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    cells.base_style = style
    cells.font.size = Pt(11.5)
    cells.paragraph_format.space_after = Pt(0)
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
    # The motto stays on one line: the right column takes most of the width (and the grid
    # says so too, which LibreOffice follows where Word follows the cells).
    for column, cell, width in zip(header.columns, (left, right), (Mm(62), Mm(103)), strict=True):
        column.width = cell.width = width
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
