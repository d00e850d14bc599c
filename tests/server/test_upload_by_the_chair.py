"""The chair files an amended text from the console: the presiding officers and the
secretary of a sitting may upload a document to it, registered in their own role; a
delegate may not."""

from __future__ import annotations

import hashlib

import httpx

from server.seed import demo_pdf
from tests.server.conftest import SITTING, HubProcess, operator_token


def token(hub: HubProcess, username: str) -> str:
    r = httpx.post(
        hub.url + "/api/login", json={"username": username, "password": hub.logins[username]}
    )
    r.raise_for_status()
    return str(r.json()["token"])


def upload(hub: HubProcess, who: str, data: bytes, **fields: str) -> httpx.Response:
    return httpx.post(
        f"{hub.url}/api/sittings/{SITTING}/documents",
        headers={"authorization": f"Bearer {who}"},
        files={"file": ("chinh-ly.pdf", data, "application/pdf")},
        data=fields,
        timeout=30,
    )


def registered(hub: HubProcess, digest: str) -> list[dict[str, object]]:
    return [d for d in registered_all(hub) if d["hash"] == digest]


def test_the_chair_uploads_a_new_version_and_a_delegate_may_not(hub: HubProcess) -> None:
    first = next(
        d
        for d in registered_all(hub)
        if d["title"] == "Dự thảo Nghị quyết dự toán ngân sách năm 2026"
    )
    amended = demo_pdf("Du thao chinh ly", ["Dieu 1.", "Dieu 2.", "Dieu 3.", "Dieu 4."])
    digest = hashlib.sha256(amended).hexdigest()
    refused = upload(hub, token(hub, "db05"), amended)  # a delegate
    assert (refused.status_code, refused.json()["code"]) == (403, "auth.operator_only")
    assert registered(hub, digest) == []
    done = upload(
        hub, token(hub, "db01"), amended, title="Dự thảo (chỉnh lý)", supersedes=str(first["hash"])
    )
    assert done.status_code == 201, done.text
    assert done.json()["hash"] == digest
    (doc,) = registered(hub, digest)
    assert (doc["version"], doc["series"], doc["pages"]) == (2, first["hash"], 4)


def registered_all(hub: HubProcess) -> list[dict[str, object]]:
    log = httpx.get(
        f"{hub.url}/api/sittings/{SITTING}/log",
        headers={"authorization": f"Bearer {operator_token(hub)}"},
        timeout=30,
    ).json()
    return [r["event"]["doc"] for r in log["records"] if r["event"]["type"] == "doc.registered"]
