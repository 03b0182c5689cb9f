"""The peers' database: the same rows our server writes for update-hp (the character's HP, the game
session's event head and one row in the session's event log), plus a login-token table for the cookie."""

from __future__ import annotations

import secrets
import sqlite3

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
