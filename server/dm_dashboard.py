"""The DM's dashboard: one read of everything on the DM's side of the screen for a game session."""

from __future__ import annotations

from typing import cast

from typing_extensions import TypedDict

from server import initiative, monster_instances
from server.accounts import User
from server.characters import CHARACTER_COLUMNS, Character
from server.database import Database
from server.game_sessions import SESSION_COLUMNS, GameSession, require_dm
from server.initiative import Combatant
from server.monster_instances import MonsterInstance


class RunningSession(GameSession):
    round_number: int  # of the initiative tracker; 0 while no combat runs


class Dashboard(TypedDict):
    session: RunningSession
    characters: list[Character]  # whole sheets
    monster_instances: list[MonsterInstance]  # as the DM sees them
    initiative: list[Combatant]  # in turn order


async def dashboard(db: Database, dm: User, session_id: int) -> Dashboard:
    """{session, characters, monster_instances, initiative}: the session's row (with round_number), every
    character in it with all its scores, every monster instance as the DM sees it, and the tracker's
    entries in turn order. Only the session's DM may read it."""
    await require_dm(db, session_id, dm)
    session = await db.fetch_one(
        f"SELECT {SESSION_COLUMNS}, round_number FROM game_sessions WHERE session_id = :sid", {"sid": session_id}
    )
    characters = await db.fetch_all(
        f"SELECT {CHARACTER_COLUMNS} FROM characters WHERE session_id = :sid ORDER BY character_id",
        {"sid": session_id},
    )
    monsters, _, _ = await monster_instances.for_session(db, dm, session_id)
    tracker = await initiative.tracker(db, session_id)
    return {
        "session": cast(RunningSession, session),
        "characters": [cast(Character, {**row, "is_dead": row["current_hp"] <= 0}) for row in characters],
        "monster_instances": monsters,
        "initiative": tracker["initiatives"],
    }
