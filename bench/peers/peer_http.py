"""What both Python peers share: the login cookie's user, a JSON response over raw ASGI, and how they run."""

from __future__ import annotations

import json
import os
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


def serve(app: Any, port: int, **options: Any) -> None:
    """uvicorn on 127.0.0.1 with the bench's logging: a line per request only with BENCH_ACCESS_LOG=1
    (`bench/run.py --access-log`), as for every server (bench/serverwrap.py)."""
    import uvicorn

    access_log = os.environ.get("BENCH_ACCESS_LOG") == "1"
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="info" if access_log else "warning",
        access_log=access_log,
        lifespan="on",
        **options,
    )
