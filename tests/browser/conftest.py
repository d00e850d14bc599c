"""Browser tests: the real hub in a subprocess, Debian's chromium driven by Playwright.

Every test gets a fresh hub (its own data folder, a free port, the demo council and
sitting); the demo logins are read from what `serve --demo` prints.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.demo_data import copy_demo

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "clients" / "web"
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCALE = float(os.environ.get("NGHITRUONG_TEST_SCALE", "1"))  # every timeout derives from it
SITTING = "ky-hop-thu-nhat"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the browser tests and run them last: Playwright's sync API keeps an event loop
    running in this thread while it lives, which the asyncio tests must never meet."""
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
    items.sort(key=lambda item: "tests/browser" in str(item.fspath))


def ms(seconds: float) -> float:
    """A Playwright timeout in ms, scaled."""
    return seconds * 1000 * SCALE


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stale() -> bool:
    """dist/ is missing or older than a source of the web client."""
    built = WEB / "dist" / "index.html"
    if not built.exists():
        return True
    sources = [
        *(WEB / "src").rglob("*"),
        *WEB.glob("*/index.html"),
        WEB / "index.html",
        *(ROOT / "server" / "locale").rglob("*.json"),
    ]
    newest = max(p.stat().st_mtime for p in sources if p.is_file())
    return newest > built.stat().st_mtime


def ensure_built() -> None:
    if not stale():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is needed to build the web client (make test installs it)")
    if not (WEB / "node_modules").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True)
    subprocess.run([npm, "run", "build"], cwd=WEB, check=True)


