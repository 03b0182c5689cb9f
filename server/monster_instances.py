"""Monsters on the table of one game session: spawning from the bestiary, the DM's edits, damage and healing.

What a player may know of a monster instance is `player_view`: its name, its template's name and a coarse
`condition`. Hit points, armour class, notes, treasure, equipment and spells are the DM's alone, in
answers and in events (players get the event's `player_data`).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any, NotRequired

from typing_extensions import TypedDict

from server import bestiary, clock, codec
from server.accounts import User
from server.database import Database, Reads, Row, Transaction
from server.errors import Conflict, Invalid, NotFound
from server.event_log import Change, EventLog
from server.game_sessions import require_dm, require_member
from server.hit_points import HitPointChange
from server.rules import hit_dice

SECRETS = ("equipment", "treasure", "spells")
LONG_TEXTS = frozenset({*SECRETS, "notes"})
# One spawn stores its texts with every instance: count x (equipment, treasure, spells and notes, as
# stored) is bounded, so one request cannot multiply a few KB into megabytes of rows.
MAX_SPAWN_TEXT_BYTES = 256 * 1024
INSTANCE_COLUMNS = (
    "i.instance_id, i.session_id, i.monster_id, m.name AS monster_name, i.instance_name, i.is_named_boss, "
    "i.current_hp, i.max_hp, i.armor_class, i.dexterity, i.equipment, i.treasure, i.spells, i.notes, "
    "i.created_at, i.updated_at"
)
_FROM = "FROM monster_instances i JOIN monsters m ON m.monster_id = i.monster_id"
_rng = random.SystemRandom()
MAX_COUNT = 50  # MAX_BULK_CREATE_COUNT of the legacy server
MAX_INSTANCES_PER_SESSION = 500  # the dead too, until the DM removes them


@dataclass(frozen=True)
class NewMonsters:
    """`count` instances of one bestiary template. A named boss is one monster with its own name."""

    count: int = 1
    custom_hp: int | None = None  # else rolled per instance from the template's hit dice
    is_named_boss: bool = False
    instance_name: str | None = None
    equipment: dict[str, Any] | None = None
    treasure: dict[str, Any] | None = None
    spells: dict[str, Any] | None = None
    notes: str | None = None

    def __post_init__(self) -> None:
        if self.is_named_boss and not self.instance_name:
            raise Invalid({"instance_name": "A named boss needs an instance name"})
        if self.is_named_boss and self.count != 1:
            raise Invalid({"count": "A named boss is one monster: count must be 1"})


class InstanceEdit(TypedDict, total=False):
    """The DM's changes to a monster instance: only the keys present change; `dexterity` None clears it."""

    instance_name: str
    armor_class: int
    dexterity: int | None
    equipment: dict[str, Any]
    treasure: dict[str, Any]
    spells: dict[str, Any]
    notes: str


class SpawnedInstance(TypedDict):
    instance_id: int
    instance_name: str
    monster_id: int
    current_hp: int
    max_hp: int
    armor_class: int
    is_named_boss: bool


class Spawned(TypedDict):
    instances: list[SpawnedInstance]
    count: int


class HitPoints(TypedDict):
    instance_id: int
    instance_name: str
    old_hp: int
    current_hp: int
    max_hp: int
    damage: int
    healing: int
    is_dead: bool
    condition: str


def condition(current_hp: int, max_hp: int) -> str:
    """What players are told of a monster's health: "unhurt" at full HP, "wounded" down to half,
    "badly wounded" below half, "dead" at 0."""
    if current_hp <= 0:
        return "dead"
    if current_hp >= max_hp:
        return "unhurt"
    if current_hp * 2 >= max_hp:
        return "wounded"
    return "badly wounded"


