"""The peer of the vote storm: what a Python team would build instead of the hub.

python-socketio (`AsyncServer`, ASGI) under uvicorn, as the hub runs under uvicorn: a
delegate connects with `auth={"token": ...}` and emits `ballot`; the server counts it,
broadcasts the running tally to the room of screens (a client without a token joins the
room `screens`) and acknowledges the ballot with the tally it made. A member's last ballot
counts (a ballot again replaces it). No journal, no rules, no conflation: one room
broadcast per ballot, as the Socket.IO documentation suggests.

    python tests/load/socketio_peer.py PORT

The load generator speaks Engine.IO 4 / Socket.IO 5 over the websocket transport
(`/socket.io/?EIO=4&transport=websocket`, tests/load/node/storm.mjs with `sio`).
"""

from __future__ import annotations

import sys
from typing import Any

import socketio
import uvicorn

# The storm lasts seconds: a ping every 25 s (Socket.IO's default) is answered by the
# generator, but the storm's figures should not depend on when it falls.
sio = socketio.AsyncServer(
    async_mode="asgi", transports=["websocket"], ping_interval=60, ping_timeout=60
)
app = socketio.ASGIApp(sio)
CHOICES = ("approve", "reject", "abstain")
members: dict[str, str] = {}  # sid -> the delegate's token
ballots: dict[str, str] = {}  # token -> choice
counts = dict.fromkeys(CHOICES, 0)


@sio.event
async def connect(sid: str, environ: dict[str, Any], auth: dict[str, Any] | None) -> None:
    if not auth or auth.get("token") is None:
        await sio.enter_room(sid, "screens")
    else:
        members[sid] = auth["token"]


@sio.event
async def disconnect(sid: str, *reason: Any) -> None:
    members.pop(sid, None)


@sio.on("ballot")
async def ballot(sid: str, data: dict[str, Any]) -> list[int]:
    choice = data.get("choice")
    if sid not in members or choice not in CHOICES:
        return [-1]
    before = ballots.get(members[sid])
    if before is not None:
        counts[before] -= 1
    ballots[members[sid]] = choice
    counts[choice] += 1
    tally = [len(ballots), *counts.values()]
    await sio.emit("tally", tally, room="screens")  # [cast, approve, reject, abstain]
    return tally  # the acknowledgement


def main(port: int) -> None:
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", ws_max_queue=1024)


if __name__ == "__main__":
    main(int(sys.argv[1]))
