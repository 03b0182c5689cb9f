"""Seeding the bestiary and the equipment list, and the pure rules of monsters and initiative order."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from server import bestiary, items, schema
from server.database import Database
from server.initiative import order_key
from server.monster_instances import condition
from server.rules import hit_dice


async def counts(db: Database) -> tuple[int, int]:
    return (await db.fetch_val("SELECT count(*) FROM monsters"), await db.fetch_val("SELECT count(*) FROM items"))


async def test_seeding_is_idempotent_and_complete(tmp_path: Path):
    db = Database(f"sqlite:///{tmp_path}/seed.db")
    await schema.upgrade(db.url)
    await db.connect()
    try:
        for round_number in range(2):
            inserted = (await bestiary.seed(db), await items.seed(db))
            assert inserted == ((111, 107) if round_number == 0 else (0, 0))
            assert await counts(db) == (111, 107)
        # A monster removed by hand comes back on the next start; nothing else is duplicated.
        async with db.transaction() as tx:
            await tx.execute("DELETE FROM monsters WHERE name = 'Goblin'")
        assert await bestiary.seed(db) == 1 and await counts(db) == (111, 107)
    finally:
        await db.disconnect()


async def test_two_processes_seeding_at_once_insert_each_row_once(tmp_path: Path):
    url = f"sqlite:///{tmp_path}/race.db"
    await schema.upgrade(url)
    first, second = Database(url), Database(url)
    for db in (first, second):
        await db.connect()
    try:
        await asyncio.gather(bestiary.seed(first), bestiary.seed(second), items.seed(first), items.seed(second))
        assert await counts(first) == (111, 107)
    finally:
        for db in (first, second):
            await db.disconnect()


async def test_every_template_is_well_formed():
    monsters = await bestiary.load()
    assert len(monsters) >= 60 and len({m["name"].lower() for m in monsters}) == len(monsters)
    for monster in monsters:
        assert monster["xp"] == hit_dice.xp_value(monster["hit_dice"]), monster["name"]
        assert -10 <= monster["armor_class"] <= 20
    equipment = await items.load()
    assert len(equipment) >= 100 and len({i["name"].lower() for i in equipment}) == len(equipment)


@pytest.mark.parametrize(
    ("current", "maximum", "word"),
    [
        (8, 8, "unhurt"),
        (7, 8, "wounded"),
        (4, 8, "wounded"),
        (3, 8, "badly wounded"),
        (1, 8, "badly wounded"),
        (0, 8, "dead"),
        (1, 1, "unhurt"),
        (5, 9, "wounded"),
        (4, 9, "badly wounded"),
    ],
)
def test_condition_words(current, maximum, word):
    assert condition(current, maximum) == word


def test_initiative_order_highest_first_party_wins_ties_unrolled_last():
    rows = [
        {"initiative_id": 1, "entity_type": "monster", "initiative_roll": 4},
        {"initiative_id": 2, "entity_type": "character", "initiative_roll": 4},
        {"initiative_id": 3, "entity_type": "monster", "initiative_roll": None},
        {"initiative_id": 4, "entity_type": "character", "initiative_roll": 6},
        {"initiative_id": 5, "entity_type": "monster", "initiative_roll": -1},
        {"initiative_id": 6, "entity_type": "character", "initiative_roll": 4},
    ]
    assert [row["initiative_id"] for row in sorted(rows, key=order_key)] == [4, 2, 6, 1, 5, 3]
