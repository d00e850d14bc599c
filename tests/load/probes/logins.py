"""Probes 6–7: a chunked 200 MiB login body, the login limiter."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter

import httpx
import psutil

from tests.load.probes.base import (
    LOGIN_BUDGET,
    MB,
    Result,
    Rss,
    Scale,
    mb,
)
from tests.server.conftest import HubProcess

# 6. A chunked login body of 200 MiB


async def probe_huge_login(hub: HubProcess, scale: Scale) -> Result:
    total = scale.login_mib * MB
    chunk = b" " * (64 * 1024)
    sent = 0
    status = None
    answered_after: int | None = None
    took = 0.0
    reader, writer = await asyncio.open_connection("127.0.0.1", hub.port)
    head = (
        f"POST /api/login HTTP/1.1\r\nHost: 127.0.0.1:{hub.port}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    answer = asyncio.ensure_future(reader.readline())  # the status line, whenever it comes
    started = time.monotonic()
    with Rss(hub) as rss:
        try:
            writer.write(head.encode())
            while sent < total and not answer.done():
                writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                await writer.drain()
                sent += len(chunk)
                await asyncio.sleep(0)  # let the answer in as soon as it comes
                if time.monotonic() - started > 90:
                    break
            if not answer.done():
                writer.write(b"0\r\n\r\n")
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        with contextlib.suppress(TimeoutError, ConnectionError, OSError):
            line = await asyncio.wait_for(answer, 60)
            took = time.monotonic() - started
            answered_after = sent
            parts = line.split()
            status = int(parts[1]) if len(parts) > 1 else None
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
        await asyncio.sleep(0.5)
    if not answer.done():
        answer.cancel()
    early = answered_after is not None and answered_after < total
    ok = status == 413 and early and took < 5 and rss.peak_growth < 30 * MB
    after = "no answer" if answered_after is None else f"answered after {mb(answered_after)} sent"
    return Result(
        6,
        f"chunked {scale.login_mib} MiB POST /api/login",
        f"HTTP {status}, {after} in {took:.2f} s, {rss.text()}",
        ok,
    )


# 7. The login limiter


async def probe_login_limiter(hub: HubProcess, scale: Scale) -> Result:
    """Real checks are counted as 401 answers (a throttled one is a 429); the hub's CPU
    time, against one Argon2 check's measured first, gives a second count to read."""
    victim = "db09"
    assert hub.proc is not None
    proc = psutil.Process(hub.proc.pid)

    def cpu() -> float:
        times = proc.cpu_times()
        return float(times.user + times.system)

    async def attempt(
        http: httpx.AsyncClient,
        password: str,
        headers: dict[str, str] | None = None,
        username: str = victim,
    ) -> tuple[int, float]:
        began = time.monotonic()
        r = await http.post(
            "/api/login", json={"username": username, "password": password}, headers=headers
        )
        return r.status_code, time.monotonic() - began

    def from_address(address: str) -> httpx.AsyncClient:
        transport = httpx.AsyncHTTPTransport(local_address=address)
        return httpx.AsyncClient(base_url=hub.url, timeout=60, transport=transport)

    async with from_address("127.0.0.3") as http:  # another user, another address
        before = cpu()
        for n in range(3):
            await attempt(http, f"calibrate-{n}", username="db10")
        per_check = max((cpu() - before) / 3, 1e-3)
    limits = httpx.Limits(max_connections=50)
    before = cpu()
    async with httpx.AsyncClient(base_url=hub.url, timeout=60, limits=limits) as http:
        burst = await asyncio.gather(*(attempt(http, f"wrong-{n}") for n in range(40)))
        forwarded = [
            await attempt(http, f"wrong-xff-{n}", {"x-forwarded-for": f"203.0.113.{n + 1}"})
            for n in range(10)
        ]
    by_cpu = (cpu() - before) / per_check
    async with from_address("127.0.0.2") as http:
        real, _ = await attempt(http, hub.logins[victim])

    def summary(answers: list[tuple[int, float]]) -> str:
        counts = Counter(code for code, _ in answers)
        parts = []
        for code, n in sorted(counts.items()):
            times = sorted(t for c, t in answers if c == code)
            parts.append(f"{n}x{code} (median {times[len(times) // 2] * 1000:.0f} ms)")
        return " ".join(parts)

    checks = sum(code == 401 for code, _ in burst) + sum(code == 401 for code, _ in forwarded)
    ok = checks <= LOGIN_BUDGET and real == 200
    return Result(
        7,
        "40 concurrent wrong passwords, then 10 with rotated X-Forwarded-For",
        f"burst: {summary(burst)}; forwarded: {summary(forwarded)}; "
        f"{checks} real checks (budget {LOGIN_BUDGET}; ~{by_cpu:.0f} by hub CPU at "
        f"{per_check * 1000:.0f} ms a check); "
        f"right password from 127.0.0.2: HTTP {real}",
        ok,
    )
