"""`nghitruong serve`: the hub on uvicorn."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import uvicorn

from server.app import create_app
from server.config import Config, proxies
from server.i18n import t
from server.journal.preflight import preflight
from server.transport import Protocol


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="nghitruong serve", description="Run the Nghị trường hub."
    )
    parser.add_argument("--host", help="address to listen on (NGHITRUONG_HOST, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (NGHITRUONG_PORT, 8000)")
    parser.add_argument("--data", type=Path, help="data folder (NGHITRUONG_DATA, ./data)")
    parser.add_argument(
        "--demo",
        action="store_true",
        default=None,
        help="seed a demo council and sitting once (NGHITRUONG_DEMO)",
    )
    parser.add_argument("--journal", metavar="URL", help=t("cli.serve.journal", "en"))
    parser.add_argument(
        "--unsafe-dev", action="store_true", default=None, help=t("cli.serve.unsafe_dev", "en")
    )
    args = parser.parse_args(argv)
    config = Config.from_env(
        host=args.host,
        port=args.port,
        data=args.data,
        demo=args.demo,
        journal=args.journal,
        unsafe_dev=args.unsafe_dev,
    )
    try:
        trusted = proxies(config.trusted_proxies)
    except ValueError as err:
        print(t("cli.serve.bad_proxy", entry=str(err)), file=sys.stderr)
        return 2
    problem = preflight(config)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    if config.journal and config.unsafe_dev:
        print(t("journal.unsafe_dev", where=config.journal.rpartition("@")[2]), file=sys.stderr)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    uvicorn.run(
        create_app(config),
        host=config.host,
        port=config.port,
        ws=Protocol,  # uvicorn's sans-I/O protocol, able to cut a peer that never reads
        ws_max_size=config.max_frame_bytes,
        ws_ping_interval=20,
        ws_ping_timeout=20,
        ws_per_message_deflate=config.ws_deflate,
        # uvicorn believes X-Forwarded-For from 127.0.0.1 unless told otherwise: a local
        # client could then pick its own address. Only the configured proxies are believed.
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
        log_level="warning",
        lifespan="on",
    )
    return 0
