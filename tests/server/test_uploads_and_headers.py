"""An upload is stored only when its content is what it is declared to be, and every
answer (page, API, document) carries the security headers (issue 7, 9)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from server.seed import demo_pdf
from tests.server.conftest import SITTING, HubProcess, operator_token


def png(size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "teal").save(out, "PNG")
    return out.getvalue()


def jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "teal").save(out, "JPEG")
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` × ``height`` pixels in a few bytes: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


PDF = demo_pdf("Dự thảo", ["Trang một", "Trang hai"])
HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'

MISMATCHES = {
    "html-as-pdf": (HTML, "application/pdf"),
    "png-as-pdf": (png(), "application/pdf"),
    "pdf-after-spaces": (b"  %PDF-1.4 hidden after spaces", "application/pdf"),
    "html-as-png": (HTML, "image/png"),
    "svg-as-png": (SVG, "image/png"),
    "jpeg-as-png": (jpeg(), "image/png"),
    "pdf-as-png": (PDF, "image/png"),
    "html-behind-png-signature": (b"\x89PNG\r\n\x1a\n" + HTML, "image/png"),
    "html-as-jpeg": (HTML, "image/jpeg"),
    "png-as-jpeg": (png(), "image/jpeg"),
    "pdf-as-jpeg": (PDF, "image/jpeg"),
    "html-behind-jpeg-marker": (b"\xff\xd8\xff" + HTML, "image/jpeg"),
}
BROKEN = {
    "pdf-without-body": (b"%PDF-1.7\n" + HTML, "application/pdf"),
    "png-truncated": (png()[:-20], "image/png"),
    "png-bad-crc": (png()[:60] + bytes(20) + png()[80:], "image/png"),
    "jpeg-truncated": (jpeg()[: len(jpeg()) // 2], "image/jpeg"),
}


def stored(hub: HubProcess) -> set[Path]:
    documents = hub.data / "documents"
    return set(documents.iterdir()) if documents.exists() else set()


def documents_in_sitting(hub: HubProcess) -> Any:
    return httpx.get(f"{hub.url}/api/sittings/{SITTING}").json()["documents"]


def upload(hub: HubProcess, data: bytes, media_type: str, name: str = "f") -> httpx.Response:
    return httpx.post(
        f"{hub.url}/api/sittings/{SITTING}/documents",
        headers={"authorization": f"Bearer {operator_token(hub)}", "accept-language": "en"},
        files={"file": (name, data, media_type)},
        timeout=30,
    )


@pytest.mark.parametrize(("data", "media_type"), MISMATCHES.values(), ids=MISMATCHES.keys())
def test_content_that_is_not_the_declared_type_is_refused_and_nothing_stored(
    hub: HubProcess, data: bytes, media_type: str
) -> None:
    files, documents = stored(hub), documents_in_sitting(hub)
    r = upload(hub, data, media_type)
    assert r.status_code == 415, r.text
    assert r.json()["code"] == "doc.type_mismatch"
    assert r.json()["params"] == {"media_type": media_type}
    assert media_type in r.json()["message"]
    assert stored(hub) == files
    assert documents_in_sitting(hub) == documents


@pytest.mark.parametrize(("data", "media_type"), BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_file_of_the_declared_type_is_refused_and_nothing_stored(
    hub: HubProcess, data: bytes, media_type: str
) -> None:
    files, documents = stored(hub), documents_in_sitting(hub)
    r = upload(hub, data, media_type)
    assert r.status_code in (415, 422), r.text
    assert r.json()["code"] in ("doc.unreadable", "doc.type_mismatch")
    assert stored(hub) == files
    assert documents_in_sitting(hub) == documents


@pytest.mark.parametrize("size", [(8_000, 8_000), (30_000, 30_000), (20_000, 10)])
def test_an_image_too_large_to_decode_safely_is_refused(
    hub: HubProcess, size: tuple[int, int]
) -> None:
    files = stored(hub)
    r = upload(hub, png_header_only(*size), "image/png")
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "doc.image_too_large"
    assert r.json()["params"]["max_pixels"] == 40_000_000
    assert stored(hub) == files


@pytest.mark.parametrize(
    ("data", "media_type", "disposition"),
    [
        (PDF, "application/pdf", "attachment"),
        (png(), "image/png", "inline"),
        (jpeg(), "image/jpeg", "inline"),
    ],
    ids=["pdf", "png", "jpeg"],
)
def test_real_documents_are_stored_and_served_as_data_not_pages(
    hub: HubProcess, data: bytes, media_type: str, disposition: str
) -> None:
    r = upload(hub, data, media_type, name="tai-lieu")
    assert r.status_code == 201, r.text
    digest = r.json()["hash"]
    assert r.json()["pages"] == (2 if media_type == "application/pdf" else 1)
    served = httpx.get(f"{hub.url}/api/documents/{digest}")
    assert served.status_code == 200 and served.content == data
    assert served.headers["content-type"] == media_type
    assert served.headers["content-disposition"].startswith(disposition + "; filename=")
    assert served.headers["content-security-policy"] == (
        "default-src 'none'; sandbox; frame-ancestors 'none'"
    )
    part = httpx.get(f"{hub.url}/api/documents/{digest}", headers={"range": "bytes=0-3"})
    assert part.status_code == 206 and part.content == data[:4]  # streamed, by ranges
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/gallery/",
        "/no-such-page",
        "/api/sittings",
        f"/api/sittings/{SITTING}",
        "/api/councils",  # 401
        "/api/documents/" + "0" * 64,  # 404
        "/healthz",
    ],
)
def test_every_answer_carries_the_security_headers(hub: HubProcess, path: str) -> None:
    r = httpx.get(hub.url + path)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-frame-options"] == "DENY"
    directives = (d.split(" ", 1) for d in r.headers["content-security-policy"].split("; "))
    policy = {d[0]: d[1] if len(d) > 1 else "" for d in directives}
    assert policy["frame-ancestors"] == "'none'"
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"  # no inline script, no eval
    assert policy["object-src"] == "'none'"
    assert f"ws://127.0.0.1:{hub.port}" in policy["connect-src"].split()
    if path.startswith("/api/"):
        assert r.headers["cache-control"] == "no-store"


def test_an_api_answer_to_a_post_carries_the_headers(hub: HubProcess) -> None:
    r = httpx.post(hub.url + "/api/login", json={"username": "nobody", "password": "wrong"})
    assert r.status_code == 401
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-store"
