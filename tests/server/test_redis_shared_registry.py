"""What the hub nodes share lives in Redis: two real hub processes with data folders of
their own on one `redis-server`. Node B, started without --demo, sees the demo council
node A seeded; a member added on A logs in on B; a document uploaded on A is served by
B; a logout or a deactivation on A closes the member's socket on B within 1 s; with Redis
down a registry write answers 503 `server.unavailable` at once."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from server.client import Client, login
from tests.load.failover_storm import Node
from tests.redis_process import RedisProcess
from tests.server.conftest import SCALE, SITTING
from tests.server.test_uploads_and_headers import png

pytestmark = [pytest.mark.redis, pytest.mark.slow]

Cluster = tuple[RedisProcess, Node, Node]


@pytest.fixture(scope="module")
def apart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two nodes, each with its own data folder: nothing shared but Redis."""
    folder = tmp_path_factory.mktemp("apart")
    redis = RedisProcess(folder / "redis")
    redis.start()
    env = {"NGHITRUONG_JOURNAL": redis.url}
    a, b = Node(folder / "a", env), Node(folder / "b", env)
    try:
        a.start(demo=True)
        b.start()
        yield redis, a, b
    finally:
        for node in (a, b):
            node.stop()
        redis.stop()


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def operator_on(node: Node, password: str) -> str:
    return await login(node.url, "vanhanh", password)


async def test_b_sees_the_demo_council_and_its_logins(apart: Cluster) -> None:
    _redis, a, b = apart
    assert not (b.data / "registry.sqlite3").exists()  # nothing of the registry on disk
    token = await operator_on(b, a.logins["vanhanh"])  # A's demo password, on B
    async with httpx.AsyncClient(base_url=b.url) as http:
        councils = (await http.get("/api/councils", headers=bearer(token))).json()
    assert [c["id"] for c in councils] == ["hdnd-phuong-ben-thanh"]


async def test_a_member_added_on_a_logs_in_on_b(apart: Cluster) -> None:
    _redis, a, b = apart
    token = await operator_on(a, a.logins["vanhanh"])
    async with httpx.AsyncClient(base_url=a.url, headers=bearer(token)) as http:
        r = await http.post(
            "/api/councils", json={"id": "phuong-moi", "name": "Phường Mới", "total_seats": 5}
        )
        assert r.status_code == 201, r.text
        r = await http.post("/api/councils/phuong-moi/members", json={"name": "Trịnh Văn Mới"})
        assert r.status_code == 201, r.text
        member = r.json()["id"]
        issued = (await http.post(f"/api/members/{member}/login")).json()
    member_token = await login(b.url, issued["username"], issued["password"])
    async with httpx.AsyncClient(base_url=b.url) as http:
        r = await http.post("/api/logout", headers=bearer(member_token))
    assert r.status_code == 200


async def test_a_document_uploaded_on_a_is_served_by_b(apart: Cluster) -> None:
    _redis, a, b = apart
    image = png((64, 40))
    digest = hashlib.sha256(image).hexdigest()
    token = await operator_on(a, a.logins["vanhanh"])
    async with httpx.AsyncClient(base_url=a.url, headers=bearer(token)) as http:
        r = await http.post(
            f"/api/sittings/{SITTING}/documents",
            files={"file": ("so-do.png", image, "image/png")},
            data={"title": "Sơ đồ hội trường"},
        )
    assert r.status_code == 201, r.text
    assert r.json()["hash"] == digest
    assert not (b.data / "documents" / digest).exists()
    async with httpx.AsyncClient(base_url=b.url) as http:
        got = await http.get(f"/api/documents/{digest}")
    assert got.status_code == 200
    assert got.content == image and got.headers["content-type"] == "image/png"
    assert (b.data / "documents" / digest).read_bytes() == image  # cached on B's disk


async def closed_on_b(b: Node, token: str, end: Any) -> float:
    """Connect to B with ``token``, call ``end`` (on A), return the seconds from the call
    to the socket's close with 4401 (and print the part after A's HTTP answer)."""
    client = Client(b.url, SITTING, token, reconnect=False)
    await client.connect()
    try:
        started = time.perf_counter()
        await end()
        answered = time.perf_counter()
        assert client._reader is not None  # it ends when the socket closes
        await asyncio.wait([client._reader], timeout=5 * SCALE)
        took = time.perf_counter() - started
        print(f"\n  of which after A answered: {(started + took - answered) * 1000:.1f} ms")
        assert client.closed_with == 4401
        return took
    finally:
        await client.close()


async def test_a_logout_on_a_closes_the_socket_on_b(apart: Cluster) -> None:
    _redis, a, b = apart
    token = await login(a.url, "db05", a.logins["db05"])

    async def logout() -> None:
        async with httpx.AsyncClient(base_url=a.url) as http:
            r = await http.post("/api/logout", headers=bearer(token))
            assert r.status_code == 200

    took = await closed_on_b(b, token, logout)
    print(f"\nlogout on A → socket on B closed 4401 after {took * 1000:.1f} ms")
    assert took < 1.0 * SCALE


async def test_a_deactivation_on_a_closes_the_socket_on_b(apart: Cluster) -> None:
    _redis, a, b = apart
    token = await login(b.url, "db06", a.logins["db06"])
    operator = await operator_on(a, a.logins["vanhanh"])

    async def deactivate() -> None:
        async with httpx.AsyncClient(base_url=a.url, headers=bearer(operator)) as http:
            r = await http.patch("/api/members/db06", json={"active": False})
            assert r.status_code == 200, r.text

    took = await closed_on_b(b, token, deactivate)
    print(f"\ndeactivation on A → socket on B closed 4401 after {took * 1000:.1f} ms")
    assert took < 1.0 * SCALE
    async with httpx.AsyncClient(base_url=b.url) as http:
        r = await http.post("/api/login", json={"username": "db06", "password": a.logins["db06"]})
    assert r.status_code == 403 and r.json()["code"] == "auth.inactive"


async def test_with_redis_down_a_registry_write_is_unavailable(apart: Cluster) -> None:
    redis, a, _b = apart
    token = await operator_on(a, a.logins["vanhanh"])
    redis.kill()  # the last test of the module: the cluster is not used after
    async with httpx.AsyncClient(base_url=a.url, headers=bearer(token), timeout=30) as http:
        assert (await http.get("/api/councils")).status_code == 200  # reads stay local
        started = time.perf_counter()
        r = await http.post("/api/councils/phuong-moi/members", json={"name": "Lương Thị Vắng"})
        took = time.perf_counter() - started
    print(f"\nregistry write with Redis down: {r.status_code} after {took * 1000:.0f} ms")
    assert r.status_code == 503 and r.json()["code"] == "server.unavailable"
    assert took < 5 * SCALE
