"""The equipment list: items seeded from server/data/equipment.json, listed publicly."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from typing_extensions import TypedDict

from server import open_content
from server.database import Database, Row

DATA_PATH = open_content.DATA_DIR / "equipment.json"
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
    return await open_content.read(path, "items")


async def seed(db: Database, path: Path = DATA_PATH) -> int:
    """Insert the data file's items that are missing; returns how many."""
    return await open_content.seed(db, "items", ITEM_FIELDS, await load(path))


class Item(TypedDict):
    item_id: int
    name: str
    category: str
    item_type: str
    cost_gp: float  # whole prices as whole numbers
    weight_cn: int  # coins of encumbrance
    damage_die: str | None
    damage_type: str | None
    armor_class: int | None
    description: str


def _public(row: Row) -> Item:
    cost = row["cost_gp"]
    # Stored as REAL for the few fractional prices; whole prices read back as whole numbers.
    return cast(Item, {**row, "cost_gp": int(cost) if float(cost).is_integer() else cost})


async def listing(
    db: Database, category: str | None, item_type: str | None, limit: int, offset: int
) -> tuple[list[Item], int]:
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
