"""Player characters: creation with BECMI hit points, damage and healing."""

from __future__ import annotations

import random
from typing import Any

from server import clock
from server.accounts import User
from server.channels.event_log import EventLog
from server.database import Row, Transaction
from server.errors import Forbidden, NotFound
from server.game_sessions import require_member
from server.rules import classes

ABILITIES = ("strength", "dexterity", "constitution", "intelligence", "wisdom", "charisma")
CHARACTER_COLUMNS = (
    "character_id, user_id, session_id, character_name, class, alignment, level, experience_points, "
    "current_hp, max_hp, strength, dexterity, constitution, intelligence, wisdom, charisma, created_at, updated_at"
)
_rng = random.SystemRandom()


def summary(row: Row) -> dict[str, Any]:
    """What every member of the game session may see of a character (the party view)."""
    return {
        "character_id": row["character_id"],
        "user_id": row["user_id"],
        "session_id": row["session_id"],
        "character_name": row["character_name"],
        "class": row["class"],
        "level": row["level"],
        "current_hp": row["current_hp"],
        "max_hp": row["max_hp"],
        "is_dead": row["current_hp"] <= 0,
    }


async def create(log: EventLog, owner: User, fields: dict[str, Any]) -> dict[str, Any]:
    session_id = fields.get("session_id")
    if session_id is not None:
        await require_member(log.db, session_id, owner)
    max_hp = classes.first_level_hp(fields["class"], fields["constitution"], _rng)
    now = clock.now_text()
    async with log.change() as change:
        character_id = await change.tx.fetch_val(
            "INSERT INTO characters (user_id, session_id, character_name, class, alignment, level, "
            "experience_points, current_hp, max_hp, strength, dexterity, constitution, intelligence, wisdom, "
            "charisma, created_at, updated_at) VALUES (:uid, :sid, :name, :class, :alignment, 1, 0, :hp, :hp, "
            ":strength, :dexterity, :constitution, :intelligence, :wisdom, :charisma, :now, :now) "
            "RETURNING character_id",
            {
                "uid": owner.user_id,
                "sid": session_id,
                "name": fields["character_name"],
                "class": fields["class"],
                "alignment": fields["alignment"],
                "hp": max_hp,
                "now": now,
                **{ability: fields[ability] for ability in ABILITIES},
            },
        )
        row = await _locked(change.tx, character_id)
        if session_id is not None:
            await change.record(session_id, "character_created", summary(row))
    return {
        "character_id": character_id,
        "character_name": fields["character_name"],
        "level": 1,
        "experience_points": 0,
        "current_hp": max_hp,
        "max_hp": max_hp,
    }


async def _locked(tx: Transaction, character_id: int) -> Row:
    row = await tx.fetch_one(
        f"SELECT {CHARACTER_COLUMNS} FROM characters WHERE character_id = :cid" + tx.for_update,
        {"cid": character_id},
    )
    if row is None:
        raise NotFound("Character not found")
    return row


async def _require_owner_or_dm(tx: Transaction, user: User, row: Row) -> None:
    """Owners change their own characters; the DM of the character's game session changes any in it."""
    if row["user_id"] == user.user_id:
        return
    if row["session_id"] is not None:
        dm_id = await tx.fetch_val(
            "SELECT dm_user_id FROM game_sessions WHERE session_id = :sid", {"sid": row["session_id"]}
        )
        if dm_id == user.user_id:
            return
    raise Forbidden("You can only change your own characters")


async def update_hp(log: EventLog, user: User, character_id: int, damage: int, healing: int) -> dict[str, Any]:
    async with log.change() as change:
        row = await _locked(change.tx, character_id)
        await _require_owner_or_dm(change.tx, user, row)
        old_hp = row["current_hp"]
        new_hp = max(0, min(row["max_hp"], old_hp - damage + healing))
        await change.tx.execute(
            "UPDATE characters SET current_hp = :hp, updated_at = :now WHERE character_id = :cid",
            {"hp": new_hp, "now": clock.now_text(), "cid": character_id},
        )
        if row["session_id"] is not None:
            await change.record(
                row["session_id"],
                "character_hp_updated",
                {
                    "character_id": character_id,
                    "character_name": row["character_name"],
                    "user_id": row["user_id"],
                    "old_hp": old_hp,
                    "current_hp": new_hp,
                    "max_hp": row["max_hp"],
                    "damage": damage,
                    "healing": healing,
                    "is_dead": new_hp <= 0,
                },
            )
    return {"character_id": character_id, "current_hp": new_hp, "max_hp": row["max_hp"], "is_dead": new_hp <= 0}
