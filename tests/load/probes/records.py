"""Probes 4–5: the anonymous log export during a named vote; member-writable text
without a bound."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.load.probes.base import (
    CHAIR,
    MB,
    ROOT,
    Result,
    Rss,
    Scale,
    http_command,
    in_session,
    mb,
    state_of,
    token_of,
)
from tests.server.conftest import SITTING, HubProcess

# 4. The anonymous log export during an open named vote


def leaks(document: Any, ballots: dict[str, str]) -> list[str]:
    """Every object of the export that names a voter (as one of its own values) and
    carries that voter's choice anywhere inside it."""
    found: list[str] = []

    def strings(node: Any) -> Iterator[str]:
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            for v in node.values():
                yield from strings(v)
        elif isinstance(node, list):
            for v in node:
                yield from strings(v)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for member, choice in ballots.items():
                if member in node.values() and choice in set(strings(node)):
                    found.append(f"{member}={choice}")
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(document)
    return found


async def probe_log_export(hub: HubProcess, scale: Scale, workdir: Path) -> Result:
    ballots = {"db05": "approve", "db06": "reject", "db07": "abstain"}
    async with httpx.AsyncClient(base_url=hub.url, timeout=30) as http:
        await in_session(hub, http)
        chair = await token_of(hub, CHAIR)
        motion = next(iter((await state_of(http))["motions"]))
        r = await http_command(
            http, chair, {"type": "vote.open", "motion": motion, "form": "open"}, "probe-vote"
        )
        if not (r.status_code == 200 and r.json()["ok"]):
            return Result(4, "anonymous log export during a named vote", r.text, False)
        votes = (await state_of(http))["votes"]
        vote = next(v for v, body in votes.items() if body.get("status") == "open")
        cast = 0
        for member, choice in ballots.items():
            token = await token_of(hub, member)
            cmd = {"type": "vote.cast", "vote": vote, "choice": choice}
            r = await http_command(http, token, cmd, f"ballot-{member}")
            cast += r.status_code == 200 and bool(r.json().get("ok"))
        still_open = (await state_of(http))["votes"][vote]["status"] == "open"
        r = await http.get(f"/api/sittings/{SITTING}/log")
    verified = "not verified"
    leaked: list[str] = []
    ok_verify = False
    if r.status_code == 200:
        leaked = leaks(json.loads(r.content), ballots)
        path = workdir / "public.log.json"
        path.write_bytes(r.content)
        check = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "server.cli",
            "verify",
            str(path),
            "--lang",
            "en",
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        said, _ = await asyncio.wait_for(check.communicate(), 60)
        ok_verify = check.returncode == 0
        verified = f"nghitruong verify: exit {check.returncode} ({said.decode().strip()[:80]})"
    ok = cast == len(ballots) and still_open and r.status_code == 200 and not leaked and ok_verify
    return Result(
        4,
        "anonymous GET /log during an open named vote",
        f"{cast} ballots cast, vote {'open' if still_open else 'closed'}, HTTP {r.status_code}, "
        f"{len(r.content):,} bytes, choices shown: {len(leaked)} ({', '.join(leaked) or '-'}), "
        f"{verified}",
        ok,
    )


# 5. Member-writable text without a bound


def journal_bytes(hub: HubProcess) -> int:
    return sum(p.stat().st_size for p in hub.data.glob("journal*") if p.is_file())


async def probe_big_notes(hub: HubProcess, scale: Scale) -> Result:
    """Each request the hub takes is withdrawn at once (so the next is not refused as a
    second request), paced under the command budget: only a bound on the text stops it."""
    note = "x" * 900_000
    member = "db08"
    statuses: Counter[str] = Counter()
    accepted = 0
    async with httpx.AsyncClient(base_url=hub.url, timeout=60) as http:
        await in_session(hub, http)
        token = await token_of(hub, member)
        journal_before = journal_bytes(hub)
        started = time.monotonic()
        with Rss(hub) as rss:
            for n in range(scale.big_notes):
                began = time.monotonic()
                cmd = {"type": "floor.request", "note": note}
                r = await http_command(http, token, cmd, f"note-{n}")
                body = r.json() if r.headers.get("content-type", "").startswith("app") else {}
                statuses[f"{r.status_code} {body.get('code', '')}".strip()] += 1
                if r.status_code == 200 and body.get("ok"):
                    accepted += 1
                    queue = (await state_of(http))["queue"]
                    mine = [q["id"] for q in queue if q["member"] == member]
                    for request in mine:
                        cmd = {"type": "floor.withdraw", "request": request}
                        await http_command(http, token, cmd, f"withdraw-{n}-{request}")
                if time.monotonic() - started > 90:
                    break
                await asyncio.sleep(max(0.0, 0.15 - (time.monotonic() - began)))
            await asyncio.sleep(0.5)
        journal_growth = journal_bytes(hub) - journal_before
    ok = accepted == 0 and rss.growth < 10 * MB and journal_growth < 5 * MB
    answers = ", ".join(f"{k} x{v}" for k, v in statuses.most_common())
    return Result(
        5,
        f"{scale.big_notes} floor requests over HTTP with 900 kB notes",
        f"{accepted} accepted ({answers}) in {time.monotonic() - started:.1f} s, "
        f"journal +{mb(journal_growth)}, {rss.text()}",
        ok,
    )
