"""The minutes as documents: the demo's year-end sitting as PDF (its text read back with
pdftotext) and DOCX (read back with python-docx), both holding the header, the
attendance counts, every vote's counts and verdict sentence and the election's result in
Vietnamese with its diacritics; the first pages rendered to PNG for a person to look at;
a full-day sitting typeset within the 2 s the issue asks."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import docx
import pytest

from chamber import commands as c
from chamber.ids import ABSTAIN, APPROVE, REJECT, DocHash, MemberId, TurnKind
from chamber.minutes import Minutes, minutes
from server.demo import Player
from server.record.compose import compose
from server.record.docx import render_docx
from server.record.pdf import render_pdf
from tests.chamber.play import Play, m

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "minutes"

# What the minutes of the year-end sitting must say, in Vietnamese.
EXPECTED_VI = [
    "HỘI ĐỒNG NHÂN DÂN",
    "PHƯỜNG BẾN THÀNH",
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "Số: /BB-HĐND",
    "Phường Bến Thành, ngày 18 tháng 12 năm 2025",
    "BIÊN BẢN",
    "Kỳ họp thường lệ cuối năm 2025",
    "Khi khai mạc có mặt 27/30 đại biểu (cần ít nhất 20 đại biểu để tiến hành kỳ họp).",
    "Có mặt tại hội trường: 26; tham dự trực tuyến: 1; tổng số tham dự: 27; "
    "vắng có lý do: 2; vắng không có lý do: 1.",
    "Ninh Văn Yên 3-09 Vắng có lý do Ốm",
    # Resolution 1 (named): 24 / 3 / 0 of 27 present, 30 seats.
    "Tán thành 24 80,00% 88,89%",
    "Không tán thành 3 10,00% 11,11%",
    "24/30 đại biểu tán thành; cần quá nửa tổng số đại biểu (16): THÔNG QUA",
    # Resolution 2 (secret): 24 / 0 / 3.
    "Không biểu quyết 3 10,00% 11,11%",
    # Resolution 3 fails: 15 of the 20 present approve, 16 needed.
    "Tán thành 15 50,00% 75,00%",
    "15/30 đại biểu tán thành; cần quá nửa tổng số đại biểu (16): KHÔNG THÔNG QUA",
    # The election and the confidence poll.
    "Lê Hoàng Cường: 19/30 đại biểu tán thành (16 cần thiết): TRÚNG CỬ",
    "Phan Thị Mai: 7/30 đại biểu tán thành (16 cần thiết): KHÔNG TRÚNG CỬ",
    "Người trúng cử: Lê Hoàng Cường.",
    "Phó Chủ tịch UBND phường: tín nhiệm cao 4, tín nhiệm 6, tín nhiệm thấp 16",
    "Ngô Văn Khánh, Lâm Văn Phúc chất vấn Chủ tịch UBND phường; đã trả lời.",
    "Hoàng Văn Em Thảo luận 14 giờ 14 7 phút 00 giây",
    "hết thời",  # the note of the turn whose time ran out (its cell wraps)
    "THƯ KÝ",
    "CHỦ TỌA",
    "Nguyễn Văn An",
    "PHỤ LỤC: KẾT QUẢ BIỂU QUYẾT THEO TỪNG ĐẠI BIỂU",
]
EXPECTED_EN = [
    "SOCIALIST REPUBLIC OF VIET NAM",
    "Independence - Freedom - Happiness",
    "MINUTES",
    "24 of 30 seats voted in favour (tán thành); more than half of the total seats (16) "
    "needed: PASSED",
    "Elected: Lê Hoàng Cường.",
]


def _words(text: str) -> str:
    """Text with its white space collapsed, as table cells and wrapped lines come out."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def year_end() -> Minutes:
    player = Player()
    for _ in player.play():
        pass
    return minutes(player.records)


def _pdftotext(pdf: bytes, tmp: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: make test installs poppler-utils")
    path = tmp / "minutes.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"],
        check=True,
        capture_output=True,
    )
    return out.stdout.decode("utf-8")


def _docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" ".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def test_the_pdf_holds_the_header_the_attendance_every_vote_and_the_election(
    year_end: Minutes, tmp_path: Path
) -> None:
    pdf = render_pdf(compose(year_end, "vi"))
    assert pdf.startswith(b"%PDF-")
    raw = _pdftotext(pdf, tmp_path)
    # Headings stand on lines of their own.
    for heading in ("IV. KẾT QUẢ BIỂU QUYẾT", "1. Biểu quyết: Nghị quyết về dự toán ngân sách"):
        assert re.search(rf"^\s*{re.escape(heading)}", raw, re.M), heading
    text = _words(raw)
    missing = [line for line in EXPECTED_VI if _words(line) not in text]
    assert not missing, f"not in the PDF's text: {missing}\n{text[:3000]}"
    assert year_end.head in text  # the log's head hash, to check with `nghitruong verify`
    assert "DỰ THẢO" not in text  # a closed sitting's minutes are final


def test_the_first_pages_are_rendered_to_png_for_a_person_to_look_at(
    year_end: Minutes, tmp_path: Path
) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm is missing: make test installs poppler-utils")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for lang in ("vi", "en"):
        pdf = ARTIFACTS / f"year-end.{lang}.pdf"
        pdf.write_bytes(render_pdf(compose(year_end, lang)))
        prefix = ARTIFACTS / f"year-end.{lang}.page"
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "2", str(pdf), str(prefix)],
            check=True,
            capture_output=True,
        )
        pages = sorted(ARTIFACTS.glob(f"year-end.{lang}.page-*.png"))
        assert len(pages) == 2
        for page in pages:
            assert page.read_bytes().startswith(b"\x89PNG") and page.stat().st_size > 20_000
    print(f"\nminutes rendered to {ARTIFACTS}")


