"""Each console loads under 150 KB of gzipped JavaScript and CSS before any document:
every page is loaded in Chromium from the hub, the scripts and style sheets it fetched
are summed at their gzip size (level 9, as `vite build` reports it); pdf.js and its
worker are fetched only when a document is shown and must not be among them. The
figures are written to artifacts/screenshots/bundle-sizes.txt."""

from __future__ import annotations

import gzip
import re
from typing import Any
from urllib.parse import urlparse

from tests.browser.conftest import SHOTS, WEB, Hub, ms

BUDGET = 150 * 1024
PAGES = {
    "landing": "/",
    "chair": "/chair/",
    "delegate": "/delegate/",
    "gallery": "/gallery/",
    "operator": "/operator/",
    "room": "/room/",
}
PDF = re.compile(r"/assets/pdf[.-]")


def gzipped(path: str) -> int:
    data = (WEB / "dist" / path.lstrip("/")).read_bytes()
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def test_every_page_loads_under_150_kb_gzipped(browser: Any, hub: Hub) -> None:
    lines = []
    totals: dict[str, int] = {}
    loaded: dict[str, list[str]] = {}
    for name, path in PAGES.items():
        ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
        try:
            page = ctx.new_page()
            page.set_default_timeout(ms(8))
            fetched: list[str] = []
            page.on(
                "response",
                lambda r, into=fetched: (
                    into.append(urlparse(r.url).path)
                    if r.request.resource_type in ("script", "stylesheet")
                    else None
                ),
            )
            page.goto(hub.url(f"{path}?sitting={hub.sitting}"), wait_until="networkidle")
            assert page.locator("#app *").count() > 0, f"{name} rendered nothing"
        finally:
            ctx.close()
        assets = loaded[name] = sorted(set(fetched))
        assert assets, name
        assert not [a for a in assets if PDF.search(a)], f"{name} loads pdf.js up front"
        # What the page's HTML names is what it loads: no chunk comes later unseen.
        html = (WEB / "dist" / path.lstrip("/") / "index.html").read_text(encoding="utf-8")
        named = set(re.findall(r'(?:src|href)="(/assets/[^"]+\.(?:js|css))"', html))
        assert named == set(assets), (name, named ^ set(assets))
        sizes = {a: gzipped(a) for a in assets}
        totals[name] = sum(sizes.values())
        parts = ", ".join(f"{a.removeprefix('/assets/')} {n / 1024:.1f}" for a, n in sizes.items())
        lines.append(f"{name:<9} {totals[name] / 1024:6.1f} KB  ({parts})")
    # The chunks no page loads up front: pdf.js and its worker, the QR codes' library.
    upfront = {a for line in loaded.values() for a in line}
    for p in sorted((WEB / "dist" / "assets").glob("*.*js")):
        if f"/assets/{p.name}" not in upfront:
            size = gzipped(f"/assets/{p.name}") / 1024
            lines.append(f"lazy      {size:6.1f} KB  {p.name} (loaded on demand)")
    lines.append(f"budget    {BUDGET / 1024:6.1f} KB per page, gzip level 9")
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "bundle-sizes.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    over = {name: n for name, n in totals.items() if n >= BUDGET}
    assert not over, over
