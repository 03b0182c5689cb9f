"""Player characters: creation with BECMI hit points, damage and healing, experience and levels."""

from __future__ import annotations

import random
from dataclasses import astuple, dataclass
from functools import partial
from typing import Any, Literal, NotRequired

from typing_extensions import TypedDict

from server import accounts, clock
from server.accounts import User
from server.database import Database, Reads, Row, Transaction
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.event_log import Change, EventLog
from server.game_sessions import membership, require_dm, require_member
from server.hit_points import HitPointChange
from server.rules import classes

ClassName = Literal["fighter", "cleric", "magic_user", "thief", "dwarf", "elf", "halfling"]
Alignment = Literal["lawful", "neutral", "chaotic"]
ABILITIES = ("strength", "dexterity", "constitution", "intelligence", "wisdom", "charisma")
MIN_ABILITY, MAX_ABILITY = 3, 18  # scores are rolled on 3d6
MAX_CHARACTERS_PER_USER = 200
CHARACTER_COLUMNS = (
    "character_id, user_id, session_id, character_name, class, alignment, level, experience_points, "
    "current_hp, max_hp, strength, dexterity, constitution, intelligence, wisdom, charisma, created_at, updated_at"
)
_rng = random.SystemRandom()


@dataclass(frozen=True)
class Abilities:
    strength: int
    dexterity: int
    constitution: int
    intelligence: int
    wisdom: int
    charisma: int

    def __post_init__(self) -> None:
        outside = {
            name: f"{name.capitalize()} must be between {MIN_ABILITY} and {MAX_ABILITY}"
            for name, score in zip(ABILITIES, astuple(self), strict=True)
            if not MIN_ABILITY <= score <= MAX_ABILITY
        }
        if outside:
            raise Invalid(outside)


@dataclass(frozen=True)
class NewCharacter:
    character_name: str
    character_class: ClassName
    alignment: Alignment
    abilities: Abilities
    session_id: int | None = None  # the game session it joins, if any


class CreatedCharacter(TypedDict):
    character_id: int
    character_name: str
    level: int
    experience_points: int
    current_hp: int
    max_hp: int


class HitPoints(TypedDict):
    character_id: int
    current_hp: int
    max_hp: int
    is_dead: bool


class Advancement(TypedDict):
    character_id: int
    character_name: str
    user_id: int
    old_xp: int
    experience_points: int
    old_level: int
    level: int
    levelled_up: bool
    hp_gained: int
    current_hp: int
    max_hp: int


class XpGrant(TypedDict):
    session_id: int
    xp_amount: int
    reason: str | None
    characters: list[Advancement]


_PartyView = TypedDict(  # "class" is a keyword: the functional form
    "_PartyView",
    {
        "character_id": int,
        "user_id": int,
        "session_id": int | None,
        "character_name": str,
        "class": str,
        "level": int,
        "current_hp": int,
        "max_hp": int,
        "is_dead": bool,
    },
)


class Character(_PartyView):
    """A character as its viewer may see it: every member of its game session the party view; its owner
    and the DM the whole sheet (the fields below as well)."""

    alignment: NotRequired[str]
    experience_points: NotRequired[int]
    strength: NotRequired[int]
    dexterity: NotRequired[int]
    constitution: NotRequired[int]
    intelligence: NotRequired[int]
    wisdom: NotRequired[int]
    charisma: NotRequired[int]
    created_at: NotRequired[str]
    updated_at: NotRequired[str]
    view: NotRequired[Literal["full", "party"]]  # character/get.php: the whole sheet or the party view


