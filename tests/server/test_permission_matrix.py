"""The permission matrix, generated from the permission table and checked on the wire.

Every command of `chamber.permissions.PERMISSIONS` × every role a client can log in as
(chair, vice chair, secretary, delegate: one demo member each; the operator; the public,
with no token; the chair of another council) × every phase of `chamber.ids.Phase` (plus
"no such sitting": over HTTP per command, on the socket at the hello) is sent to one real
hub, over the socket AND as `POST /api/sittings/{id}/commands`. Where the
table refuses every role the login holds in that phase, the answer must be the permission
refusal; where the table allows one, the answer must not be a permission refusal (it may be
another refusal: nothing to end, no such vote). The system role (the hub's timers) must
never be reachable from a client. A command added to the table is covered with no edit
here: its sample body is derived from its schema.

Commands that move the sitting to another phase (`sitting.*`) would change the phase under
the cases that follow them, so each such case the table allows runs on a sitting of its
own; every other case of a phase shares one sitting per transport.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from chamber.ids import Phase, Role
from chamber.permissions import PERMISSIONS
from server.client import Client, CommandRefused
from server.protocol import CODECS, JSON, MSGPACK, FrameError
from tests.server.conftest import SCALE, SITTING, HubProcess
from tests.server.frames import COMMANDS, body_of

TIMEOUT = 30 * SCALE
#: How to reach each phase from a freshly scheduled sitting (`quorum_to_open` is off).
PATH: dict[Phase, tuple[str, ...]] = {
    Phase.SCHEDULED: (),
    Phase.OPENED: ("sitting.open",),
    Phase.IN_SESSION: ("sitting.open", "sitting.start"),
    Phase.SUSPENDED: ("sitting.open", "sitting.start", "sitting.suspend"),
    Phase.CLOSED: ("sitting.open", "sitting.close"),
}
#: Commands whose success moves the sitting to another phase.
LIFECYCLE = frozenset(n for n in PERMISSIONS if n.startswith("sitting.")) - {"sitting.schedule"}
#: The logins a client can hold, by the role that names them. "public" has no token;
#: "outsider" chairs another council and holds no role in this one.
LOGINS = ("chair", "vice_chair", "secretary", "delegate", "operator", "public", "outsider")
#: Answers that are the permission refusal (per transport; public HTTP has no token at all;
#: a member of another council is refused at the hello or the request).
DENIED_WS = {"permission.denied"}
DENIED_HTTP = {"permission.denied"}
DENIED_HTTP_PUBLIC = {"permission.denied", "auth.invalid"}
DENIED_OUTSIDER = {"permission.denied", "auth.not_a_member"}
#: What any permission-style refusal looks like: never the answer to an allowed case.
REFUSALS = {"permission.denied", "auth.invalid", "auth.not_a_member", "auth.operator_only"}
#: "No such sitting": nothing exists to be a member of, so only the operator's
#: `sitting.schedule` is allowed; everything else is refused, as unknown or not permitted.
DENIED_ABSENT = {"permission.denied", "sitting.unknown", "auth.invalid", "auth.not_a_member"}


def test_every_command_of_the_table_has_a_schema_and_every_phase_a_path() -> None:
    assert set(PERMISSIONS) == set(COMMANDS), "the table and the command union disagree"
    assert set(PATH) == set(Phase), "a new phase needs a path here"
    assert LIFECYCLE, "no lifecycle command found"


# Sample bodies derived from each command's schema (tests/server/frames.py)


def test_every_sample_body_passes_the_schema_of_both_codecs() -> None:
    for name in PERMISSIONS:
        frame = {"t": "cmd", "id": "c1", "cmd": body_of(name)}
        for codec, data in (
            (CODECS[MSGPACK], msgspec.msgpack.encode(frame)),
            (CODECS[JSON], msgspec.json.encode(frame)),
        ):
            try:
                decoded = codec.decode(data)
            except FrameError as exc:  # pragma: no cover - a failure names the command
                raise AssertionError(f"{name}: {exc}") from exc
            assert type(decoded.cmd).__struct_config__.tag == name  # type: ignore[union-attr]


# The cases


@dataclass(frozen=True)
class Case:
    transport: str  # "ws" | "http"
    phase: Phase | None  # None: no such sitting
    login: str
    command: str
    allowed: bool


def held_roles(login: str, roles: dict[str, frozenset[Role]]) -> frozenset[Role]:
    return roles.get(login, frozenset())


def allowed(command: str, held: frozenset[Role], phase: Phase | None) -> bool:
    permit = PERMISSIONS[command]
    if phase is None:
        return bool(held & permit.roles) and not permit.phases
    return phase in permit.phases and bool(held & permit.roles)


def cases(roles: dict[str, frozenset[Role]]) -> Iterator[Case]:
    for transport in ("ws", "http"):
        phases: list[Phase | None] = list(Phase)
        if transport == "http":
            phases.append(None)  # a socket cannot reach a sitting that does not exist
        for phase in phases:
            for login in LOGINS:
                for command in PERMISSIONS:
                    ok = allowed(command, held_roles(login, roles), phase)
                    yield Case(transport, phase, login, command, ok)


# The hub and its logins


@dataclass
class World:
    hub: HubProcess
    http: httpx.AsyncClient
    tokens: dict[str, str | None]
    roles: dict[str, frozenset[Role]]
    council: str
    chair: str
    roster: dict[str, Any]  # the demo council as the registry holds it, in a command's shape

    def body(self, name: str, sitting: str) -> dict[str, Any]:
        """The sample body of ``name``; a schedule names the sitting it is sent to and the
        registered roster, so that only the permission table can refuse it."""
        body = body_of(name)
        if name == "sitting.schedule":
            body.update(sitting=sitting, council=self.roster)
        return body


@pytest.fixture(scope="module")
def matrix_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    # A high command rate: the matrix pipelines many commands per connection and principal.
    h = HubProcess(
        tmp_path_factory.mktemp("matrix"),
        {"NGHITRUONG_COMMANDS_PER_S": "100000", "NGHITRUONG_FRAMES_PER_S": "100000"},
    )
    h.start(demo=True)
    yield h
    h.stop()


@dataclass(frozen=True)
class Accounts:
    tokens: dict[str, str | None]
    roles: dict[str, frozenset[Role]]
    council: str


@pytest.fixture(scope="module")
def accounts(matrix_hub: HubProcess) -> Accounts:
    """One login per role: the presiding roles by the role they add, the delegate as a
    member who holds nothing else; the operator; the public with no token."""
    tokens: dict[str, str | None] = {"public": None}
    roles: dict[str, frozenset[Role]] = {"operator": frozenset({Role.OPERATOR})}
    council = ""

    def login(username: str) -> dict[str, Any]:
        r = httpx.post(
            matrix_hub.url + "/api/login",
            json={"username": username, "password": matrix_hub.logins[username]},
            timeout=TIMEOUT,
        )
        r.raise_for_status()
        return dict(r.json())

    operator = login("vanhanh")["token"]
    tokens["operator"] = operator
    tokens["outsider"] = outsider(matrix_hub.url, operator)
    roles["outsider"] = frozenset()  # the chair of another council holds nothing here
    for username in sorted(u for u in matrix_hub.logins if u != "vanhanh"):
        if len(tokens) == len(LOGINS):
            break
        answer = login(username)
        held = frozenset(Role(x) for x in answer["roles"])
        council = answer["council"]
        adds = [r.value for r in (Role.CHAIR, Role.VICE_CHAIR, Role.SECRETARY) if r in held]
        name = adds[0] if adds else "delegate" if held == {Role.DELEGATE} else None
        if name is not None and name not in tokens:
            tokens[name], roles[name] = answer["token"], held
    assert set(tokens) == set(LOGINS), sorted(tokens)
    return Accounts(tokens, roles, council)


def outsider(url: str, operator: str) -> str:
    """The token of the chair of another council, made through the operator's API."""
    with httpx.Client(base_url=url, headers=bearer(operator), timeout=TIMEOUT) as http:
        council = f"hdnd-khac-{secrets.token_hex(3)}"
        r = http.post("/api/councils", json={"id": council, "name": "HĐND khác", "total_seats": 5})
        assert r.status_code == 201, r.text
        r = http.post(
            f"/api/councils/{council}/members",
            json={"name": "Chủ tọa khác", "roles": ["chair", "delegate"]},
        )
        assert r.status_code == 201, r.text
        r = http.post(f"/api/members/{r.json()['id']}/login", json={})
        r.raise_for_status()
        username, password = r.json()["username"], r.json()["password"]
        r = http.post("/api/login", json={"username": username, "password": password})
        r.raise_for_status()
        return str(r.json()["token"])


