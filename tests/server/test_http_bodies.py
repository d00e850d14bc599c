"""Request bodies are read as streams and stop at the route's limit: a huge body, chunked
or declared, gets a fast 413 and the hub's memory does not grow with it (issue 7, 6)."""

from __future__ import annotations

import contextlib
import json
import selectors
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import httpx
import psutil
import pytest

from tests.server.conftest import SCALE, SITTING, HubProcess, operator_token

HUGE = 200 * 1024 * 1024
CHUNK = 64 * 1024
GROWTH = 30 * 1024 * 1024  # what the hub may gain while refusing a huge body


class PeakRss:
    """The hub's peak resident memory while the block runs: sampled with psutil every
    few ms, and read from the kernel's high-water mark where it can be reset."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.status = Path(f"/proc/{pid}/status")
        self.clear = Path(f"/proc/{pid}/clear_refs")
        self.base = self.peak = 0
        self.done = threading.Event()

    def __enter__(self) -> PeakRss:
        self.base = self.peak = self.process.memory_info().rss
        with contextlib.suppress(OSError):
            self.clear.write_text("5")  # resets VmHWM to the current RSS
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()
        return self

    def sample(self) -> None:
        while not self.done.wait(0.005):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.done.set()
        self.thread.join()
        for line in self.status.read_text().splitlines() if self.status.exists() else ():
            if line.startswith("VmHWM:"):
                self.peak = max(self.peak, int(line.split()[1]) * 1024)

    @property
    def growth(self) -> int:
        return self.peak - self.base


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes, sent: int) -> None:
        self.status, self.headers, self.body, self.sent = status, headers, body, sent

    def json(self) -> dict[str, object]:
        # The answer's own bytes: under load the chunked body's last chunk may reach the
        # hub after it answered, and uvicorn then answers those stray bytes too (400).
        size = int(self.headers.get("content-length", len(self.body)))
        return dict(json.loads(self.body[:size]))


def chunks(total: int) -> Iterator[bytes]:
    block = b"x" * CHUNK
    for _ in range(total // CHUNK):
        yield block


def post(
    hub: HubProcess,
    path: str,
    parts: Iterator[bytes],
    headers: dict[str, str] | None = None,
    chunked: bool = True,
) -> Answer:
    """POSTs ``parts`` over a raw socket as fast as the hub takes them, chunked unless a
    Content-Length is among ``headers``, and stops sending as soon as the hub answers
    (as a careful client does); ``sent`` counts the body bytes the hub accepted."""
    head = [f"POST {path} HTTP/1.1", f"host: 127.0.0.1:{hub.port}"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if chunked:
        head.append("transfer-encoding: chunked")
    deadline = time.monotonic() + 30 * SCALE
    sock = socket.create_connection(("127.0.0.1", hub.port), timeout=10 * SCALE)
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    sock.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
    pending, sent, received = b"", 0, b""
    try:
        while time.monotonic() < deadline:
            events = selector.select(timeout=1)
            if any(mask & selectors.EVENT_READ for _, mask in events):
                break  # the hub answered before the body ended
            if not pending:
                part = next(parts, None)
                if part is None:
                    pending = b"0\r\n\r\n" if chunked else b""
                    selector.modify(sock, selectors.EVENT_READ)
                else:
                    pending = b"%x\r\n%s\r\n" % (len(part), part) if chunked else part
                    sent += len(part)
            try:
                pending = pending[sock.send(pending) :] if pending else pending
            except BlockingIOError:
                continue
            except OSError:
                break  # the hub closed the connection: read what it said
        sock.setblocking(True)
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        while b"\r\n\r\n" not in received or not enough(received):
            data = sock.recv(65536)
            if not data:
                break
            received += data
    finally:
        selector.close()
        sock.close()
    head_bytes, _, body = received.partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    found = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
    return Answer(int(lines[0].split()[1]), found, body, sent)


def enough(received: bytes) -> bool:
    head, _, body = received.partition(b"\r\n\r\n")
    for line in head.decode("latin-1").split("\r\n"):
        if line.lower().startswith("content-length:"):
            return len(body) >= int(line.split(":")[1])
    return False


@pytest.mark.parametrize(
    ("path", "limit"),
    [("/api/login", 4 * 1024), (f"/api/sittings/{SITTING}/commands", 64 * 1024)],
)
def test_a_huge_chunked_body_is_refused_as_it_streams(
    hub: HubProcess, path: str, limit: int
) -> None:
    assert hub.proc is not None
    headers = {"content-type": "application/json"}
    if path.endswith("/commands"):
        headers["authorization"] = f"Bearer {operator_token(hub)}"
    started = time.monotonic()
    with PeakRss(hub.proc.pid) as rss:
        answer = post(hub, path, chunks(HUGE), headers)
    assert rss.growth < GROWTH, rss.growth
    assert answer.sent < HUGE // 4, answer.sent  # the hub stopped reading long before
    assert time.monotonic() - started < 10 * SCALE
    assert answer.status == 413, answer.body
    assert answer.json()["code"] == "request.too_large"
    assert answer.json()["params"] == {"limit": limit}
    assert answer.headers["connection"] == "close"  # not drained: the connection ends


def test_a_refusal_before_the_body_is_read_closes_the_connection(hub: HubProcess) -> None:
    path = f"/api/sittings/{SITTING}/commands"
    answer = post(hub, path, chunks(HUGE), {"authorization": "Bearer nope"})
    assert answer.status == 401
    assert answer.headers["connection"] == "close"
    assert answer.sent < HUGE // 4, answer.sent  # not drained beyond a few MiB


def test_a_declared_length_over_the_limit_is_refused_before_the_body(hub: HubProcess) -> None:
    answer = post(
        hub,
        "/api/login",
        iter(()),  # not one byte of the body is sent: the answer comes first
        {"content-type": "application/json", "content-length": str(HUGE)},
        chunked=False,
    )
    assert answer.status == 413
    assert answer.json()["params"] == {"limit": 4 * 1024}
    assert answer.headers["connection"] == "close"


def test_a_huge_chunked_upload_stops_at_the_upload_limit(hub: HubProcess) -> None:
    assert hub.proc is not None
    documents = hub.data / "documents"
    before = set(documents.iterdir()) if documents.exists() else set()

    def form() -> Iterator[bytes]:
        yield (
            b'--b0undary\r\ncontent-disposition: form-data; name="file"; filename="big.pdf"'
            b"\r\ncontent-type: application/pdf\r\n\r\n%PDF-1.4\n"
        )
        yield from chunks(HUGE)

    headers = {
        "authorization": f"Bearer {operator_token(hub)}",
        "content-type": "multipart/form-data; boundary=b0undary",
    }
    with PeakRss(hub.proc.pid) as rss:
        answer = post(hub, f"/api/sittings/{SITTING}/documents", form(), headers)
    assert rss.growth < GROWTH, rss.growth
    assert answer.sent < HUGE // 4, answer.sent
    assert answer.status == 413, answer.body
    assert answer.json()["code"] == "doc.too_large"
    assert answer.json()["params"] == {"limit": 25 * 1024 * 1024}
    after = set(documents.iterdir()) if documents.exists() else set()
    assert after == before


def test_bodies_within_the_limits_still_work(hub: HubProcess) -> None:
    token = operator_token(hub)  # a login: its body read as a stream
    auth = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    command = json.dumps({"id": "bodies-1", "cmd": {"type": "agenda.add", "title": "Bế mạc"}})
    answer = post(hub, f"/api/sittings/{SITTING}/commands", iter([command.encode()]), auth)
    assert answer.status == 200 and answer.json()["ok"] is True
    member = "db05"
    reset = post(hub, f"/api/members/{member}/login", iter(()), auth)  # an empty body
    assert reset.status == 200, reset.body
    assert reset.json()["member"] == member
    named = post(hub, f"/api/members/{member}/login", iter([b'{"username":"db05"}']), auth)
    assert named.status == 200 and named.json()["username"] == "db05"


def test_a_body_a_little_over_its_limit_is_read_and_the_answer_kept_alive(
    hub: HubProcess,
) -> None:
    """A client that sends the whole body before reading (as httpx does) still gets the
    answer: a body a little over the limit, or one refused before it was needed, is read
    and dropped, not cut off (which would reset the connection under the answer)."""
    with httpx.Client(base_url=hub.url) as http:
        for body in (b"x" * (64 * 1024), iter([b"x" * (64 * 1024)])):
            r = http.post("/api/login", content=body)
            assert r.status_code == 413
            assert r.json()["params"] == {"limit": 4 * 1024}
            assert r.headers.get("connection") != "close"
        path = f"/api/sittings/{SITTING}/commands"  # refused before its body is needed
        r = http.post(path, content=b"x" * 1024, headers={"authorization": "Bearer nope"})
        assert r.status_code == 401 and r.headers.get("connection") != "close"
        assert http.get("/healthz").status_code == 200  # the same connection