def detail(row: Row) -> Character:
    """What the owner and the DM of the character's game session see: the whole character sheet."""
    return {
        **summary(row),
        "alignment": row["alignment"],
        "experience_points": row["experience_points"],
        "strength": row["strength"],
        "dexterity": row["dexterity"],
        "constitution": row["constitution"],
        "intelligence": row["intelligence"],
        "wisdom": row["wisdom"],
        "charisma": row["charisma"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def summary(row: Row) -> Character:
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


async def create(log: EventLog, owner: User, new: NewCharacter) -> CreatedCharacter:
    """A 1st-level character of `owner`, with its first hit die rolled; in `new.session_id` if given (the
    owner must be a member of it)."""
    if new.session_id is not None:
        await require_member(log.db, new.session_id, owner)
    max_hp = classes.first_level_hp(new.character_class, new.abilities.constitution, _rng)
    now = clock.now_text()
    async with log.change(new.session_id) as change:
        await accounts.hold(change.tx, owner)
        owned = await change.tx.fetch_val(
            "SELECT count(*) FROM characters WHERE user_id = :uid", {"uid": owner.user_id}
        )
        if owned >= MAX_CHARACTERS_PER_USER:
            raise Conflict(f"A player may have at most {MAX_CHARACTERS_PER_USER} characters")
        character_id = await change.tx.fetch_val(
            "INSERT INTO characters (user_id, session_id, character_name, class, alignment, level, "
            "experience_points, current_hp, max_hp, strength, dexterity, constitution, intelligence, wisdom, "
            "charisma, created_at, updated_at) VALUES (:uid, :sid, :name, :class, :alignment, 1, 0, :hp, :hp, "
            ":strength, :dexterity, :constitution, :intelligence, :wisdom, :charisma, :now, :now) "
            "RETURNING character_id",
            {
                "uid": owner.user_id,
                "sid": new.session_id,
                "name": new.character_name,
                "class": new.character_class,
                "alignment": new.alignment,
                "hp": max_hp,
                "now": now,
                **dict(zip(ABILITIES, astuple(new.abilities), strict=True)),
            },
        )
        row = await _locked(change.tx, character_id)
        if new.session_id is not None:
            await change.record(new.session_id, "character_created", summary(row))
    return {
        "character_id": character_id,
        "character_name": new.character_name,
        "level": 1,
        "experience_points": 0,
        "current_hp": max_hp,
        "max_hp": max_hp,
    }


async def _locked(tx: Transaction, character_id: int) -> Row:
    """The character, locked for this transaction, with the DM of its game session (`dm_user_id`)."""
    row = await tx.fetch_one(
        f"SELECT {CHARACTER_COLUMNS}, (SELECT g.dm_user_id FROM game_sessions g "
        "WHERE g.session_id = characters.session_id) AS dm_user_id "
        "FROM characters WHERE character_id = :cid" + tx.for_update,
        {"cid": character_id},
    )
    if row is None:
        raise NotFound("Character not found")
    return row


def _require_owner_or_dm(user: User, row: Row) -> None:
    """Owners change their own characters; the DM of the character's game session changes any in it."""
    if user.user_id not in (row["user_id"], row["dm_user_id"]):
        raise Forbidden("You can only change your own characters")


async def _session_of(character_id: int, db: Reads) -> int | None:
    row = await db.fetch_one("SELECT session_id FROM characters WHERE character_id = :cid", {"cid": character_id})
    if row is None:
        raise NotFound("Character not found")
    session_id: int | None = row["session_id"]
    return session_id


async def update_hp(log: EventLog, user: User, character_id: int, hp: HitPointChange) -> HitPoints:
    """Damage then healing, by the owner or the DM of the character's game session."""
    hp.require_effect()
    for _ in range(3):
        result = await log.apply_located(
            partial(_session_of, character_id), partial(_apply_hp_if_in, user, character_id, hp)
        )
        if result is not None:
            return result
    raise Conflict("The character changed while it was being updated; try again")


async def _apply_hp_if_in(user: User, character_id: int, hp: HitPointChange, change: Change) -> HitPoints | None:
    """Damage then healing, if the character is still in the change's game session; None when it left or
    joined one since that was read (PostgreSQL; the caller then locks that one instead)."""
    row = await _locked(change.tx, character_id)
    if row["session_id"] != change.session_id:
        return None
    return await _apply_hp(change, user, row, hp)


async def apply_hp(change: Change, user: User, character_id: int, hp: HitPointChange) -> HitPoints:
    """Damage then healing within `change`; NotFound unless the character is in the change's game session."""
    row = await _locked(change.tx, character_id)
    if row["session_id"] is None or row["session_id"] != change.session_id:
        raise NotFound("Character not found in this session")
    return await _apply_hp(change, user, row, hp)


async def _apply_hp(change: Change, user: User, row: Row, hp: HitPointChange) -> HitPoints:
    character_id = row["character_id"]
    _require_owner_or_dm(user, row)
    old_hp = row["current_hp"]
    new_hp = hp.applied_to(old_hp, row["max_hp"])
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
                "damage": hp.damage,
                "healing": hp.healing,
                "is_dead": new_hp <= 0,
            },
        )
    return {"character_id": character_id, "current_hp": new_hp, "max_hp": row["max_hp"], "is_dead": new_hp <= 0}


async def get(db: Database, user: User, character_id: int) -> Character:
    """The owner and the DM of the character's game session get the whole sheet (`view` "full"); a player
    of the same game session gets the party view (`view` "party"); anyone else is refused."""
    row = await db.fetch_one(
        f"SELECT {CHARACTER_COLUMNS} FROM characters WHERE character_id = :cid", {"cid": character_id}
    )
    if row is None:
        raise NotFound("Character not found")
    if row["user_id"] == user.user_id:
        return {**detail(row), "view": "full"}
    if row["session_id"] is not None:
        member = await membership(db, row["session_id"], user)
        if member is not None:
            if member.role == "dm":
                return {**detail(row), "view": "full"}
            return {**summary(row), "view": "party"}
    raise Forbidden("You can only view your own characters and those of your party")