@pytest.fixture
async def world(matrix_hub: HubProcess, accounts: Accounts) -> AsyncIterator[World]:
    # Idle connections are dropped well before uvicorn's keep-alive (5 s) closes them, so a
    # request never races the server's close; 16 at a time keep a busy machine steady.
    limits = httpx.Limits(max_connections=16, keepalive_expiry=1.0)
    timeout = httpx.Timeout(TIMEOUT, pool=None)
    async with httpx.AsyncClient(base_url=matrix_hub.url, timeout=timeout, limits=limits) as http:
        token = accounts.tokens["chair"]
        assert token is not None
        roster = dict((await http.get(f"/api/sittings/{SITTING}")).json()["council"])
        yield World(
            matrix_hub, http, accounts.tokens, accounts.roles, accounts.council, token, roster
        )


def bearer(token: str | None) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"} if token else {}


async def http_command(
    w: World, sitting: str, token: str | None, cmd: dict[str, Any], **extra: Any
) -> tuple[int, dict[str, Any]]:
    r = await w.http.post(
        f"/api/sittings/{sitting}/commands",
        json={"id": secrets.token_hex(8), "cmd": cmd, **extra},
        headers=bearer(token),
    )
    return r.status_code, dict(r.json())


async def sitting_in(w: World, phase: Phase) -> str:
    """A fresh sitting of the demo council, driven by its chair into ``phase``."""
    r = await w.http.post(
        "/api/sittings",
        json={
            "council": w.council,
            "title": "Ma trận quyền",
            "scheduled_at": int(time.time() * 1000),
            "rules": {"quorum_to_open": False},
        },
        headers=bearer(w.tokens["operator"]),
    )
    assert r.status_code == 201, r.text
    sitting = str(r.json()["id"])
    for step in PATH[phase]:
        status, answer = await http_command(w, sitting, w.chair, body_of(step))
        assert status == 200 and answer["ok"], (phase, step, answer)
    r = await w.http.get(f"/api/sittings/{sitting}")
    assert r.json()["phase"] == phase.value
    return sitting


