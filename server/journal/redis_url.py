"""Where the Redis journal is: `redis://[:PASSWORD@]HOST:PORT/DB` or
`redis+sentinel://[:PASSWORD@]HOST:PORT[,HOST:PORT…]/SERVICE[/DB]`, with optional query
parameters `replicas=N` (WAIT for N replicas before acknowledging) and `wait_ms=T` (how
long WAIT may take) and `prefix=P` (the keys' prefix, `nt` by default)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

import redis
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff
from redis.retry import Retry as SyncRetry
from redis.sentinel import Sentinel as SyncSentinel

from server.journal.base import JournalError


class BadJournalUrl(JournalError):
    code = "journal.bad_url"


@dataclass(frozen=True, slots=True)
class RedisTarget:
    hosts: tuple[tuple[str, int], ...]
    db: int = 0
    password: str | None = None
    service: str | None = None  # a Sentinel's master name
    replicas: int = 0
    wait_ms: int = 1000
    prefix: str = "nt"
    timeout_s: float = 1.0  # per socket operation: an outage is an error, not a hang

    def client(self) -> Redis:
        opts = {
            "db": self.db,
            "password": self.password,
            "socket_timeout": self.timeout_s,
            "socket_connect_timeout": self.timeout_s,
            # No silent retry: a lost reply is the sequencer's to handle (it reloads).
            "retry": Retry(NoBackoff(), 0),
        }
        if self.service is None:
            host, port = self.hosts[0]
            return Redis(host=host, port=port, **opts)  # type: ignore[arg-type]
        sentinel = Sentinel(  # type: ignore[no-untyped-call]
            list(self.hosts),
            socket_timeout=self.timeout_s,
            socket_connect_timeout=self.timeout_s,
        )
        master: Redis = sentinel.master_for(self.service, **opts)  # type: ignore[arg-type]
        return master

    def sync_client(self) -> redis.Redis:
        """A blocking client with the same bounds, for code that runs in a worker thread
        (the registry's writes, server/registry_redis.py)."""
        opts = {
            "db": self.db,
            "password": self.password,
            "socket_timeout": self.timeout_s,
            "socket_connect_timeout": self.timeout_s,
            "retry": SyncRetry(NoBackoff(), 0),
        }
        if self.service is None:
            host, port = self.hosts[0]
            return redis.Redis(host=host, port=port, **opts)  # type: ignore[arg-type]
        sentinel = SyncSentinel(  # type: ignore[no-untyped-call]
            list(self.hosts),
            socket_timeout=self.timeout_s,
            socket_connect_timeout=self.timeout_s,
        )
        master: redis.Redis = sentinel.master_for(self.service, **opts)  # type: ignore[no-untyped-call]
        return master


def parse(url: str) -> RedisTarget:
    """The target of ``url``; BadJournalUrl says what is wrong with it."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "redis+sentinel"):
        raise BadJournalUrl(url)
    netloc = parts.netloc.rpartition("@")
    password = unquote(netloc[0].partition(":")[2]) or None if netloc[1] else None
    try:
        default = 26379 if parts.scheme == "redis+sentinel" else 6379
        hosts = tuple(_host(h, default) for h in netloc[2].split(",") if h)
        query = {k: v[-1] for k, v in parse_qs(parts.query, strict_parsing=False).items()}
        path = [p for p in parts.path.split("/") if p]
        service = None
        if parts.scheme == "redis+sentinel":
            service, path = path[0], path[1:]
        if len(path) > 1 or not hosts or (parts.scheme == "redis" and len(hosts) > 1):
            raise ValueError(url)
        target = RedisTarget(
            hosts=hosts,
            db=int(path[0]) if path else 0,
            password=password,
            service=service,
            replicas=int(query.pop("replicas", "0")),
            wait_ms=int(query.pop("wait_ms", "1000")),
            prefix=query.pop("prefix", "nt"),
        )
    except (ValueError, IndexError):
        raise BadJournalUrl(url) from None
    if query or target.replicas < 0 or target.wait_ms <= 0 or not target.prefix:
        raise BadJournalUrl(url)
    return target


def _host(entry: str, default: int) -> tuple[str, int]:
    if entry.endswith("]") or ":" not in entry:
        return entry.strip("[]"), default
    host, _, port = entry.rpartition(":")
    return host.strip("[]"), int(port)
