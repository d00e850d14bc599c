"""Configuration: one frozen value from flags and environment variables."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, fields
from pathlib import Path

ENV_PREFIX = "NGHITRUONG_"


@dataclass(frozen=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 8000
    data: Path = Path("data")
    web: Path = Path(__file__).resolve().parent.parent / "clients" / "web" / "dist"
    max_frame_bytes: int = 64 * 1024  # a larger frame closes the connection (1009)
    commands_per_s: float = 20.0  # per principal, socket and HTTP; a burst of twice this
    frames_per_s: float = 40.0  # per connection, every frame; an unbroken flood closes it
    outbound_frames: int = 256  # per connection; past it the connection is resynced
    outbound_bytes: int = 1 << 20  # per connection: events past it resync, answers cut it
    stall_s: float = 10.0  # a connection this long behind is closed (1013)
    view_hz: float = 4.0  # conflated views per second, at most
    presence_grace_s: float = 20.0  # a remote delegate's blip shorter than this is forgiven
    resume_window: int = 5000  # events a reconnecting client may catch up on
    session_ttl_s: int = 12 * 3600
    session_check_s: float = 0.5  # open sockets are checked against the session store
    # Addresses or networks (comma-separated, e.g. "10.0.0.5,fd00::/64") of the reverse
    # proxies whose X-Forwarded-For/-Proto are believed; empty: nobody's (see proxies()).
    trusted_proxies: str = ""
    max_upload_bytes: int = 25 * 1024 * 1024
    # permessage-deflate would compress every frame once per connection, undoing the
    # encode-once-per-audience fan-out, and keeps a zlib state per connection.
    ws_deflate: bool = False
    demo: bool = False
    # The journal: empty for the embedded SQLite one in `data`; a `redis://HOST:PORT/DB` or
    # `redis+sentinel://HOST:PORT/SERVICE/DB` URL for the shared one (docs/operations.md).
    journal: str = ""
    # Accept a Redis that could lose acknowledged records (no AOF, no fsync always).
    unsafe_dev: bool = False
    lease_ms: int = 2000  # a sitting's sequencer lease on Redis; takeover within ~this
    # Video links (docs/media.md). ICE host candidates are gathered on these addresses
    # (comma-separated; empty: every interface, aioice's default); tests use 127.0.0.1.
    media: bool = True
    media_hosts: str = ""
    # STUN/TURN servers, comma-separated URLs ("stun:host:3478", "turn:host:3478?transport=udp");
    # TURN credentials come from the environment, never from the repository: either a
    # coturn `static-auth-secret` (each browser then gets its own credentials for
    # `turn_ttl_s`, the TURN REST API scheme) or a fixed user and credential.
    ice_servers: str = ""
    turn_secret: str = ""
    turn_ttl_s: int = 12 * 3600
    turn_username: str = ""
    turn_credential: str = ""
    media_max_endpoints: int = 200  # video links per sitting, screens included
    media_console_slots: int = 3  # live feeds a chair console shows at once

    @classmethod
    def from_env(cls, **overrides: object) -> Config:
        """Defaults, then NGHITRUONG_<FIELD> variables, then explicit overrides."""
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = os.environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = _parse(f.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def _parse(kind: object, raw: str) -> object:
    name = kind if isinstance(kind, str) else getattr(kind, "__name__", "")
    if name == "int":
        return int(raw)
    if name == "float":
        return float(raw)
    if name == "bool":
        return raw.lower() in {"1", "true", "yes", "on"}
    if name == "Path":
        return Path(raw)
    return raw


def proxies(raw: str) -> list[str]:
    """The trusted proxies of ``raw`` as networks; ValueError names an entry that is not an
    IP address or network (uvicorn would silently treat it as a literal host name, and
    "*" as everyone)."""
    networks = []
    for entry in (e.strip() for e in raw.split(",")):
        if entry:
            try:
                networks.append(str(ipaddress.ip_network(entry, strict=False)))
            except ValueError:
                raise ValueError(entry) from None
    return networks
