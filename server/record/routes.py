"""The record after the sitting over HTTP, without a login (docs/open-data.md,
docs/http-api.md#the-record-after-the-sitting):

- ``GET /api/sittings/{sitting}/minutes.pdf`` and ``.docx``: the minutes (``?lang=en``);
- ``GET /api/sittings/{sitting}/votes.json`` (Popolo) and ``votes.csv``: the open data;
- ``GET /results/``, ``/results/councils/{council}``, ``/results/sittings/{sitting}``: the
  public result pages, server-rendered HTML under the consoles' CSP (no script at all).

Everything is drawn from the public view of the sitting's log (``project_log``): the
records up to the first ballot of a vote still open, so no page or file can show a
choice of an open vote; the minutes verify the chain before anything is said.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from chamber.ids import VoteForm, VoteKind, VoteStatus
from chamber.log import load
from chamber.minutes import Attended, Minutes, minutes, present_members
from chamber.projection import Audience, project_log
from server.http_base import Services, endpoint
from server.i18n import LANGUAGES, negotiate, t
from server.journal import Journal, Stored
from server.record import words as w
from server.record.compose import compose
from server.record.docx import render_docx
from server.record.opendata import popolo, votes_csv
from server.record.pdf import render_pdf
from server.registry import NotFound

HERE = Path(str(resources.files("server.record")))
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _public(stored: list[Stored]) -> Minutes:
    view = project_log([load(r.payload, r.hash) for r in stored], Audience.PUBLIC)
    return minutes(view.records, view.held_back)


async def public_minutes(journal: Journal, sitting: str) -> Minutes:
    """The minutes of what the public may see of the sitting's log. Decoding, checking
    the chain and projecting a long day takes tens of milliseconds: in a thread, off the
    event loop that serves the live sitting."""
    stored = await journal.read(sitting)
    return await asyncio.to_thread(_public, stored)


def lang_for(request: Request) -> str:
    """``?lang=`` if it names a language, else the Accept-Language header's."""
    asked = request.query_params.get("lang", "")
    return asked if asked in LANGUAGES else negotiate(request.headers.get("accept-language"))


async def _sitting_minutes(request: Request, s: Services) -> Minutes:
    sitting = request.path_params["sitting"]
    await s.hub.sequencer(sitting)  # UnknownSitting: 404
    return await public_minutes(s.hub.journal, sitting)


def _file(data: bytes, media_type: str, name: str) -> Response:
    return Response(
        data,
        media_type=media_type,
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


async def minutes_pdf(request: Request, s: Services) -> Response:
    m = await _sitting_minutes(request, s)
    lang = lang_for(request)
    data = await asyncio.to_thread(lambda: render_pdf(compose(m, lang)))
    return _file(data, "application/pdf", f"{m.sitting}.bien-ban.{lang}.pdf")


async def minutes_docx(request: Request, s: Services) -> Response:
    m = await _sitting_minutes(request, s)
    lang = lang_for(request)
    data = await asyncio.to_thread(lambda: render_docx(compose(m, lang)))
    return _file(data, DOCX, f"{m.sitting}.bien-ban.{lang}.docx")


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def votes_json(request: Request, s: Services) -> Response:
    m = await _sitting_minutes(request, s)
    body = msgspec.json.encode(popolo(m, _base(request)))
    return Response(body, media_type="application/json", headers={"x-log-head": m.head})


async def votes_csv_route(request: Request, s: Services) -> Response:
    m = await _sitting_minutes(request, s)
    response = _file(votes_csv(m), "text/csv; charset=utf-8", f"{m.sitting}.votes.csv")
    response.headers["x-log-head"] = m.head
    return response


# Pages


@cache
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(HERE / "templates")),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def _page(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    lang = lang_for(request)

    def tr(key: str, **params: object) -> str:
        return t(key, lang, **params)

    html = (
        _env()
        .get_template(template)
        .render(
            t=tr,
            lang=lang,
            other="en" if lang == "vi" else "vi",
            path=request.url.path,
            w=w,
            VoteStatus=VoteStatus,
            VoteForm=VoteForm,
            VoteKind=VoteKind,
            Attended=Attended,
            present_members=present_members,
            **values,
        )
    )
    return HTMLResponse(html, status_code=status, headers={"content-language": lang})


def page(
    handler: Callable[[Request, Services], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """A page's handler with its 404s answered as a page."""
    inner = endpoint(handler)

    async def wrapped(request: Request) -> Response:
        response = await inner(request)
        if response.status_code == 404:
            return _page(request, "notfound.html", 404)
        return response

    return wrapped


async def index(request: Request, s: Services) -> Response:
    councils = await asyncio.to_thread(s.registry.councils)
    return _page(request, "index.html", councils=councils)


async def council_page(request: Request, s: Services) -> Response:
    """A council's sittings, newest first, each with its attendance and its votes'
    outcomes (from the same public view of its log as the sitting's own page)."""
    council = await asyncio.to_thread(s.registry.council, request.path_params["council"])
    rows = await asyncio.to_thread(s.registry.sittings, council.id)
    known = set(await s.hub.journal.sittings())
    sittings = []
    for row in sorted(rows, key=lambda r: -r.scheduled_at):
        m = await public_minutes(s.hub.journal, row.id) if row.id in known else None
        sittings.append((row, m))
    return _page(request, "council.html", council=council, sittings=sittings)


async def sitting_page(request: Request, s: Services) -> Response:
    m = await _sitting_minutes(request, s)
    try:
        council = await asyncio.to_thread(s.registry.council, m.council)
        parent = council.id
    except NotFound:  # a sitting scheduled by command for a council not in the registry
        parent = ""
    return _page(request, "sitting.html", m=m, present=present_members(m), council_page=parent)


def routes() -> list[Route | Mount]:
    return [
        Route("/api/sittings/{sitting}/minutes.pdf", endpoint(minutes_pdf), methods=["GET"]),
        Route("/api/sittings/{sitting}/minutes.docx", endpoint(minutes_docx), methods=["GET"]),
        Route("/api/sittings/{sitting}/votes.json", endpoint(votes_json), methods=["GET"]),
        Route("/api/sittings/{sitting}/votes.csv", endpoint(votes_csv_route), methods=["GET"]),
        Route("/results/", page(index), methods=["GET"]),
        Route("/results/councils/{council}", page(council_page), methods=["GET"]),
        Route("/results/sittings/{sitting}", page(sitting_page), methods=["GET"]),
        Mount("/results/static", StaticFiles(directory=HERE / "static"), name="record-static"),
        Mount("/results/fonts", StaticFiles(directory=HERE / "fonts"), name="record-fonts"),
    ]
