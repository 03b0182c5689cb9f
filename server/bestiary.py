"""The bestiary: monster templates, seeded from server/data/monsters.json, read by any logged-in user."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from typing_extensions import TypedDict

from server import open_content
from server.database import Database
from server.errors import NotFound
from server.rules import hit_dice

DATA_PATH = open_content.DATA_DIR / "monsters.json"
TEMPLATE_FIELDS = (
    "name",
    "armor_class",
    "hit_dice",
    "move",
    "attacks",
    "damage",
    "morale",
    "save_as",
    "alignment",
    "xp",
    "treasure_type",
    "description",
)
MONSTER_COLUMNS = "monster_id, " + ", ".join(TEMPLATE_FIELDS)


class Monster(TypedDict):
    """A template of the bestiary, as the Rules Cyclopedia gives it."""

    monster_id: int
    name: str
    armor_class: int
    hit_dice: str  # e.g. "1-1", "3+1", "9**": the dice spawning rolls hit points with
    move: str
    attacks: str
    damage: str
    morale: int
    save_as: str
    alignment: str
    xp: int
    treasure_type: str
    description: str


async def load(path: Path = DATA_PATH) -> list[dict[str, Any]]:
    """The monsters of the data file; a template whose hit dice do not parse stops start-up."""
    monsters = await open_content.read(path, "monsters")
    for monster in monsters:
        hit_dice.parse(monster["hit_dice"])
    return monsters


async def seed(db: Database, path: Path = DATA_PATH) -> int:
    """Insert the data file's monsters that are missing; returns how many."""
    return await open_content.seed(db, "monsters", TEMPLATE_FIELDS, await load(path))


def like_pattern(text: str) -> str:
    """A LIKE pattern (with ESCAPE '\\') that matches `text` anywhere, taking % and _ literally."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search(db: Database, text: str, limit: int, offset: int) -> tuple[list[Monster], int]:
    """Templates whose name contains `text` (any case), by name; and how many match in all."""
    where, values = "", {}
    if text:
        where = " WHERE lower(name) LIKE :pattern ESCAPE '\\'"
        values["pattern"] = like_pattern(text)
    total = await db.fetch_val("SELECT count(*) FROM monsters" + where, values)
    rows = await db.fetch_all(
        f"SELECT {MONSTER_COLUMNS} FROM monsters{where} ORDER BY lower(name), monster_id LIMIT :limit OFFSET :offset",
        {**values, "limit": limit, "offset": offset},
    )
    return cast(list[Monster], rows), int(total)


async def get(db: Database, monster_id: int) -> Monster:
    row = await db.fetch_one(f"SELECT {MONSTER_COLUMNS} FROM monsters WHERE monster_id = :mid", {"mid": monster_id})
    if row is None:
        raise NotFound("Monster not found")
    return cast(Monster, row)