async def list_visible(
    db: Database, user: User, session_id: int | None, limit: int, offset: int
) -> tuple[list[Character], int]:
    """The user's own characters and, for a DM, every character in the game sessions they run; all as
    full sheets. With `session_id`, only that game session's (the user must be its DM or a player)."""
    where = "(c.user_id = :uid OR g.dm_user_id = :uid)"
    values: dict[str, Any] = {"uid": user.user_id}
    if session_id is not None:
        await require_member(db, session_id, user)
        where += " AND c.session_id = :sid"
        values["sid"] = session_id
    source = f"FROM characters c LEFT JOIN game_sessions g ON g.session_id = c.session_id WHERE {where}"
    total = await db.fetch_val(f"SELECT count(*) {source}", values)
    columns = ", ".join(f"c.{name.strip()}" for name in CHARACTER_COLUMNS.split(","))
    rows = await db.fetch_all(
        f"SELECT {columns} {source} ORDER BY c.character_id LIMIT :limit OFFSET :offset",
        {**values, "limit": limit, "offset": offset},
    )
    return [detail(row) for row in rows], int(total)


# What other players may not see of a character's experience (get.php's party view hides them too).
XP_SECRETS = frozenset({"old_xp", "experience_points"})


def _advance(row: Row, xp_amount: int) -> Advancement:
    """The character after gaining `xp_amount`: its level from the class XP table (capped at the class
    maximum, never lowered), and one class hit-point gain for every level gained."""
    new_xp = row["experience_points"] + xp_amount
    new_level = max(row["level"], classes.level_for_xp(row["class"], new_xp))
    gained = sum(
        classes.hp_gained(row["class"], level, row["constitution"], _rng)
        for level in range(row["level"] + 1, new_level + 1)
    )
    return {
        "character_id": row["character_id"],
        "character_name": row["character_name"],
        "user_id": row["user_id"],
        "old_xp": row["experience_points"],
        "experience_points": new_xp,
        "old_level": row["level"],
        "level": new_level,
        "levelled_up": new_level > row["level"],
        "hp_gained": gained,
        "current_hp": row["current_hp"] + gained,
        "max_hp": row["max_hp"] + gained,
    }


async def grant_xp(
    log: EventLog, dm: User, session_id: int, character_ids: list[int], xp_amount: int, reason: str | None
) -> XpGrant:
    """Give every listed character of the DM's game session `xp_amount` XP, in one transaction."""
    await require_dm(log.db, session_id, dm)
    async with log.change(session_id) as change:
        tx = change.tx
        names = ", ".join(f":c{i}" for i in range(len(character_ids)))
        rows = await tx.fetch_all(
            f"SELECT {CHARACTER_COLUMNS} FROM characters WHERE character_id IN ({names}) "
            "ORDER BY character_id" + tx.for_update,
            {f"c{i}": cid for i, cid in enumerate(character_ids)},
        )
        by_id = {row["character_id"]: row for row in rows}
        outside = [cid for cid in character_ids if cid not in by_id or by_id[cid]["session_id"] != session_id]
        if outside:
            listed = ", ".join(str(cid) for cid in outside)
            raise Invalid({"character_ids": f"Not characters of this session: {listed}"})
        now = clock.now_text()
        results = [_advance(by_id[cid], xp_amount) for cid in character_ids]
        for result in results:
            await tx.execute(
                "UPDATE characters SET experience_points = :xp, level = :level, current_hp = :hp, max_hp = :max_hp, "
                "updated_at = :now WHERE character_id = :cid",
                {
                    "xp": result["experience_points"],
                    "level": result["level"],
                    "hp": result["current_hp"],
                    "max_hp": result["max_hp"],
                    "now": now,
                    "cid": result["character_id"],
                },
            )
        for result in results:
            # Experience points are the owner's and the DM's (the party view hides them): the rest of the
            # table gets the same event without them.
            await change.record(
                session_id,
                "character_xp_updated",
                {**result, "reason": reason},
                audience="users",
                user_ids=(dm.user_id, result["user_id"]),
                redacted_data={key: value for key, value in result.items() if key not in XP_SECRETS}
                | {"reason": reason},
            )
    return {"session_id": session_id, "xp_amount": xp_amount, "reason": reason, "characters": results}