# Running the cases


Answer = tuple[str, dict[str, Any]]  # ("ok" or the refusal code, params)


async def receive(ws: Any) -> dict[str, Any]:
    """The next frame of a MessagePack socket."""
    raw = await ws.recv()
    assert isinstance(raw, bytes), raw
    frame = msgspec.msgpack.decode(raw)
    assert isinstance(frame, dict), frame
    return frame


async def refused_hello(w: World, sitting: str, token: str | None, close: int = 1008) -> Answer:
    """The error a hello is refused with; the hub must then close the socket with ``close``."""
    url = w.hub.url.replace("http", "ws", 1) + "/ws"
    async with websockets.connect(
        url,
        subprotocols=[MSGPACK],  # type: ignore[list-item]
        open_timeout=TIMEOUT,
    ) as ws:
        await ws.send(msgspec.msgpack.encode({"t": "hello", "sitting": sitting, "token": token}))
        frame = await asyncio.wait_for(receive(ws), TIMEOUT)
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), TIMEOUT)
        assert ws.close_code == close, ws.close_code
    assert frame["t"] == "error", frame
    return str(frame["code"]), dict(frame.get("params", {}))


async def run_ws(w: World, sitting: str, login: str, commands: list[str]) -> list[Answer]:
    """One connection, every command pipelined; the answers in the commands' order."""
    if login == "outsider":  # refused at the hello: no command can be sent at all
        return [await refused_hello(w, sitting, w.tokens[login])] * len(commands)
    url = w.hub.url.replace("http", "ws", 1) + "/ws"
    async with websockets.connect(
        url,
        subprotocols=[MSGPACK],  # type: ignore[list-item]
        max_size=None,
        open_timeout=TIMEOUT,
    ) as ws:
        hello = {"t": "hello", "sitting": sitting, "token": w.tokens[login]}
        await ws.send(msgspec.msgpack.encode(hello))
        ids = [f"m{i}-{secrets.token_hex(4)}" for i in range(len(commands))]
        answers: dict[str, Answer] = {}
        welcomed = False
        async with asyncio.timeout(TIMEOUT):
            while len(answers) < len(ids):
                frame = await receive(ws)
                if frame["t"] == "welcome" and not welcomed:
                    welcomed = True
                    assert frame["role"] != Role.SYSTEM.value, frame
                    for cid, name in zip(ids, commands, strict=True):
                        cmd = {"t": "cmd", "id": cid, "cmd": w.body(name, sitting)}
                        await ws.send(msgspec.msgpack.encode(cmd))
                elif frame["t"] == "ack":
                    answers[frame["id"]] = ("ok", {})
                elif frame["t"] == "error":
                    assert frame.get("id") in ids, frame  # a refusal names its command
                    answers[frame["id"]] = (frame["code"], dict(frame.get("params", {})))
        return [answers[cid] for cid in ids]


