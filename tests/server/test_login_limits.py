"""The login throttle on a live hub: atomic under concurrency, no lockout of the owner,
and forwarded headers believed only from configured proxies."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server.registry import Registry, SessionRow
from tests.server.conftest import SCALE, HubProcess


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    """A demo hub behind a 'proxy' on 127.0.0.1: X-Forwarded-For names the client."""
    h = HubProcess(tmp_path_factory.mktemp("proxied"), {"NGHITRUONG_TRUSTED_PROXIES": "127.0.0.1"})
    h.start(demo=True)
    yield h
    h.stop()


@pytest.fixture(scope="module")
def direct(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    """A hub started without NGHITRUONG_TRUSTED_PROXIES."""
    env = {"NGHITRUONG_TRUSTED_PROXIES": "", "FORWARDED_ALLOW_IPS": "*"}  # neither may count
    h = HubProcess(tmp_path_factory.mktemp("direct"), env)
    h.start()
    yield h
    h.stop()


async def _burst(hub: HubProcess, attempts: list[tuple[str, str, str]]) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=60 * SCALE) as client:
        return await asyncio.gather(
            *(
                client.post(
                    hub.url + "/api/login",
                    json={"username": username, "password": password},
                    headers={"x-forwarded-for": forwarded},
                )
                for username, password, forwarded in attempts
            )
        )


def burst(hub: HubProcess, attempts: list[tuple[str, str, str]]) -> list[int]:
    """Send the logins all at once; the hub takes each one's time as it arrives, so the
    answers do not depend on how long each password check takes on a busy machine."""
    return [a.status_code for a in asyncio.run(_burst(hub, attempts))]


def login(hub: HubProcess, username: str, password: str, forwarded: str) -> httpx.Response:
    return httpx.post(
        hub.url + "/api/login",
        json={"username": username, "password": password},
        headers={"x-forwarded-for": forwarded},
        timeout=30 * SCALE,
    )


def test_40_concurrent_wrong_passwords_get_only_the_budgets_checks(proxied: HubProcess) -> None:
    """Before: the limit was read before the password check and written after it, so 40
    wrong passwords at once got 10 checks (a 401 each) where 5 were allowed."""
    started = time.monotonic()
    answers = asyncio.run(
        _burst(proxied, [("db05", f"wrong-{i}", "192.0.2.40") for i in range(40)])
    )
    took = time.monotonic() - started
    statuses = [a.status_code for a in answers]
    assert set(statuses) == {401, 429}, statuses
    # A 401 is a password checked and refused; a 429 checked nothing. Three free failures
    # per (username, address), then waits of 1, 2, 4… s: however slowly the burst arrived,
    # no more checks than that schedule allows within its length.
    allowed = 3 + int(math.log2(took + 1))
    assert statuses.count(401) <= allowed, (statuses.count(401), took)
    refused = next(a for a in answers if a.status_code == 429)
    seconds = refused.json()["params"]["seconds"]
    assert refused.json()["code"] == "auth.rate_limited" and 1 <= seconds <= 900
    assert refused.headers["retry-after"] == str(seconds)


def test_wrong_passwords_from_elsewhere_do_not_lock_the_owner_out(proxied: HubProcess) -> None:
    """Before: 5 wrong passwords from anywhere locked a delegate out for 5 minutes."""
    password = proxied.logins["db06"]
    assert login(proxied, "db06", password, "10.1.1.6").status_code == 200  # the owner's tablet
    codes = burst(proxied, [("db06", "wrong", f"198.51.100.{i}") for i in range(15)])
    assert sorted(codes) == [401] * 10 + [429] * 5  # the name's budget over all addresses
    assert login(proxied, "db06", password, "10.1.1.6").status_code == 200


def test_forwarded_addresses_count_only_from_a_trusted_proxy(
    proxied: HubProcess, direct: HubProcess
) -> None:
    """Before: uvicorn believed X-Forwarded-For from 127.0.0.1, so a local client named a
    new address for every guess and was never limited per address."""
    spray = [(f"nobody{i}", "wrong", f"203.0.113.{i}") for i in range(22)]
    assert sorted(burst(direct, spray)) == [401] * 20 + [429] * 2  # one address: 127.0.0.1
    assert burst(proxied, spray) == [401] * 22  # 22 addresses, as the trusted proxy says


def test_a_bad_trusted_proxy_setting_stops_the_hub(tmp_path: Path) -> None:
    hub = HubProcess(tmp_path, {"NGHITRUONG_TRUSTED_PROXIES": "*"})
    with pytest.raises(RuntimeError, match=r"TRUSTED_PROXIES .*\*"):
        hub.start()
    assert hub.proc is not None and hub.proc.wait(timeout=10 * SCALE) == 2


def test_a_starting_hub_deletes_expired_sessions(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    now = int(time.time() * 1000)
    for name, expires, revoked in (("old", now - 61_000, False), ("gone", now - 61_000, True)):
        registry.add_session(SessionRow(name, "u", "operator", "u", None, 0, expires, revoked))
    registry.add_session(SessionRow("live", "u", "operator", "u", None, 0, now + 3_600_000, True))
    registry.close()
    hub = HubProcess(tmp_path).start()
    try:
        registry = Registry(tmp_path)
        deadline = time.monotonic() + 10 * SCALE
        while registry.session("old") is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert registry.session("old") is None and registry.session("gone") is None
        assert registry.session("live") is not None  # revoked, kept until its expiry
        registry.close()
    finally:
        hub.stop()
