"""The ASGI application: WebSocket, HTTP API, health, metrics and the web consoles."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute

from server import http_api, openapi, video_api
from server.auth import Auth
from server.cluster import Keeper
from server.config import Config
from server.connection import websocket_endpoint
from server.hub import Hub
from server.journal import make_journal
from server.journal.lease import Leases
from server.journal.redis import RedisJournal
from server.metrics import Metrics
from server.presence import SharedPresence
from server.record import routes as record
from server.registry import Registry
from server.registry_redis import DocumentBlobs, ReplicatedRegistry
from server.relay import Relay
from server.security import SecurityHeaders, UnreadBody
from server.sequencer import wall_ms
from server.sessions import SessionWatch
from server.video import Video, media_config
from server.webfiles import WebFiles

VERSION = "0.1.0"
SWEEP_S = 600  # expired sessions and stale login-throttle counts are dropped this often
log = logging.getLogger(__name__)


async def healthz(request: Request) -> Response:
    services: http_api.Services = request.app.state.services
    return JSONResponse({"ok": True, "version": VERSION, "journal": services.hub.journal.name})


async def metrics(request: Request) -> Response:
    services: http_api.Services = request.app.state.services
    m = services.hub.metrics
    longest, total = services.hub.queue_depths()
    m.queue_max.set(longest)
    m.queue_sum.set(total)
    return Response(generate_latest(m.registry), media_type=CONTENT_TYPE_LATEST)


async def sweep_sessions(auth: Auth) -> None:
    while True:
        try:
            await asyncio.to_thread(auth.sweep, wall_ms())
        except Exception:  # a busy or failing disk: try again at the next sweep
            log.exception("session sweep failed")
        await asyncio.sleep(SWEEP_S)


def create_app(config: Config) -> Starlette:
    journal = make_journal(config.journal, config.data, config.unsafe_dev)
    registry: Registry
    blobs: DocumentBlobs | None = None
    if isinstance(journal, RedisJournal):  # the nodes share the registry and the bytes
        registry = ReplicatedRegistry(journal.target)
        blobs = DocumentBlobs(journal.target, registry.redis)
    else:
        registry = Registry(config.data)
    auth = Auth(registry, session_ttl_ms=config.session_ttl_s * 1000)
    keeper = None
    if isinstance(journal, RedisJournal):  # one node among others: leases per sitting
        leases = Leases(journal, config.lease_ms)
        hub = Hub(
            journal,
            config,
            Metrics(),
            claims=leases,
            relay=Relay(journal, max(3.0, 2.5 * config.lease_ms / 1000)),
            # A dead node's connections stop counting twice the lease after its death.
            shared=SharedPresence(journal, leases.node, 2 * config.lease_ms),
        )
        keeper = Keeper(hub, journal, leases)
    else:
        hub = Hub(journal, config, Metrics())
    watch = SessionWatch(registry, wall_ms, config.session_check_s)
    auth.on_revoke.append(watch.check_now)
    if isinstance(registry, ReplicatedRegistry):  # ended on another node
        registry.on_revoke.append(watch.check_now)
    video = Video(hub, media_config(config)) if config.media else None
    services = http_api.Services(
        hub, registry, auth, config.data / "documents", config.max_upload_bytes, watch, video, blobs
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await journal.open()
        if isinstance(registry, ReplicatedRegistry):
            await registry.start()
        await hub.start()
        if keeper is not None:
            await keeper.start()
        await watch.start()
        if config.demo:
            from server.seed import seed

            await seed(services, config)
        sweeper = asyncio.create_task(sweep_sessions(auth))
        try:
            yield
        finally:
            await watch.stop()
            sweeper.cancel()
            await asyncio.gather(sweeper, return_exceptions=True)
            if video is not None:
                await video.stop()
            if keeper is not None:
                await keeper.stop()
            await hub.stop()
            if keeper is not None:
                await keeper.release_all()
            await journal.close()
            if isinstance(registry, ReplicatedRegistry):
                await registry.stop()
            registry.close()

    routes: list[Route | WebSocketRoute | Mount] = [
        WebSocketRoute("/ws", websocket_endpoint),
        Route("/healthz", healthz),
        Route("/metrics", metrics),
        Route("/api/openapi.json", openapi.endpoint, methods=["GET"]),
        *http_api.routes(),
        *video_api.routes(),
        *record.routes(),
    ]
    if config.web.is_dir():
        routes.append(Mount("/", WebFiles(directory=config.web, html=True), name="web"))
    middleware = [Middleware(SecurityHeaders), Middleware(UnreadBody)]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
    app.state.services = services
    app.state.config = config
    return app
