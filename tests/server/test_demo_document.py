"""The demo's draft resolution is a real PDF whose Vietnamese keeps its diacritics: the
document `serve --demo` registers is fetched from the hub and its text extracted."""

from __future__ import annotations

import io
import unicodedata

import httpx
import pytest
from pypdf import PdfReader

from server.record.draft import draft_pdf
from tests.server.conftest import SITTING, HubProcess


def text_of(pdf: bytes) -> list[str]:
    return [
        unicodedata.normalize("NFC", p.extract_text()) for p in PdfReader(io.BytesIO(pdf)).pages
    ]


def test_the_demo_document_reads_in_vietnamese(hub: HubProcess) -> None:
    state = httpx.get(f"{hub.url}/api/sittings/{SITTING}").json()
    docs = list(state["documents"].values())
    assert len(docs) == 1
    doc = docs[0]
    assert doc["title"] == "Dự thảo Nghị quyết dự toán ngân sách năm 2026"
    answer = httpx.get(f"{hub.url}/api/documents/{doc['hash']}")
    assert answer.status_code == 200
    assert answer.content.startswith(b"%PDF-")
    pages = text_of(answer.content)
    assert len(pages) == doc["pages"] == 3
    whole = " ".join(" ".join(p.split()) for p in pages)
    for words in (
        "HỘI ĐỒNG NHÂN DÂN PHƯỜNG BẾN THÀNH",
        "Dự thảo Nghị quyết dự toán ngân sách năm 2026",
        "Hội đồng nhân dân",
        "Điều 1. Phê chuẩn dự toán thu ngân sách",
        "Ủy ban nhân dân phường",
    ):
        assert words in whole, words
    assert "Trang 3/3" in pages[2]
    assert "?" not in whole  # no letter replaced by the old latin-1 fallback


def test_a_draft_keeps_its_pages_and_refuses_none() -> None:
    pages = text_of(draft_pdf("Nghị quyết thử", ["Trang một: ỗ ự ằ", "Trang hai", "Trang ba"]))
    assert len(pages) == 3
    assert "Nghị quyết thử" in pages[0] and "ỗ ự ằ" in pages[0]
    with pytest.raises(ValueError):
        draft_pdf("Trống", [])
