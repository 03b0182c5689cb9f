"""The open-content data files (server/data/): read them, and seed their rows into the database."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from server import codec
from server.database import Database

DATA_DIR = Path(__file__).resolve().parent / "data"


async def read(path: Path, key: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = codec.loads(await asyncio.to_thread(path.read_bytes))[key]
    return rows


async def seed(db: Database, table: str, fields: tuple[str, ...], rows: list[dict[str, Any]]) -> int:
    """Insert the rows whose name (in any case) the table lacks; returns how many.

    Idempotent, and safe when two processes start at once: the table's unique index on lower(name)
    turns the loser's INSERT into a no-op."""
    known = {row["name"] for row in await db.fetch_all(f"SELECT lower(name) AS name FROM {table}")}
    missing = [row for row in rows if row["name"].lower() not in known]
    if not missing:
        return 0
    columns = ", ".join(fields)
    placeholders = ", ".join(f":{field}" for field in fields)
    async with db.transaction() as tx:
        for row in missing:
            await tx.execute(
                f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) ON CONFLICT DO NOTHING",
                {field: row.get(field) for field in fields},
            )
    return len(missing)
