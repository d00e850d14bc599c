"""Probes 8–10: a raw sitting.schedule, uploads and pages, a reused command id."""

from __future__ import annotations

import httpx

from tests.load.probes.base import (
    OPERATOR,
    Result,
    Scale,
    bearer,
    cmd_frame,
    hello,
    http_command,
    next_frame,
    socket_to,
    state_of,
    token_of,
)
from tests.server.conftest import SITTING, HubProcess
from tests.server.frames import frame_for

# 8. An operator's raw sitting.schedule naming another sitting and council


async def probe_schedule(hub: HubProcess, scale: Scale) -> Result:
    async with httpx.AsyncClient(base_url=hub.url, timeout=30) as http:
        op = await token_of(hub, OPERATOR)
        r = await http.post(
            "/api/councils",
            headers=bearer(op),
            json={"id": "hdnd-phuong-do-tham", "name": "HĐND phường dò thăm", "total_seats": 5},
        )
        r.raise_for_status()
        r = await http.post(
            "/api/councils/hdnd-phuong-do-tham/members",
            headers=bearer(op),
            json={"name": "Đại biểu phường khác", "seat": "1", "roles": ["chair", "delegate"]},
        )
        r.raise_for_status()
        stranger = r.json()
        council = (await state_of(http))["council"]
        stranger_member = {k: stranger[k] for k in ("id", "name", "seat", "roles")}
        forged = {**council, "members": [stranger_member]}
        here, there = "ky-hop-do-tham-a", "ky-hop-do-tham-b"
        base = {"type": "sitting.schedule", "title": "Dò thăm", "scheduled_at": 0}
        tries = {
            "both": {**base, "sitting": there, "council": forged},
            "other sitting": {**base, "sitting": there, "council": council},
            "other members": {**base, "sitting": here, "council": forged},
        }
        answers = {}
        for name, cmd in tries.items():
            r = await http_command(http, op, cmd, f"schedule-{name}", sitting=here)
            answers[name] = f"{r.status_code} {r.json().get('code', '')}".strip()
        stored = {s: (await http.get(f"/api/sittings/{s}")).status_code for s in (here, there)}
        listed = [s["id"] for s in (await http.get("/api/sittings")).json()]
    ok = all(a.startswith("422") for a in answers.values()) and set(stored.values()) == {404}
    ok = ok and here not in listed and there not in listed
    return Result(
        8,
        "operator's raw sitting.schedule over HTTP naming another sitting and council",
        "; ".join(f"{k}: {v}" for k, v in answers.items())
        + f"; GET after: {here} {stored[here]}, {there} {stored[there]}",
        ok,
    )


# 9. Uploads and pages


def tiny_png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def short(url: str) -> str:
    return url if len(url) < 40 else url[:36] + "…"


async def probe_uploads(hub: HubProcess, scale: Scale) -> Result:
    html = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
    async with httpx.AsyncClient(base_url=hub.url, timeout=30) as http:
        op = await token_of(hub, OPERATOR)
        url = f"/api/sittings/{SITTING}/documents"
        fake = await http.post(
            url, headers=bearer(op), files={"file": ("anh.png", html, "image/png")}
        )
        real = await http.post(
            url, headers=bearer(op), files={"file": ("anh.png", tiny_png(), "image/png")}
        )
        documents = list((await state_of(http))["documents"])
        pages = ["/", "/chair/", "/api/sittings", f"/api/sittings/{SITTING}"]
        pages += [f"/api/documents/{d}" for d in documents[:2]]
        if fake.status_code < 300:
            pages.append(f"/api/documents/{fake.json()['hash']}")
        pages = list(dict.fromkeys(pages))
        without_nosniff, without_frame = [], []
        framing = 0
        for page in pages:
            r = await http.get(page)
            if r.headers.get("x-content-type-options", "").lower() != "nosniff":
                without_nosniff.append(page)
            if "frame-ancestors" not in r.headers.get("content-security-policy", ""):
                without_frame.append(page)
            framing += "x-frame-options" in r.headers
    missing = without_nosniff + without_frame
    fake_refused = 400 <= fake.status_code < 500
    ok = fake_refused and real.status_code == 201 and not missing
    return Result(
        9,
        "HTML declared image/png; headers on pages, API and documents",
        f"fake PNG: HTTP {fake.status_code}, real PNG: HTTP {real.status_code}; "
        f"nosniff on {len(pages) - len(without_nosniff)}/{len(pages)} URLs, CSP with "
        f"frame-ancestors on {len(pages) - len(without_frame)}/{len(pages)}"
        + (f" (missing on {', '.join(short(p) for p in without_frame)})" if without_frame else "")
        + f", X-Frame-Options on {framing}/{len(pages)}",
        ok,
    )


# 10. A reused command id


async def probe_reused_id(hub: HubProcess, scale: Scale) -> Result:
    async with httpx.AsyncClient(base_url=hub.url, timeout=30) as http:
        token = await token_of(hub, "db24")
        async with socket_to(hub) as ws:
            await hello(ws, token)
            await ws.send(frame_for(ws, cmd_frame("probe-r", {"type": "attendance.check_in"})))
            first_ws = await next_frame(ws, ("ack", "error"), "probe-r")
            await ws.send(frame_for(ws, cmd_frame("probe-r", {"type": "attendance.leave"})))
            again_ws = await next_frame(ws, ("ack", "error"), "probe-r")
        token = await token_of(hub, "db25")
        first = await http_command(http, token, {"type": "attendance.check_in"}, "probe-h")
        again = await http_command(http, token, {"type": "attendance.leave"}, "probe-h")
        attendance = (await state_of(http))["attendance"]
    ws_text = again_ws["t"] if again_ws["t"] == "ack" else again_ws["code"]
    http_code = again.json().get("code") if again.status_code != 200 else "ok (old answer)"
    ok = (
        first_ws["t"] == "ack"
        and again_ws.get("code") == "command.id_reused"
        and first.status_code == 200
        and again.status_code != 200
        and http_code == "command.id_reused"
        and attendance.get("db24") == "in_hall"
        and attendance.get("db25") == "in_hall"
    )
    return Result(
        10,
        "one command id reused for another command (socket, HTTP)",
        f"socket: {first_ws['t']} then {ws_text}; HTTP: {first.status_code} then "
        f"{again.status_code} {http_code}; attendance db24 {attendance.get('db24')}, "
        f"db25 {attendance.get('db25')}",
        ok,
    )
