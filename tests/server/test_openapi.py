"""The OpenAPI description: it covers every route, docs/openapi.yaml is what the code
generates and a live hub serves, and a live demo hub answers as it says (schemathesis:
no 5xx, every status documented, every response body conforms to its schema)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)
from starlette.routing import Route

from server.app import create_app
from server.config import Config
from server.openapi import OPS, Upload, build, to_yaml
from tests.server.conftest import ROOT, SCALE, SITTING, HubProcess, operator_token

DOC = ROOT / "docs" / "openapi.yaml"
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
# Examples per target: the whole run stays well under a minute; more for a longer hunt.
EXAMPLES = int(os.environ.get("NGHITRUONG_FUZZ_EXAMPLES", "12"))
LOGOUTS = 3  # logout has no input to vary; each one spends a token (one Argon2 login)
COUNCIL = "hdnd-phuong-ben-thanh"


def test_docs_openapi_yaml_is_what_the_code_generates() -> None:
    """If this fails, run `nghitruong openapi docs/openapi.yaml` and commit the result."""
    assert yaml.safe_load(DOC.read_text(encoding="utf-8")) == build()
    assert DOC.read_text(encoding="utf-8") == to_yaml(build())


def test_every_route_is_described(tmp_path: Path) -> None:
    app = create_app(Config(data=tmp_path, web=tmp_path / "no-web"))
    served = {
        (method.lower(), route.path)
        for route in app.routes
        if isinstance(route, Route)
        and (route.path.startswith("/api/") or route.path in ("/healthz", "/metrics"))
        for method in route.methods or ()
        if method != "HEAD"
    }
    assert {(op.method, op.path) for op in OPS} == served


def test_the_hub_serves_the_same_document(hub: HubProcess) -> None:
    assert httpx.get(hub.url + "/api/openapi.json").json() == build()


@pytest.fixture(scope="module")
def live(hub: HubProcess) -> Iterator[tuple[Any, str, list[str]]]:
    """The schema as the hub serves it, an operator's token, and spare tokens for logout
    (taken before the fuzzer's wrong passwords reach the login limiter)."""
    schema = schemathesis.openapi.from_url(hub.url + "/api/openapi.json")
    spare = [operator_token(hub) for _ in range(LOGOUTS + 1)]
    yield schema, operator_token(hub), spare


# (method, path, fixed path parameters, fixed body fields, generation mode): each route with
# generated data; the routes with ids in the path (or the body) once more on the demo's own
# sitting and council, so the fuzzer reaches past the 404; and the routes with a JSON body
# once more with invalid bodies (schemathesis's negative mode: 4xx, never 5xx).
Target = tuple[str, str, dict[str, str] | None, dict[str, str] | None, str]
TARGETS: list[Target] = [
    *((op.method, op.path, None, None, "positive") for op in OPS),
    ("get", "/api/sittings/{sitting}", {"sitting": SITTING}, None, "positive"),
    ("get", "/api/sittings/{sitting}/log", {"sitting": SITTING}, None, "positive"),
    ("post", "/api/sittings/{sitting}/commands", {"sitting": SITTING}, None, "positive"),
    ("post", "/api/sittings", None, {"council": COUNCIL}, "positive"),
    ("get", "/api/councils/{council}/members", {"council": COUNCIL}, None, "positive"),
    ("post", "/api/councils/{council}/members", {"council": COUNCIL}, None, "positive"),
    *(
        (op.method, op.path, None, None, "negative")
        for op in OPS
        if op.body is not None and op.body is not Upload
    ),
    ("post", "/api/sittings/{sitting}/commands", {"sitting": SITTING}, None, "negative"),
]


def _name(target: Target) -> str:
    method, path, fixed, fields, mode = target
    return f"{method.upper()} {path}{' (demo)' if fixed or fields else ''} {mode}"


@pytest.mark.parametrize(
    ("method", "path", "fixed", "fields", "mode"), TARGETS, ids=[_name(t) for t in TARGETS]
)
def test_live_hub_conforms(
    live: tuple[Any, str, list[str]],
    method: str,
    path: str,
    fixed: dict[str, str] | None,
    fields: dict[str, str] | None,
    mode: str,
) -> None:
    schema, token, spare = live
    operation = schema[path][method.upper()]
    secured = bool(operation.definition.raw.get("security"))
    cases = operation.as_strategy(
        generation_mode=schemathesis.GenerationMode(mode), path_parameters=fixed
    )

    @given(case=cases)
    @settings(
        max_examples=LOGOUTS if path == "/api/logout" else EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same examples on every run: a steady `make test`
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        if fields and isinstance(case.body, dict):
            case.body.update(fields)
        bearer = spare.pop() if path == "/api/logout" and spare else token
        headers = {"Authorization": f"Bearer {bearer}"} if secured else None
        case.call_and_validate(headers=headers, checks=CHECKS, timeout=10 * SCALE)

    check()


def test_huge_integers_are_refused_not_a_500(
    hub: HubProcess, live: tuple[Any, str, list[str]]
) -> None:
    op = {"authorization": f"Bearer {live[1]}"}
    before = httpx.get(hub.url + "/api/sittings").json()
    body = {"council": COUNCIL, "title": "Tràn số", "scheduled_at": 2**63}
    r = httpx.post(hub.url + "/api/sittings", json=body, headers=op)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "request.invalid"
    assert httpx.get(hub.url + "/api/sittings").json() == before
    # Any integer a client writes into a command is bounded: a huge agenda position used
    # to pass the schema and fail the journal's encoder (a traceback, server.unavailable).
    cmd = {"type": "agenda.add", "title": "Tràn số", "position": 2**70}
    r = httpx.post(
        f"{hub.url}/api/sittings/{SITTING}/commands", json={"id": "big", "cmd": cmd}, headers=op
    )
    assert r.status_code == 422 and r.json()["code"] == "request.invalid", r.text
