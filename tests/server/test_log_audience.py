"""The log export per audience on a live hub (issue 7, defect 4): while a named vote is
open, the anonymous export stops before its first ballot, says so, and still verifies
offline with `nghitruong verify`; after the close it holds every choice. A delegate gets
their own ballots too; the chair and the operator the whole log; a token that does not
resolve, or a member of another council, is refused. Nothing anywhere holds a secret
choice."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import msgspec

from chamber import commands as c
from chamber.ids import ABSTAIN, APPROVE, REJECT, VoteForm
from server.client import Client, login
from tests.server.conftest import ROOT, SCALE, SITTING, HubProcess, operator_token

LOG = f"/api/sittings/{SITTING}/log"
VOTERS = {"db04": APPROVE, "db05": REJECT, "db06": ABSTAIN}


async def fetch(hub: HubProcess, token: str | None = None, path: str = LOG) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token is not None else None
    async with httpx.AsyncClient(timeout=30 * SCALE) as http:
        return await http.get(hub.url + path, headers=headers)


def ballots(document: dict[str, Any], vote: str) -> dict[str, Any]:
    """member → answers of every ballot of ``vote`` in an export."""
    return {
        r["event"]["member"]: r["event"]["answers"]
        for r in document["records"]
        if r["event"]["type"] == "ballot.cast" and r["event"]["vote"] == vote
    }


async def verify(path: Path) -> subprocess.CompletedProcess[str]:
    """`nghitruong verify`, as an auditor runs it on the saved file."""
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "server.cli", "verify", "--lang", "en", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60 * SCALE,
    )


async def test_an_open_named_vote_is_held_back_from_the_public_export(
    hub: HubProcess, tmp_path: Path
) -> None:
    names = ["db01", *VOTERS, "db07"]
    tokens = dict(zip(names, [await login(hub.url, n, hub.logins[n]) for n in names], strict=True))
    tokens["operator"] = await login(hub.url, "vanhanh", hub.logins["vanhanh"])
    people = {n: Client(hub.url, SITTING, tokens[n]) for n in names}
    try:
        for client in people.values():
            await client.connect()
            await client.command(c.CheckIn())
        await in_session(hub, tokens["operator"], people["db01"])
        vote, motion, first = await cast(people, VoteForm.OPEN)
        await while_open(hub, tmp_path, tokens, vote, motion, first)
        await people["db01"].command(c.CloseVote(vote=vote))
        await after_close(hub, tmp_path, vote, motion)
        await secret_vote(hub, tokens, people)
    finally:
        for client in people.values():
            await client.close()


async def in_session(hub: HubProcess, operator: str, chair: Client) -> None:
    """A quorum checked in by the operator, the sitting opened and started."""
    op = {"authorization": f"Bearer {operator}"}
    async with httpx.AsyncClient(base_url=hub.url, headers=op, timeout=30 * SCALE) as http:
        for i in range(8, 24):
            body = {"id": f"in-{i}", "cmd": {"type": "attendance.check_in", "member": f"db{i:02d}"}}
            answer = await http.post(f"/api/sittings/{SITTING}/commands", json=body)
            assert answer.json()["ok"], answer.text
    await chair.command(c.OpenSitting())
    await chair.command(c.StartSitting())


async def cast(people: dict[str, Client], form: VoteForm) -> tuple[str, str, int]:
    """The chair opens a vote on the first motion and VOTERS cast their ballots: the vote,
    the motion and the seq of the first ballot."""
    chair = people["db01"]
    motion = next(iter(chair.state.motions))  # type: ignore[union-attr]
    opened = await chair.command(c.OpenVote(motion=motion, preset="resolution", form=form))
    assert opened.seq is not None
    await chair.wait_seq(opened.seq[1], timeout=10 * SCALE)
    vote = chair.state.open_vote()  # type: ignore[union-attr]
    assert vote is not None and vote.form is form
    first = 0
    for name, choice in VOTERS.items():
        ack = await people[name].command(c.CastBallot(vote=vote.id, choice=choice))
        assert ack.seq is not None
        first = first or ack.seq[0]
    return vote.id, motion, first


async def while_open(
    hub: HubProcess, tmp_path: Path, tokens: dict[str, str], vote: str, motion: str, first: int
) -> None:
    # The public: everything before the first ballot, and a header that says so.
    answer = await fetch(hub)
    assert answer.status_code == 200
    assert b'"answers":{' not in answer.content  # no member's choice, anywhere in it
    assert answer.headers["cache-control"] == "no-store"
    public = answer.json()
    assert public["audience"] == "public" and public["complete"] is False
    assert public["held_back"] == {"seq": first, "reason": "vote.open", "vote": vote}
    assert public["records"][-1]["seq"] == first - 1
    assert public["head"] == public["records"][-1]["hash"]
    assert ballots(public, vote) == {}
    saved = tmp_path / "public.log.json"
    saved.write_bytes(answer.content)
    checked = await verify(saved)
    assert checked.returncode == 0, checked.stderr
    assert f"VALID: {first - 1} events" in checked.stdout
    assert f"stops before event {first}: ballots of a vote still open" in checked.stdout
    # Nor can the public snapshot's head be used to test guesses of the ballots.
    snapshot = (await fetch(hub, path=f"/api/sittings/{SITTING}")).json()
    assert snapshot["head"] == ""

    # A delegate: their own ballot too, no one else's; one who has not voted: the public's.
    mine = (await fetch(hub, tokens["db04"])).json()
    assert mine["audience"] == "delegate" and mine["held_back"]["seq"] == first + 1
    assert ballots(mine, vote) == {"db04": {motion: APPROVE}}
    assert (await fetch(hub, tokens["db07"])).json()["records"] == public["records"]

    # The chair and the operator: the whole log, every choice.
    full = (await fetch(hub, tokens["db01"])).json()
    assert full["audience"] == "chair" and full["complete"] is True and full["held_back"] is None
    assert ballots(full, vote) == {n: {motion: ch} for n, ch in VOTERS.items()}
    assert full["records"][: len(public["records"])] == public["records"]  # the same chain
    assert (await fetch(hub, tokens["operator"])).json() == full


async def after_close(hub: HubProcess, tmp_path: Path, vote: str, motion: str) -> None:
    """The roll call is public now, and so are the ballots."""
    answer = await fetch(hub)
    after = answer.json()
    assert after["complete"] is True and after["held_back"] is None
    assert ballots(after, vote) == {n: {motion: ch} for n, ch in VOTERS.items()}
    saved = tmp_path / "closed.log.json"
    saved.write_bytes(answer.content)
    checked = await verify(saved)
    assert checked.returncode == 0, checked.stderr
    assert "stops before" not in checked.stdout
    snapshot = (await fetch(hub, path=f"/api/sittings/{SITTING}")).json()
    assert snapshot["head"] == after["head"]


async def secret_vote(hub: HubProcess, tokens: dict[str, str], people: dict[str, Client]) -> None:
    """Nothing links a member to a secret choice, in any export, open or closed."""
    vote, _, first = await cast(people, VoteForm.SECRET)
    assert (await fetch(hub)).json()["held_back"] == {
        "seq": first,
        "reason": "vote.open",
        "vote": vote,
    }
    assert set(ballots((await fetch(hub, tokens["db01"])).json(), vote).values()) == {None}
    await people["db01"].command(c.CloseVote(vote=vote))
    for token in (None, tokens["db04"], tokens["db01"]):
        document = msgspec.json.decode((await fetch(hub, token)).content)
        assert document["complete"] is True
        assert set(ballots(document, vote).values()) == {None}
        closed = [r["event"] for r in document["records"] if r["event"]["type"] == "vote.closed"]
        assert closed[-1]["vote"] == vote and closed[-1]["result"]["roll_call"] is None


async def test_a_token_that_does_not_resolve_is_refused_not_demoted(hub: HubProcess) -> None:
    answer = await fetch(hub, "not-a-token")
    assert answer.status_code == 401 and answer.json()["code"] == "auth.invalid"


def test_a_member_of_another_council_is_refused(hub: HubProcess) -> None:
    op = {"authorization": f"Bearer {operator_token(hub)}"}
    council = {"id": "hdnd-xa-khac", "name": "HĐND xã Khác", "total_seats": 5}
    assert httpx.post(hub.url + "/api/councils", json=council, headers=op).status_code == 201
    member = httpx.post(
        hub.url + "/api/councils/hdnd-xa-khac/members", json={"name": "Người ngoài"}, headers=op
    ).json()
    issued = httpx.post(
        f"{hub.url}/api/members/{member['id']}/login", json={}, headers=op, timeout=30 * SCALE
    ).json()
    token = httpx.post(
        hub.url + "/api/login",
        json={"username": issued["username"], "password": issued["password"]},
        timeout=30 * SCALE,
    ).json()["token"]
    answer = httpx.get(hub.url + LOG, headers={"authorization": f"Bearer {token}"})
    assert answer.status_code == 403 and answer.json()["code"] == "auth.not_a_member"
