"""The equipment list: items seeded from server/data/equipment.json, listed publicly."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from server import codec
from server.database import Database, Row

DATA_PATH = Path(__file__).resolve().parent / "data" / "equipment.json"
ITEM_FIELDS = (
    "name",
    "category",
    "item_type",
    "cost_gp",
    "weight_cn",
    "damage_die",
    "damage_type",
    "armor_class",
    "description",
)
ITEM_COLUMNS = "item_id, " + ", ".join(ITEM_FIELDS)


async def load(path: Path = DATA_PATH) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = codec.loads(await asyncio.to_thread(path.read_bytes))["items"]
    return items


async def seed(db: Database, path: Path = DATA_PATH) -> int:
    """Insert the data file's items that are missing (by name, in any case); returns how many.

    Idempotent, and safe when two processes start at once: the unique index on lower(name) turns the
    loser's INSERT into a no-op."""
    items = await load(path)
    known = {row["name"] for row in await db.fetch_all("SELECT lower(name) AS name FROM items")}
    missing = [item for item in items if item["name"].lower() not in known]
    if not missing:
        return 0
    columns = ", ".join(ITEM_FIELDS)
    placeholders = ", ".join(f":{field}" for field in ITEM_FIELDS)
    async with db.transaction() as tx:
        for item in missing:
            await tx.execute(
                f"INSERT INTO items ({columns}) VALUES ({placeholders}) ON CONFLICT DO NOTHING",
                {field: item.get(field) for field in ITEM_FIELDS},
            )
    return len(missing)


def _public(row: Row) -> dict[str, Any]:
    cost = row["cost_gp"]
    # Stored as REAL for the few fractional prices; whole prices read back as whole numbers.
    return {**row, "cost_gp": int(cost) if float(cost).is_integer() else cost}


async def listing(
    db: Database, category: str | None, item_type: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """Items by category and name, filtered by exact category and item type (any case); and the total."""
    clauses, values = [], {}
    if category:
        clauses.append("lower(category) = :category")
        values["category"] = category.lower()
    if item_type:
        clauses.append("lower(item_type) = :item_type")
        values["item_type"] = item_type.lower()
    where = " WHERE " + " AND ".join(clauses) if clauses else ""
    total = await db.fetch_val("SELECT count(*) FROM items" + where, values)
    rows = await db.fetch_all(
        f"SELECT {ITEM_COLUMNS} FROM items{where} ORDER BY category, lower(name), item_id LIMIT :limit OFFSET :offset",
        {**values, "limit": limit, "offset": offset},
    )
    return [_public(row) for row in rows], int(total)
