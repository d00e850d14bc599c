"""The record over HTTP and on the command line, on a real hub: `nghitruong demo --data`
keeps the year-end sitting in a data folder, a hub serves that folder, and without a
login anyone gets the minutes (PDF, DOCX), the open data (JSON, CSV) whose head hash
verifies against the public log, and the result pages; `nghitruong minutes` writes the
same minutes from the folder."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import docx
import httpx
import pytest

from chamber import verify_export
from tests.server.conftest import ROOT, SCALE, HubProcess

SITTING = "ky-hop-cuoi-nam-2025"
COUNCIL = "hdnd-phuong-ben-thanh"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120 * SCALE,
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("record") / "data"
    done = cli("demo", "--data", str(folder))
    assert done.returncode == 0, done.stderr
    assert f"nghitruong minutes {SITTING} --data {folder}" in done.stdout
    again = cli("demo", "--data", str(folder), "--lang", "en")  # stored once, not twice
    assert again.returncode == 0 and "already holds" in again.stdout
    return folder


@pytest.fixture(scope="module")
def hub(data: Path) -> Iterator[HubProcess]:
    h = HubProcess(data)
    try:
        yield h.start()
    finally:
        h.stop()


def test_the_minutes_download_without_a_login(hub: HubProcess) -> None:
    pdf = httpx.get(f"{hub.url}/api/sittings/{SITTING}/minutes.pdf", timeout=30 * SCALE)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert f'filename="{SITTING}.bien-ban.vi.pdf"' in pdf.headers["content-disposition"]
    word = httpx.get(f"{hub.url}/api/sittings/{SITTING}/minutes.docx?lang=en", timeout=30 * SCALE)
    assert word.status_code == 200 and "wordprocessingml" in word.headers["content-type"]
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(word.content)).paragraphs)
    assert "MINUTES" in text and "SOCIALIST REPUBLIC OF VIET NAM" not in text  # in the table
    missing = httpx.get(f"{hub.url}/api/sittings/ky-hop-khong-co/minutes.pdf")
    assert missing.status_code == 404 and missing.json()["code"] == "sitting.unknown"


def test_open_data_carries_the_head_of_the_public_log(hub: HubProcess) -> None:
    log = httpx.get(f"{hub.url}/api/sittings/{SITTING}/log").content
    checked = verify_export(log)
    assert checked.ok and checked.complete
    votes = httpx.get(f"{hub.url}/api/sittings/{SITTING}/votes.json")
    assert votes.status_code == 200 and votes.headers["x-log-head"] == checked.head
    body = votes.json()
    assert body["log"]["head"] == checked.head and body["log"]["records"] == checked.count
    assert body["log"]["url"] == f"{hub.url}/api/sittings/{SITTING}/log"
    assert len(body["vote_events"]) == 7
    table = httpx.get(f"{hub.url}/api/sittings/{SITTING}/votes.csv")
    assert table.headers["content-type"] == "text/csv; charset=utf-8"
    assert table.content.startswith("\ufeff".encode())
    assert table.content.decode("utf-8-sig").splitlines()[1].startswith(checked.head + ",")


def test_the_result_pages_without_a_login(hub: HubProcess) -> None:
    index = httpx.get(f"{hub.url}/results/")
    assert index.status_code == 200 and "Hội đồng nhân dân phường Bến Thành" in index.text
    assert "content-security-policy" in index.headers and "<script" not in index.text
    council = httpx.get(f"{hub.url}/results/councils/{COUNCIL}")
    assert f"/results/sittings/{SITTING}" in council.text
    assert "Tổng số tham dự: 27/30 đại biểu." in council.text
    assert "Nghị quyết chuyển đổi công viên phường</a> — KHÔNG THÔNG QUA" in council.text
    page = httpx.get(f"{hub.url}/results/sittings/{SITTING}")
    assert page.status_code == 200 and page.headers["content-language"] == "vi"
    for words in (
        "24/30 đại biểu tán thành; cần quá nửa tổng số đại biểu (16): THÔNG QUA",
        "15/30 đại biểu tán thành; cần quá nửa tổng số đại biểu (16): KHÔNG THÔNG QUA",
        "Người trúng cử: Lê Hoàng Cường.",
        "Bỏ phiếu kín: chỉ công bố tổng số phiếu.",
        f"/api/sittings/{SITTING}/minutes.pdf?lang=vi",
    ):
        assert words in page.text, words
    english = httpx.get(f"{hub.url}/results/sittings/{SITTING}", headers={"accept-language": "en"})
    assert (
        english.headers["content-language"] == "en" and "Elected: Lê Hoàng Cường." in english.text
    )
    assert httpx.get(f"{hub.url}/results/sittings/ky-hop-khong-co").status_code == 404
    assert httpx.get(f"{hub.url}/results/councils/khong-co").status_code == 404
    css = httpx.get(f"{hub.url}/results/static/record.css")
    assert css.status_code == 200 and "@media print" in css.text
    font = httpx.get(f"{hub.url}/results/fonts/LiberationSerif-Regular.ttf")
    assert font.status_code == 200 and len(font.content) > 100_000


def test_the_minutes_from_the_command_line(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "bien-ban.pdf"
    done = cli("minutes", SITTING, "--data", str(data), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"%PDF-") and str(out) in done.stdout
    word = tmp_path / "minutes.docx"
    done = cli("minutes", SITTING, "--data", str(data), "--format", "docx", "--lang", "en",
               "--out", str(word))  # fmt: skip
    assert done.returncode == 0 and "Minutes written" in done.stdout
    assert docx.Document(str(word)).core_properties.language == "en"
    unknown = cli("minutes", "ky-hop-khong-co", "--data", str(data))
    assert unknown.returncode == 1 and "ky-hop-khong-co" in unknown.stderr
    empty = cli("minutes", SITTING, "--data", str(tmp_path / "none"))
    assert empty.returncode == 2


def test_serve_demo_on_a_demo_data_folder_seeds_its_live_sitting_too(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    assert cli("demo", "--data", str(folder)).returncode == 0
    h = HubProcess(folder)
    try:
        h.start(demo=True)
        rows = httpx.get(f"{h.url}/api/sittings").json()
        assert {r["id"] for r in rows} == {SITTING, "ky-hop-thu-nhat"}
        assert "db01" in h.logins
    finally:
        h.stop()