def test_the_english_minutes(year_end: Minutes, tmp_path: Path) -> None:
    text = _words(_pdftotext(render_pdf(compose(year_end, "en")), tmp_path))
    missing = [line for line in EXPECTED_EN if _words(line) not in text]
    assert not missing, f"not in the PDF's text: {missing}"


def test_the_docx_opens_with_python_docx_and_says_the_same(year_end: Minutes) -> None:
    data = render_docx(compose(year_end, "vi"))
    text = _words(_docx_text(data))
    missing = [line for line in EXPECTED_VI if _words(line) not in text]
    assert not missing, f"not in the DOCX: {missing}"
    document = docx.Document(io.BytesIO(data))
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert (round(section.left_margin.mm), round(section.right_margin.mm)) == (30, 15)
    assert document.styles["Normal"].font.name == "Times New Roman"


def test_a_draft_is_marked_as_such() -> None:
    p = Play(n=5)
    p.open_and_start(present=5)
    text = _words(_docx_text(render_docx(compose(minutes(p.records), "vi"))))
    assert "DỰ THẢO" in text and "Kỳ họp chưa bế mạc" in text


def full_day(members: int = 95, votes: int = 25, speeches: int = 80) -> Minutes:
    """A long day of a large council: every member present, many speeches, and named
    votes whose roll calls fill the annex."""
    p = Play(n=members)
    doc = DocHash("ab" * 32)
    p.do(c.RegisterDocument(hash=doc, title="Dự thảo nghị quyết"))
    p.open_and_start(present=members)
    for i in range(speeches):
        speaker = m(4 + i % (members - 4))
        p.do(c.GrantFloor(speaker=speaker, kind=TurnKind.CONTRIBUTION))
        p.tick(170)
        turn = next(iter(p.s.turns))
        p.do(c.EndTurn(turn=turn))
    for n in range(votes):
        p.do(c.ProposeMotion(title=f"Nghị quyết số {n + 1}", doc=doc))
        motion = list(p.s.motions)[-1]
        p.do(c.OpenVote(motion=motion))
        vote = list(p.s.votes)[-1]
        for i in range(1, members + 1):
            choice = APPROVE if i % 7 else REJECT if i % 2 else ABSTAIN
            p.as_delegate(i, c.CastBallot(vote=vote, choice=choice))
        p.do(c.CloseVote(vote=vote))
    p.do(c.CloseSitting())
    assert MemberId("m01") in p.s.roster
    return minutes(p.records)


def test_a_full_day_sitting_renders_whole() -> None:
    """A long day renders to both documents (its time is a benchmark's business:
    tests/load/bench_minutes.py, in `make bench`, with the 2 s target)."""
    day = full_day()
    assert len(day.votes) == 25 and len(day.speeches) == 80
    pdf = render_pdf(compose(day, "vi"))
    assert pdf.startswith(b"%PDF-") and len(pdf) > 20_000
    doc = docx.Document(io.BytesIO(render_docx(compose(day, "vi"))))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Nghị quyết số 25" in text


def minutes_of_nothing() -> Minutes:
    return minutes(Play(n=3).records)


def test_the_edges_in_words() -> None:
    """A tie, an election nobody wins, a cancelled vote, an open one, a suspension and a
    turn still running: each said, in both documents."""
    from chamber.ids import STRIKE
    from chamber.model import Question

    p = Play(n=9)
    doc = DocHash("ef" * 32)
    p.do(c.RegisterDocument(hash=doc, title="Dự thảo"))
    p.do(c.ProposeMotion(title="Nghị quyết A", doc=doc))
    p.open_and_start(present=9)
    candidates = tuple(
        Question(id=f"c{i}", label=name) for i, name in enumerate(("Một", "Hai", "Ba"), 1)
    )
    yes, no = APPROVE, STRIKE
    tie = [(yes, yes, no)] * 4 + [(yes, no, yes)] * 4 + [(no, yes, yes)]  # 8, 5, 5 of 9
    nobody = [(no, no, no)] * 9
    for ballots in (tie, nobody):
        p.do(c.OpenElection(title="Bầu thử", positions=2, candidates=candidates))
        vote = list(p.s.votes)[-1]
        for i, row in enumerate(ballots, start=1):
            answers = dict(zip(("c1", "c2", "c3"), row, strict=True))
            p.as_delegate(i, c.CastBallot(vote=vote, answers=answers))
        p.do(c.CloseVote(vote=vote))
    p.do(c.OpenVote(motion=next(iter(p.s.motions))))
    p.do(c.CancelVote(vote=list(p.s.votes)[-1], reason="nhầm văn bản"))
    p.do(c.OpenVote(motion=next(iter(p.s.motions))))
    p.do(c.SuspendSitting())
    p.do(c.ResumeSitting())
    p.do(c.GrantFloor(speaker=m(4), kind=TurnKind.POINT_OF_ORDER))
    mm = minutes(p.records)
    document = compose(mm, "vi")
    text = _words(_docx_text(render_docx(document)))
    for words in (
        "Người trúng cử: Một.",
        "Có số phiếu bằng nhau: Hai, Ba; cần bầu lại.",
        "Không có người trúng cử.",
        "Cuộc biểu quyết đã bị hủy (nhầm văn bản).",
        "Đang biểu quyết: kết quả chưa được công bố.",
        "Tạm dừng từ",
        "đang phát biểu",
        "Kiến nghị về thủ tục",
        "DỰ THẢO",
    ):
        assert words in text, words
    pdf = render_pdf(document)
    assert pdf.startswith(b"%PDF-")
