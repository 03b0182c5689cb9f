"""What both Python peers answer HTTP with: the login cookie's user and a JSON response over raw ASGI."""

from __future__ import annotations

import json
from http.cookies import SimpleCookie
from typing import Any


async def user_of(db: Any, cookie_header: str | None) -> int | None:
    """The user of the `sessionToken` cookie, looked up on the aiosqlite connection `db`."""
    morsel = SimpleCookie(cookie_header).get("sessionToken") if cookie_header else None
    if morsel is None:
        return None
    async with db.execute("SELECT user_id FROM login_tokens WHERE token = ?", (morsel.value,)) as cur:
        row = await cur.fetchone()
    return row[0] if row else None


async def respond(send: Any, status: int, body: dict) -> None:
    raw = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": raw})
