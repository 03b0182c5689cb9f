"""The peers' database: the same rows our server writes for update-hp (the character's HP, the game
session's event head and one row in the session's event log), plus a login-token table for the cookie."""

from __future__ import annotations

import asyncio
import json
import secrets
import sqlite3
import time
from typing import Any

SCHEMA = """
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS login_tokens (token TEXT PRIMARY KEY, user_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS game_sessions (
    session_id INTEGER PRIMARY KEY, dm_user_id INTEGER NOT NULL, event_head INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS characters (
    character_id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL, user_id INTEGER NOT NULL,
    character_name TEXT NOT NULL, current_hp INTEGER NOT NULL, max_hp INTEGER NOT NULL, updated_at TEXT);
CREATE TABLE IF NOT EXISTS session_events (
    session_id INTEGER NOT NULL, event_id INTEGER NOT NULL, event_type TEXT NOT NULL, event_data TEXT NOT NULL,
    created_at TEXT NOT NULL, PRIMARY KEY (session_id, event_id));
"""

HP = 100_000_000


def seed(path: str, sessions: int) -> dict:
    """S game sessions of DM user 1, one character each; returns {token, sessions: [(sid, cid)]}."""
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    token = secrets.token_urlsafe(32)
    db.execute("INSERT INTO login_tokens VALUES (?, 1)", (token,))
    pairs = []
    for sid in range(1, sessions + 1):
        db.execute("INSERT INTO game_sessions (session_id, dm_user_id) VALUES (?, 1)", (sid,))
        db.execute(
            "INSERT INTO characters (character_id, session_id, user_id, character_name, current_hp, max_hp) "
            "VALUES (?, ?, 1, ?, ?, ?)",
            (sid, sid, f"Fighter {sid}", HP, HP),
        )
        pairs.append((sid, sid))
    db.commit()
    db.close()
    return {"token": token, "sessions": pairs}


async def write_hp(
    db: Any, lock: asyncio.Lock, user_id: int, character_id: int, damage: int, healing: int
) -> dict[str, Any] | None:
    """The update-hp write every Python peer makes, in one transaction on the aiosqlite connection `db`:
    the character's HP, the game session's event head, one event-log row. None if the user may not."""
    async with lock:
        await db.execute("BEGIN IMMEDIATE")
        try:
            async with db.execute(
                "SELECT c.session_id, c.user_id, c.character_name, c.current_hp, c.max_hp, g.dm_user_id "
                "FROM characters c JOIN game_sessions g ON g.session_id = c.session_id WHERE c.character_id = ?",
                (character_id,),
            ) as cur:
                row = await cur.fetchone()
            if row is None or user_id not in (row[1], row[5]):
                await db.execute("ROLLBACK")
                return None
            session_id, owner, name, old_hp, max_hp, _ = row
            new_hp = max(0, min(max_hp, old_hp - damage + healing))
            at = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
            await db.execute(
                "UPDATE characters SET current_hp = ?, updated_at = ? WHERE character_id = ?",
                (new_hp, at, character_id),
            )
            async with db.execute(
                "UPDATE game_sessions SET event_head = event_head + 1 WHERE session_id = ? RETURNING event_head",
                (session_id,),
            ) as cur:
                event_id = (await cur.fetchone())[0]
            data = {
                "character_id": character_id,
                "character_name": name,
                "user_id": owner,
                "old_hp": old_hp,
                "current_hp": new_hp,
                "max_hp": max_hp,
                "damage": damage,
                "healing": healing,
                "is_dead": new_hp <= 0,
            }
            await db.execute(
                "INSERT INTO session_events (session_id, event_id, event_type, event_data, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (session_id, event_id, "character_hp_updated", json.dumps(data), at),
            )
            await db.execute("COMMIT")
        except BaseException:
            await db.execute("ROLLBACK")
            raise
    return {
        "session_id": session_id,
        "envelope": {"event_id": event_id, "event_type": "character_hp_updated", "event_data": data, "created_at": at},
        "answer": {"character_id": character_id, "current_hp": new_hp, "max_hp": max_hp, "is_dead": new_hp <= 0},
    }
