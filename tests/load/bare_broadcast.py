"""The bare baseline: a plain `websockets` server that acknowledges each ballot and sends
every ballot to every screen (no journal, no rules, no conflation)."""

from __future__ import annotations

import asyncio
import sys

import msgspec
import websockets

screens: set[websockets.ServerConnection] = set()


async def handler(ws: websockets.ServerConnection) -> None:
    hello = msgspec.msgpack.decode(await ws.recv())
    if hello.get("token") is None:
        screens.add(ws)
        await ws.send(msgspec.msgpack.encode({"t": "welcome"}))
        try:
            await ws.wait_closed()
        finally:
            screens.discard(ws)
        return
    await ws.send(msgspec.msgpack.encode({"t": "welcome"}))
    async for data in ws:
        frame = msgspec.msgpack.decode(data)
        if frame.get("t") != "cmd":
            continue
        await ws.send(msgspec.msgpack.encode({"t": "ack", "id": frame["id"]}))
        ballot = msgspec.msgpack.encode(
            {"t": "ballot", "member": hello["token"], "choice": frame["cmd"].get("choice")}
        )
        websockets.broadcast(screens, ballot)


async def main(port: int) -> None:
    async with websockets.serve(
        handler, "127.0.0.1", port, max_queue=None, subprotocols=["nghitruong.v1.msgpack"]
    ):  # type: ignore[list-item]
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