async def run_http(w: World, sitting: str, login: str, commands: list[str]) -> list[Answer]:
    async def one(name: str) -> Answer:
        status, answer = await http_command(w, sitting, w.tokens[login], w.body(name, sitting))
        if status == 200 and answer.get("ok"):
            return "ok", {}
        assert status >= 400, (status, answer)
        return str(answer["code"]), dict(answer.get("params", {}))

    return list(await asyncio.gather(*(one(n) for n in commands)))


def verdict(case: Case, answer: Answer) -> str | None:
    """None if the answer is what the table says, else what is wrong."""
    code, params = answer
    if case.phase is None:
        denied = DENIED_ABSENT
    elif case.transport == "ws":
        denied = DENIED_WS
    else:
        denied = DENIED_HTTP_PUBLIC if case.login == "public" else DENIED_HTTP
    if case.login == "outsider" and case.phase is not None:
        denied = DENIED_OUTSIDER
    if case.allowed:
        return f"allowed by the table, refused with {code}" if code in REFUSALS else None
    if code not in denied:
        return f"refused by the table, answered {code}"
    if code == "permission.denied" and params.get("command") not in (None, case.command):
        return f"permission.denied names {params.get('command')}"
    return None


async def test_permission_matrix_socket_and_http(world: World) -> None:
    w = world
    all_cases = list(cases(w.roles))
    # Lifecycle cases the table allows each get a sitting of their own; the rest of a
    # phase's cases share one sitting per transport (a refused case changes nothing).
    own = [c for c in all_cases if c.allowed and c.command in LIFECYCLE and c.phase is not None]
    shared = [c for c in all_cases if c not in own and c.phase is not None]
    phases = sorted({(c.transport, c.phase) for c in shared}, key=str)
    created = await asyncio.gather(
        *(sitting_in(w, phase) for _t, phase in phases),  # type: ignore[arg-type]
        *(sitting_in(w, c.phase) for c in own),  # type: ignore[arg-type]
    )
    shared_sitting = dict(zip(phases, created[: len(phases)], strict=True))
    own_sitting = dict(zip(own, created[len(phases) :], strict=True))

    groups: dict[tuple[str, str, str], list[Case]] = {}
    for case in shared:
        sitting = shared_sitting[(case.transport, case.phase)]
        groups.setdefault((case.transport, sitting, case.login), []).append(case)
    for case in own:
        groups[(case.transport, own_sitting[case], case.login)] = [case]

    sockets = asyncio.Semaphore(4)  # a few handshakes at a time: steady on a busy machine

    async def run(key: tuple[str, str, str], group: list[Case]) -> list[Answer]:
        transport, sitting, login = key
        names = [c.command for c in group]
        if transport == "ws":
            async with sockets:
                return await run_ws(w, sitting, login, names)
        return await run_http(w, sitting, login, names)

    # One transport after the other: a hub flooded with HTTP requests is slow to shake hands.
    answers: dict[tuple[str, str, str], list[Answer]] = {}
    for transport in ("ws", "http"):
        keys = [k for k in groups if k[0] == transport]
        got = await asyncio.gather(*(run(k, groups[k]) for k in keys))
        answers.update(zip(keys, got, strict=True))
    results = [
        (case, answer)
        for key, group in groups.items()
        for case, answer in zip(group, answers[key], strict=True)
    ]

    # No such sitting (HTTP only): everything refused but the operator's schedule of it.
    async def absent_case(case: Case) -> tuple[Case, Answer]:
        sitting = f"khong-co-{secrets.token_hex(4)}"
        cmd = w.body(case.command, sitting)
        status, answer = await http_command(w, sitting, w.tokens[case.login], cmd)
        code = "ok" if status == 200 and answer.get("ok") else str(answer["code"])
        return case, (code, dict(answer.get("params", {})))

    results += await asyncio.gather(*(absent_case(c) for c in all_cases if c.phase is None))

    wrong = [(c, a, why) for c, a in results if (why := verdict(c, a)) is not None]
    summary = Counter((c.transport, "allowed" if c.allowed else "denied") for c, _ in results)
    print(
        f"\npermission matrix: {len(PERMISSIONS)} commands × {len(LOGINS)} logins × "
        f"{len(Phase)} phases (+ no sitting over HTTP): {len(results)} cases, {dict(summary)}"
    )
    assert len(results) == len(PERMISSIONS) * len(LOGINS) * (2 * len(Phase) + 1)
    assert not wrong, "\n".join(
        f"{c.transport} {c.phase} {c.login} {c.command}: {why} {a[1]}" for c, a, why in wrong
    )