class MonsterInstance(TypedDict):
    """A monster instance as its viewer may see it: players the four fields first (no hit points); the DM
    the rest as well."""

    instance_id: int
    instance_name: str
    monster_name: str
    condition: str  # unhurt, wounded, badly wounded or dead
    session_id: NotRequired[int]
    monster_id: NotRequired[int]
    is_named_boss: NotRequired[bool]
    current_hp: NotRequired[int]
    max_hp: NotRequired[int]
    armor_class: NotRequired[int]
    dexterity: NotRequired[int | None]
    equipment: NotRequired[dict[str, Any] | None]
    treasure: NotRequired[dict[str, Any] | None]
    spells: NotRequired[dict[str, Any] | None]
    notes: NotRequired[str | None]
    is_dead: NotRequired[bool]
    created_at: NotRequired[str]
    updated_at: NotRequired[str]


class InstanceUpdated(TypedDict):
    instance_id: int
    instance_name: str
    armor_class: int
    dexterity: int | None
    equipment: dict[str, Any] | None
    treasure: dict[str, Any] | None
    spells: dict[str, Any] | None
    notes: str | None
    updated_at: str


def dm_view(row: Row) -> MonsterInstance:
    return {
        "instance_id": row["instance_id"],
        "session_id": row["session_id"],
        "monster_id": row["monster_id"],
        "monster_name": row["monster_name"],
        "instance_name": row["instance_name"],
        "is_named_boss": bool(row["is_named_boss"]),
        "current_hp": row["current_hp"],
        "max_hp": row["max_hp"],
        "armor_class": row["armor_class"],
        "dexterity": row["dexterity"],
        "equipment": codec.loads(row["equipment"]),
        "treasure": codec.loads(row["treasure"]),
        "spells": codec.loads(row["spells"]),
        "notes": row["notes"],
        "condition": condition(row["current_hp"], row["max_hp"]),
        "is_dead": row["current_hp"] <= 0,
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def event_view(row: Row) -> dict[str, Any]:
    """The DM's form of an instance in events: everything but the long texts (equipment, treasure, spells,
    notes), which list-instances answers. It keeps a spawn of many instances, and an edit of those texts,
    far inside the event log's size bound."""
    view = dm_view(row)
    return {key: value for key, value in view.items() if key not in LONG_TEXTS}


def player_view(row: Row) -> MonsterInstance:
    return {
        "instance_id": row["instance_id"],
        "instance_name": row["instance_name"],
        "monster_name": row["monster_name"],
        "condition": condition(row["current_hp"], row["max_hp"]),
    }


async def _instances(tx: Transaction, where: str, values: dict[str, Any]) -> list[Row]:
    return await tx.fetch_all(f"SELECT {INSTANCE_COLUMNS} {_FROM} WHERE {where} ORDER BY i.instance_id", values)


async def _next_number(tx: Transaction, session_id: int, monster_id: int, monster_name: str) -> int:
    """Auto-names continue the numbering of this monster in this game session: after Goblin #3, #4."""
    names = await tx.fetch_all(
        "SELECT instance_name FROM monster_instances WHERE session_id = :sid AND monster_id = :mid",
        {"sid": session_id, "mid": monster_id},
    )
    pattern = re.compile(re.escape(monster_name) + r" #([0-9]{1,9})")
    numbers = [int(match[1]) for row in names if (match := pattern.fullmatch(row["instance_name"]))]
    return max(numbers, default=0) + 1


async def create(log: EventLog, dm: User, session_id: int, monster_id: int, new: NewMonsters) -> Spawned:
    """Spawn `new.count` instances of a template. Named bosses keep `instance_name`; the others are
    "<monster> #N". Hit points are `custom_hp` or rolled per instance from the template's hit dice."""
    texts = {
        "equipment": codec.dumps_text(new.equipment or {}),
        "treasure": codec.dumps_text(new.treasure or {}),
        "spells": codec.dumps_text(new.spells or {}),
        "notes": new.notes or "",
    }
    per_instance = sum(len(text.encode()) for text in texts.values())
    if per_instance * new.count > MAX_SPAWN_TEXT_BYTES:
        raise Invalid(
            {
                "count": f"Count x the size of equipment, treasure, spells and notes ({per_instance} bytes) must be "
                f"at most {MAX_SPAWN_TEXT_BYTES} bytes: spawn fewer at once or shorten them"
            }
        )
    await require_dm(log.db, session_id, dm)
    monster = await bestiary.get(log.db, monster_id)
    now = clock.now_text()
    # Numbering reads then writes: the change holds the game session's row, so two spawns cannot share a number.
    async with log.change(session_id) as change:
        tx = change.tx
        present = await tx.fetch_val(
            "SELECT count(*) FROM monster_instances WHERE session_id = :sid", {"sid": session_id}
        )
        if present + new.count > MAX_INSTANCES_PER_SESSION:
            raise Conflict(
                f"A game session may hold at most {MAX_INSTANCES_PER_SESSION} monsters ({present} now): "
                "remove some first"
            )
        first = await _next_number(tx, session_id, monster_id, monster["name"])
        ids = []
        for offset in range(new.count):
            hp = new.custom_hp or hit_dice.roll_hp(monster["hit_dice"], _rng)
            name = new.instance_name if new.is_named_boss else f"{monster['name']} #{first + offset}"
            ids.append(
                await tx.fetch_val(
                    "INSERT INTO monster_instances (session_id, monster_id, instance_name, is_named_boss, current_hp, "
                    "max_hp, armor_class, dexterity, equipment, treasure, spells, notes, created_at, updated_at) "
                    "VALUES (:sid, :mid, :name, :boss, :hp, :hp, :ac, NULL, :equipment, :treasure, :spells, :notes, "
                    ":now, :now) RETURNING instance_id",
                    {
                        "sid": session_id,
                        "mid": monster_id,
                        "name": name,
                        "boss": int(new.is_named_boss),
                        "hp": hp,
                        "ac": monster["armor_class"],
                        **texts,
                        "now": now,
                    },
                )
            )
        # The game session's row is held, so nothing else was spawned in it between the first and last id.
        rows = await _instances(
            tx,
            "i.session_id = :sid AND i.instance_id BETWEEN :low AND :high",
            {"sid": session_id, "low": ids[0], "high": ids[-1]},
        )
        await change.record(
            session_id,
            "monster_spawned",
            {"instances": [event_view(row) for row in rows], "count": len(rows)},
            player_data={"instances": [player_view(row) for row in rows], "count": len(rows)},
        )
    return {
        "instances": [
            {
                "instance_id": row["instance_id"],
                "instance_name": row["instance_name"],
                "monster_id": row["monster_id"],
                "current_hp": row["current_hp"],
                "max_hp": row["max_hp"],
                "armor_class": row["armor_class"],
                "is_named_boss": bool(row["is_named_boss"]),
            }
            for row in rows
        ],
        "count": len(rows),
    }


async def _session_of(db: Reads, instance_id: int) -> int:
    session_id = await db.fetch_val(
        "SELECT session_id FROM monster_instances WHERE instance_id = :iid", {"iid": instance_id}
    )
    if session_id is None:
        raise NotFound("Monster instance not found")
    return int(session_id)


async def _locked(tx: Transaction, instance_id: int) -> Row:
    row = await tx.fetch_one(
        "SELECT instance_id, current_hp, max_hp FROM monster_instances WHERE instance_id = :iid" + tx.for_update,
        {"iid": instance_id},
    )
    if row is None:
        raise NotFound("Monster instance not found")
    full = await _instances(tx, "i.instance_id = :iid", {"iid": instance_id})
    return full[0]


async def update(log: EventLog, dm: User, instance_id: int, fields: InstanceEdit) -> InstanceUpdated:
    """Change only the given fields (instance_name, armor_class, dexterity, equipment, treasure, spells,
    notes); `dexterity: null` clears it (the monster then rolls initiative at +0)."""
    if not fields:
        raise Invalid({"instance_id": "Give at least one field to change"})
    # Only dexterity may be cleared; every other field given must have a value.
    nulls = sorted(field for field, value in fields.items() if value is None and field != "dexterity")
    if nulls:
        raise Invalid({field: "May not be null" for field in nulls})
    session_id = await _session_of(log.db, instance_id)
    await require_dm(log.db, session_id, dm)
    values = {field: codec.dumps_text(value) if field in SECRETS else value for field, value in fields.items()}
    async with log.change(session_id) as change:
        await _locked(change.tx, instance_id)
        assignments = ", ".join(f"{field} = :{field}" for field in values)
        await change.tx.execute(
            f"UPDATE monster_instances SET {assignments}, updated_at = :now WHERE instance_id = :iid",
            {**values, "now": clock.now_text(), "iid": instance_id},
        )
        row = (await _instances(change.tx, "i.instance_id = :iid", {"iid": instance_id}))[0]
        await change.record(
            session_id,
            "monster_instance_updated",
            {**event_view(row), "changed_fields": sorted(fields)},
            player_data=dict(player_view(row)),
        )
    view = dm_view(row)
    return {
        "instance_id": view["instance_id"],
        "instance_name": view["instance_name"],
        "armor_class": view["armor_class"],
        "dexterity": view["dexterity"],
        "equipment": view["equipment"],
        "treasure": view["treasure"],
        "spells": view["spells"],
        "notes": view["notes"],
        "updated_at": view["updated_at"],
    }


async def update_hp(log: EventLog, dm: User, instance_id: int, hp: HitPointChange) -> HitPoints:
    """Damage then healing, in one transaction; HP stays within 0..max_hp."""
    hp.require_effect()

    async def located(reads: Reads) -> int:
        session_id = await _session_of(reads, instance_id)
        await require_dm(reads, session_id, dm)
        return session_id

    return await log.apply_located(located, lambda change: apply_hp(change, instance_id, hp))  # one hop on SQLite


async def apply_hp(change: Change, instance_id: int, hp: HitPointChange) -> HitPoints:
    """Damage then healing within `change` (whose caller checked that the user is the DM); NotFound
    unless the instance is in the change's game session."""
    row = await _locked(change.tx, instance_id)
    if row["session_id"] != change.session_id:
        raise NotFound("Monster instance not found in this session")
    old_hp = row["current_hp"]
    new_hp = hp.applied_to(old_hp, row["max_hp"])
    await change.tx.execute(
        "UPDATE monster_instances SET current_hp = :hp, updated_at = :now WHERE instance_id = :iid",
        {"hp": new_hp, "now": clock.now_text(), "iid": instance_id},
    )
    result: HitPoints = {
        "instance_id": instance_id,
        "instance_name": row["instance_name"],
        "old_hp": old_hp,
        "current_hp": new_hp,
        "max_hp": row["max_hp"],
        "damage": hp.damage,
        "healing": hp.healing,
        "is_dead": new_hp <= 0,
        "condition": condition(new_hp, row["max_hp"]),
    }
    await change.record(
        row["session_id"],
        "monster_hp_updated",
        {key: value for key, value in result.items() if key != "condition"},
        player_data={
            "instance_id": instance_id,
            "instance_name": row["instance_name"],
            "condition": result["condition"],
        },
    )
    return result


async def for_session(
    db: Database, user: User, session_id: int, limit: int | None = None, offset: int = 0
) -> tuple[list[MonsterInstance], int, bool]:
    """The game session's monster instances as the user may see them (the DM: everything; a player:
    `player_view`), oldest first; the total; and whether the user is the DM."""
    member = await require_member(db, session_id, user)
    total = await db.fetch_val("SELECT count(*) FROM monster_instances WHERE session_id = :sid", {"sid": session_id})
    page = " LIMIT :limit OFFSET :offset" if limit is not None else ""
    values: dict[str, Any] = {"sid": session_id}
    if limit is not None:
        values.update(limit=limit, offset=offset)
    rows = await db.fetch_all(
        f"SELECT {INSTANCE_COLUMNS} {_FROM} WHERE i.session_id = :sid ORDER BY i.instance_id{page}", values
    )
    view = dm_view if member.viewer_is_dm else player_view
    return [view(row) for row in rows], int(total), member.viewer_is_dm