class Hub:
    """A running hub and HTTP helpers to act as the operator or any demo member."""

    def __init__(self, base: str, passwords: dict[str, str]) -> None:
        self.base = base
        self.passwords = passwords
        self.sitting = SITTING
        self._tokens: dict[str, str] = {}

    def url(self, path: str) -> str:
        return self.base + path

    def http(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("content-type", "application/json")
        if token:
            req.add_header("authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=10 * SCALE) as res:
                return json.loads(res.read() or b"null")
        except urllib.error.HTTPError as err:
            return json.loads(err.read() or b"null")

    def token(self, username: str) -> str:
        if username not in self._tokens:
            answer = self.http(
                "POST",
                "/api/login",
                {"username": username, "password": self.passwords[username]},
            )
            self._tokens[username] = answer["token"]
        return self._tokens[username]

    def command(self, username: str, cmd: dict[str, Any]) -> Any:
        body = {"id": uuid.uuid4().hex, "cmd": cmd}
        return self.http(
            "POST", f"/api/sittings/{self.sitting}/commands", body, self.token(username)
        )

    def check_in(self, *members: str) -> None:
        for m in members:
            answer = self.command("vanhanh", {"type": "attendance.check_in", "member": m})
            assert answer.get("ok"), answer

    def log(self) -> dict[str, Any]:
        """The whole log, as the operator gets it (the public's stops before open ballots)."""
        path = f"/api/sittings/{self.sitting}/log"
        result: dict[str, Any] = self.http("GET", path, token=self.token("vanhanh"))
        return result


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    ensure_built()
    port = free_port()
    copy_demo(tmp_path / "data")  # the run's seeded demo folder (tests/demo_data.py)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server.cli",
            "serve",
            "--data",
            str(tmp_path / "data"),
            "--port",
            str(port),
            "--demo",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []
    done = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if re.match(r"\s+db30 / ", line):
                done.set()
        done.set()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        if not done.wait(90 * SCALE) or proc.poll() is not None:
            raise RuntimeError("the hub did not start:\n" + "".join(lines))
        passwords = dict(re.findall(r"^\s+(\S+) / (\S+)", "".join(lines), re.M))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10 * SCALE
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield Hub(base, passwords)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        reader.join(5)
        if proc.stdout is not None:
            proc.stdout.close()


class Watched:
    """The browser, whose every context reports the page's Content-Security-Policy
    violations (Chromium logs each to the console) into ``violations``."""

    def __init__(self, browser: Any) -> None:
        self.browser = browser
        self.violations: list[str] = []

    def new_context(self, **options: Any) -> Any:
        ctx = self.browser.new_context(**options)
        ctx.on("console", self.console)
        return ctx

    def console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.violations.append(message.text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.browser, name)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright import sync_api

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: make test installs it (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        # launch() gives every run a fresh temporary user-data-dir.
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield Watched(b)
        b.close()


@pytest.fixture(autouse=True)
def no_csp_violation(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test fails if a page it opened broke the hub's Content-Security-Policy."""
    watched = request.getfixturevalue("browser") if "browser" in request.fixturenames else None
    if watched is not None:
        watched.violations.clear()
    yield
    if watched is not None:
        assert not watched.violations, "CSP violations:\n" + "\n".join(watched.violations)


@pytest.fixture
def shots() -> Any:
    SHOTS.mkdir(parents=True, exist_ok=True)

    def save(page: Any, name: str, full: bool = False) -> None:
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)

    return save


PageHook = Callable[[Any], None]


def open_page(
    browser: Any,
    hub: Hub,
    path: str,
    *,
    size: tuple[int, int] = (1440, 900),
    user: str | None = None,
    lang: str = "vi",
    query: str = "",
    setup: PageHook | None = None,
    before_login: PageHook | None = None,
    ready: str | None = "[data-testid=phase]",
    wait: bool = True,
) -> tuple[Any, Any]:
    """A console in a browser context of its own: (context, page). ``setup`` runs before the
    page loads, ``before_login`` on the login form; after logging in as ``user`` it waits
    for ``ready`` to be visible (unless not ``wait``: the caller waits, see
    ``Screens.open_many``)."""
    from playwright.sync_api import expect

    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]}, locale="vi-VN")
    page = ctx.new_page()
    page.set_default_timeout(ms(8))
    if setup is not None:
        setup(page)
    wall = path.startswith("/gallery")  # a wall screen: no buttons, ?lang= chooses
    if wall and lang != "vi":
        query += f"&lang={lang}"
    page.goto(hub.url(f"{path}?sitting={hub.sitting}{query}"))
    if lang == "en" and not wall:
        page.get_by_role("button", name="English").first.click()
    if user:
        if before_login is not None:
            expect(page.locator("input[name=username]")).to_be_visible()
            before_login(page)
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", hub.passwords[user])
        page.click("button[type=submit]")
        if ready is not None and wait:
            expect(page.locator(ready).first).to_be_visible()
    return ctx, page


class Screens:
    """The consoles of one test, each in its own browser context, closed at the end; page
    errors are collected in ``errors``."""

    def __init__(self, browser: Any, hub: Hub, lang: str = "vi") -> None:
        self.browser, self.hub, self.lang = browser, hub, lang
        self.errors: list[str] = []
        self.contexts: list[Any] = []

    def open(self, path: str, *, setup: PageHook | None = None, **options: Any) -> Any:
        def prepare(page: Any) -> None:
            page.on("pageerror", lambda e: self.errors.append(f"{path}: {e}"))
            if setup is not None:
                setup(page)

        ctx, page = open_page(
            self.browser, self.hub, path, lang=self.lang, setup=prepare, **options
        )
        self.contexts.append(ctx)
        return page

    def open_many(self, path: str, users: list[str], **options: Any) -> list[Any]:
        """``open`` for each user, the logins sent one after the other before waiting for
        any console to be ready: the hub checks the passwords and the pages load side by
        side rather than in turn."""
        from playwright.sync_api import expect

        pages = [self.open(path, user=u, wait=False, **options) for u in users]
        for page in pages:
            expect(page.locator(options.get("ready", "[data-testid=phase]")).first).to_be_visible()
        return pages

    def close(self) -> None:
        for ctx in self.contexts:
            ctx.close()
