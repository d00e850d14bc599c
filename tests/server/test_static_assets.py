"""The consoles' files: hashed assets precompressed (brotli, gzip) and cached for a year,
pages revalidated with an ETag; through the hub's own app (server/webfiles.py)."""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from server.app import create_app
from server.config import Config
from server.webfiles import IMMUTABLE, accepted

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "clients" / "web" / "dist"
JS = b"export const greeting = 'xin ch\xc3\xa0o';\n" * 200
PAGE = b"<!doctype html><title>Ph\xc3\xb2ng h\xe1\xbb\x8dp</title>"
NODE = shutil.which("node")
UNBROTLI = (
    "process.stdout.write(require('zlib').brotliDecompressSync(require('fs').readFileSync(0)))"
)


def unbrotli(data: bytes) -> bytes:
    """Brotli decoded by Node's zlib (the Python venv has no brotli module)."""
    assert NODE is not None, "node is needed (it builds the web client)"
    return subprocess.run(
        [NODE, "-e", UNBROTLI], input=data, capture_output=True, check=True
    ).stdout


@pytest.fixture
def web(tmp_path: Path) -> Path:
    """A small dist: a page, an asset with both copies, one with gzip only, one with none."""
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "gallery").mkdir()
    (dist / "index.html").write_bytes(PAGE)
    (dist / "gallery" / "index.html").write_bytes(PAGE + b"<p>gallery</p>")
    (dist / "assets" / "app-AbC123.js").write_bytes(JS)
    (dist / "assets" / "app-AbC123.js.br").write_bytes(b"brotli copy of app.js")
    (dist / "assets" / "app-AbC123.js.gz").write_bytes(gzip.compress(JS))
    (dist / "assets" / "style-Xy9.css").write_bytes(b"body{color:red}" * 50)
    (dist / "assets" / "style-Xy9.css.gz").write_bytes(gzip.compress(b"body{color:red}" * 50))
    (dist / "assets" / "raw-1.mjs").write_bytes(b"export {};")
    return dist


@pytest.fixture
async def client(tmp_path: Path, web: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The hub's app (its lifespan is not needed for files), spoken to in process."""
    app = create_app(Config(data=tmp_path / "data", web=web, media=False))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as c:
        yield c


async def get(
    client: httpx.AsyncClient, path: str, **headers: str
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and the body's bytes as sent (not decoded)."""
    async with client.stream("GET", path, headers=headers) as answer:
        return (
            answer.status_code,
            dict(answer.headers),
            b"".join([b async for b in answer.aiter_raw()]),
        )


async def test_an_asset_comes_as_brotli_then_gzip_then_as_it_is(client: httpx.AsyncClient) -> None:
    status, h, body = await get(client, "/assets/app-AbC123.js", **{"accept-encoding": "gzip, br"})
    assert status == 200
    assert h["content-encoding"] == "br"
    assert h["cache-control"] == IMMUTABLE == "public, max-age=31536000, immutable"
    assert h["vary"].lower() == "accept-encoding"
    assert h["content-type"].startswith("text/javascript")
    assert body == b"brotli copy of app.js" and int(h["content-length"]) == len(body)

    status, h, body = await get(client, "/assets/app-AbC123.js", **{"accept-encoding": "gzip"})
    assert (status, h["content-encoding"], gzip.decompress(body)) == (200, "gzip", JS)
    assert int(h["content-length"]) < len(JS) // 5
    status, h, body = await get(
        client, "/assets/app-AbC123.js", **{"accept-encoding": "br;q=0, gzip"}
    )
    assert h["content-encoding"] == "gzip"
    status, h, body = await get(client, "/assets/app-AbC123.js", **{"accept-encoding": "identity"})
    assert "content-encoding" not in h
    assert body == JS and int(h["content-length"]) == len(JS)
    assert h["cache-control"] == IMMUTABLE and h["vary"].lower() == "accept-encoding"


async def test_an_asset_without_a_copy_goes_out_as_it_is(client: httpx.AsyncClient) -> None:
    _, h, _ = await get(client, "/assets/style-Xy9.css", **{"accept-encoding": "br, gzip"})
    assert h["content-encoding"] == "gzip" and h["content-type"].startswith("text/css")
    _, h, body = await get(client, "/assets/raw-1.mjs", **{"accept-encoding": "br, gzip"})
    assert "content-encoding" not in h and body == b"export {};"
    assert h["content-type"].startswith("text/javascript") and h["cache-control"] == IMMUTABLE


async def test_a_page_is_revalidated_with_its_etag(client: httpx.AsyncClient) -> None:
    for path, body in (("/", PAGE), ("/gallery/", PAGE + b"<p>gallery</p>")):
        status, h, got = await get(client, path, **{"accept-encoding": "br, gzip"})
        assert (status, got) == (200, body)
        assert h["cache-control"] == "no-cache"
        assert "content-encoding" not in h
        assert re.fullmatch(r'"[0-9a-f]{32}"', h["etag"])
        status, h2, got = await get(client, path, **{"if-none-match": h["etag"]})
        assert status == 304 and got == b""
        assert h2["etag"] == h["etag"] and h2["cache-control"] == "no-cache"
        status, _, got = await get(client, path, **{"if-none-match": '"somethingelse"'})
        assert (status, got) == (200, body)
    _, a, _ = await get(client, "/")
    _, b, _ = await get(client, "/gallery/")
    assert a["etag"] != b["etag"]
    # The security headers stay on every answer.
    assert a["x-content-type-options"] == "nosniff"


async def test_a_changed_page_gets_a_new_etag(client: httpx.AsyncClient, web: Path) -> None:
    _, before, _ = await get(client, "/")
    (web / "index.html").write_bytes(PAGE + b"<!-- new build -->")
    status, after, body = await get(client, "/", **{"if-none-match": before["etag"]})
    assert status == 200 and body.endswith(b"new build -->")
    assert after["etag"] != before["etag"]


async def test_missing_files_and_directories(client: httpx.AsyncClient) -> None:
    assert (await client.get("/assets/nothing.js")).status_code == 404
    redirect = await client.get("/gallery", follow_redirects=False)
    assert redirect.status_code in (307, 308) and redirect.headers["location"].endswith("/gallery/")
    assert (await client.post("/assets/app-AbC123.js")).status_code == 405


@pytest.mark.parametrize(
    ("header", "codings"),
    [
        ("", set()),
        ("gzip, deflate, br, zstd", {"gzip", "deflate", "br", "zstd"}),
        ("br;q=0, gzip;q=0.5", {"gzip"}),
        ("*", {"br", "gzip"}),
        ("*;q=0.1, br;q=0", {"gzip"}),
        ("GZIP ; Q=1 ,, br;q=nonsense", {"gzip"}),
    ],
)
def test_accept_encoding(header: str, codings: set[str]) -> None:
    assert accepted(header) == codings


def test_the_build_leaves_both_copies_of_every_asset() -> None:
    """`npm run build` (clients/web/scripts/compress.mjs) writes the copies the hub sends."""
    assert (DIST / "assets").is_dir(), "build the web client first (make web)"
    scripts = [p for p in (DIST / "assets").iterdir() if p.suffix in (".js", ".css", ".mjs")]
    assert scripts
    for p in scripts:
        data = p.read_bytes()
        assert unbrotli((p.parent / (p.name + ".br")).read_bytes()) == data, p.name
        assert gzip.decompress((p.parent / (p.name + ".gz")).read_bytes()) == data, p.name