async def real_council(w: World) -> dict[str, Any]:
    """The demo council's roster as the registry holds it, in the command's shape."""
    r = await w.http.get(f"/api/sittings/{SITTING}")
    return dict(r.json()["council"])


# The system role is the hub's own: no client can reach it


async def test_no_client_reaches_the_system_role(world: World) -> None:
    """Commands only the system may issue are refused to every login, on both transports,
    even when the frame claims the system role or an actor."""
    w = world
    system_only = [n for n, p in PERMISSIONS.items() if Role.SYSTEM in p.roles]
    assert "turn.expire" in system_only
    sitting = await sitting_in(w, Phase.IN_SESSION)
    claims = {"role": "system", "actor": None, "as": "system"}
    for login in LOGINS:
        if login == "outsider":
            continue  # refused at the hello: the matrix covers it
        held = w.roles.get(login, frozenset())
        async with Client(w.hub.url, sitting, w.tokens[login], reconnect=False) as client:
            assert client.welcome["role"] != Role.SYSTEM.value
            for name in system_only:
                if allowed(name, held, Phase.IN_SESSION):
                    continue  # a client role the table allows too (vote.close: the chair)
                with pytest.raises(CommandRefused) as refused:
                    await client.command({**body_of(name), **claims}, timeout=TIMEOUT)
                assert refused.value.code == "permission.denied", (login, name)
                assert refused.value.params.get("role") != Role.SYSTEM.value
                status, answer = await http_command(
                    w, sitting, w.tokens[login], {**body_of(name), **claims}, **claims
                )
                assert status >= 400, (login, name, answer)
                assert answer["code"] in DENIED_HTTP_PUBLIC, (login, name, answer)
                assert answer.get("params", {}).get("role") != Role.SYSTEM.value


async def test_no_socket_reaches_a_sitting_that_does_not_exist(world: World) -> None:
    """The matrix's "no such sitting" column on the socket: every login's hello is refused
    with `sitting.unknown` and the close code 4404, before any command can be sent."""
    for login in LOGINS:
        code, params = await refused_hello(
            world, f"khong-co-{secrets.token_hex(4)}", world.tokens[login], close=4404
        )
        assert code == "sitting.unknown", (login, code, params)


# Defect 8: an operator's HTTP `sitting.schedule` must schedule the path's sitting, with the
# council's roster as the registry holds it.


@pytest.mark.parametrize("other", ["fresh", "existing"])
async def test_http_schedule_must_name_the_path_sitting(world: World, other: str) -> None:
    w = world
    path = f"duong-dan-{secrets.token_hex(4)}"
    named = f"ten-khac-{secrets.token_hex(4)}" if other == "fresh" else SITTING
    cmd = {**body_of("sitting.schedule"), "sitting": named, "council": await real_council(w)}
    before = (await w.http.get(f"/api/sittings/{SITTING}")).json()
    status, answer = await http_command(w, path, w.tokens["operator"], cmd)
    assert status >= 400 and not answer.get("ok"), answer
    assert (await w.http.get(f"/api/sittings/{path}")).status_code == 404
    if other == "fresh":
        assert (await w.http.get(f"/api/sittings/{named}")).status_code == 404
    else:
        assert (await w.http.get(f"/api/sittings/{SITTING}")).json() == before


async def test_http_schedule_must_carry_the_registry_roster(world: World) -> None:
    w = world
    path = f"duong-dan-{secrets.token_hex(4)}"
    council = await real_council(w)
    invented = {
        **council,
        "members": [{"id": "m-la", "name": "Người lạ", "seat": "", "roles": ["chair"]}],
        "total_seats": 1,
    }
    cmd = {**body_of("sitting.schedule"), "sitting": path, "council": invented}
    status, answer = await http_command(w, path, w.tokens["operator"], cmd)
    assert status >= 400 and not answer.get("ok"), answer
    assert (await w.http.get(f"/api/sittings/{path}")).status_code == 404
