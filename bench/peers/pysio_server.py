"""Benchmark peer: python-socketio (ASGI) on uvicorn, one room per game session. POST
/api/character/update-hp.php does the same writes as our server (character HP, the session's event head,
one event-log row) in one aiosqlite transaction, then emits the same envelope to the room.

Usage: python pysio_server.py PORT DB_PATH
"""

from __future__ import annotations

import asyncio
import json
import sys
from urllib.parse import parse_qs

import aiosqlite
import schema
import socketio
from peer_http import respond, serve, user_of

PORT = int(sys.argv[1])
DB_PATH = sys.argv[2]

sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins="*", logger=False, engineio_logger=False)
state: dict = {}
write_lock = asyncio.Lock()


@sio.event
async def connect(sid, environ, auth=None):
    if await user_of(state["db"], environ.get("HTTP_COOKIE")) is None:
        raise socketio.exceptions.ConnectionRefusedError("authentication_required")
    session_id = int(parse_qs(environ.get("QUERY_STRING", "")).get("session_id", ["0"])[0])
    await sio.enter_room(sid, f"s{session_id}")


async def update_hp(user_id: int, character_id: int, damage: int, healing: int):
    return await schema.write_hp(state["db"], write_lock, user_id, character_id, damage, healing)


async def rest(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                state["db"] = await aiosqlite.connect(DB_PATH, isolation_level=None)
                for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "busy_timeout = 30000"):
                    await state["db"].execute(f"PRAGMA {pragma}")
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await state["db"].close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http" or scope["path"] != "/api/character/update-hp.php" or scope["method"] != "POST":
        await respond(send, 404, {"status": "error", "error": "resource_not_found"})
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    headers = dict(scope["headers"])
    user_id = await user_of(state["db"], headers.get(b"cookie", b"").decode())
    if user_id is None:
        await respond(send, 401, {"status": "error", "error": "authentication_required"})
        return
    fields = json.loads(body)
    result = await update_hp(
        user_id, int(fields["character_id"]), int(fields.get("damage", 0)), int(fields.get("healing", 0))
    )
    if result is None:
        await respond(send, 403, {"status": "error"})
        return
    await sio.emit("event", result["envelope"], room=f"s{result['session_id']}")
    await respond(send, 200, {"status": "success", "message": "HP updated successfully", "data": result["answer"]})


app = socketio.ASGIApp(sio, other_asgi_app=rest)

if __name__ == "__main__":
    serve(app, PORT, ws_per_message_deflate=False, ws_max_size=65536)
