"""Benchmark baseline: the legacy server's long-poll (../shared/spec/legacy-wire.md). Each parked
GET /api/realtime/poll.php re-queries the session_events table once a second until an event newer than
last_event_id appears or `timeout` passes. POST /api/character/update-hp.php does the same writes as the
other servers (character HP, event head, one event-log row) and publishes nothing: the poll finds it.

Usage: python legacy_server.py PORT DB_PATH
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from urllib.parse import parse_qs

import aiosqlite
import schema
from peer_http import respond, serve, user_of

PORT = int(sys.argv[1])
DB_PATH = sys.argv[2]
state: dict = {}
write_lock = asyncio.Lock()


async def update_hp(user_id: int, character_id: int, damage: int, healing: int):
    return await schema.write_hp(state["writer"], write_lock, user_id, character_id, damage, healing)


async def poll(session_id: int, last_event_id: int, timeout: float) -> list[dict]:
    deadline = time.monotonic() + min(timeout, 25)
    while True:
        async with state["reader"].execute(
            "SELECT event_id, event_type, event_data, created_at FROM session_events "
            "WHERE session_id = ? AND event_id > ? ORDER BY event_id LIMIT 50",
            (session_id, last_event_id),
        ) as cur:
            rows = await cur.fetchall()
        if rows or time.monotonic() >= deadline:
            return [
                {"event_id": r[0], "event_type": r[1], "event_data": json.loads(r[2]), "created_at": r[3]} for r in rows
            ]
        await asyncio.sleep(min(1.0, max(0.0, deadline - time.monotonic())))


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                for name in ("writer", "reader"):
                    state[name] = await aiosqlite.connect(DB_PATH, isolation_level=None)
                    for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "busy_timeout = 30000"):
                        await state[name].execute(f"PRAGMA {pragma}")
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for name in ("writer", "reader"):
                    await state[name].close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    headers = dict(scope["headers"])
    user_id = await user_of(state["reader"], headers.get(b"cookie", b"").decode())
    if user_id is None:
        await respond(send, 401, {"status": "error", "error": "authentication_required"})
        return
    if scope["path"] == "/api/realtime/poll.php" and scope["method"] == "GET":
        q = parse_qs(scope["query_string"].decode())
        session_id = int(q["session_id"][0])
        last = int(q.get("last_event_id", ["0"])[0])
        events = await poll(session_id, last, float(q.get("timeout", ["25"])[0]))
        await respond(
            send,
            200,
            {
                "status": "success",
                "message": "OK",
                "data": {
                    "session_id": session_id,
                    "events": events,
                    "event_count": len(events),
                    "last_event_id": events[-1]["event_id"] if events else last,
                    "online_users": [],
                    "online_count": 0,
                    "timestamp": int(time.time()),
                },
            },
        )
    elif scope["path"] == "/api/character/update-hp.php" and scope["method"] == "POST":
        fields = json.loads(body)
        result = await update_hp(
            user_id, int(fields["character_id"]), int(fields.get("damage", 0)), int(fields.get("healing", 0))
        )
        if result is None:
            await respond(send, 403, {"status": "error"})
        else:
            await respond(
                send, 200, {"status": "success", "message": "HP updated successfully", "data": result["answer"]}
            )
    else:
        await respond(send, 404, {"status": "error", "error": "resource_not_found"})


if __name__ == "__main__":
    serve(app, PORT)
