"""The game session's music: the DM's controls and the state a late joiner picks up."""

from __future__ import annotations

import time
from typing import Any

from server import codec
from server.accounts import User
from server.database import Database
from server.errors import Invalid
from server.event_log import EventLog
from server.game_sessions import require_dm

SILENCE: dict[str, Any] = {
    "status": "stopped",
    "track_url": None,
    "track_name": None,
    "volume": 80,
    "loop": False,
    "position": 0.0,
    "updated_at": None,
}


async def current(db: Database, session_id: int) -> dict[str, Any]:
    """The audio state; while playing, `position` is where the track is now."""
    raw = await db.fetch_val("SELECT audio_state FROM game_sessions WHERE session_id = :sid", {"sid": session_id})
    state = {**SILENCE, **(codec.loads(raw) if raw else {})}
    if state["status"] == "playing" and state["updated_at"] is not None:
        state["position"] = round(state["position"] + max(0.0, time.time() - state["updated_at"]), 3)
        state["updated_at"] = time.time()
    return state


def _apply(state: dict[str, Any], action: str, fields: dict[str, Any], now: float) -> dict[str, Any]:
    if state["status"] == "playing" and state["updated_at"] is not None:
        state["position"] = state["position"] + max(0.0, now - state["updated_at"])
    if action == "play":
        track_url = fields.get("track_url") or state["track_url"]
        if not track_url:
            raise Invalid({"track_url": "Track URL is required to start playing"})
        if track_url != state["track_url"]:
            state.update(position=0.0, track_name=None)
        state["track_url"] = track_url
        state["track_name"] = fields.get("track_name") or state["track_name"]
        state["status"] = "playing"
    elif action == "pause":
        state["status"] = "paused" if state["track_url"] else "stopped"
    elif action == "stop":
        state["status"] = "stopped"
        state["position"] = 0.0
    if fields.get("position") is not None:
        state["position"] = float(fields["position"])
    if fields.get("volume") is not None:
        state["volume"] = fields["volume"]
    if fields.get("loop") is not None:
        state["loop"] = fields["loop"]
    state["position"] = round(state["position"], 3)
    state["updated_at"] = now
    return state


async def control(log: EventLog, dm: User, session_id: int, action: str, fields: dict[str, Any]) -> dict[str, Any]:
    await require_dm(log.db, session_id, dm)
    async with log.change(session_id) as change:
        raw = await change.tx.fetch_val(
            "SELECT audio_state FROM game_sessions WHERE session_id = :sid",
            {"sid": session_id},
        )
        state = _apply({**SILENCE, **(codec.loads(raw) if raw else {})}, action, fields, time.time())
        await change.tx.execute(
            "UPDATE game_sessions SET audio_state = :state WHERE session_id = :sid",
            {"state": codec.dumps_text(state), "sid": session_id},
        )
        await change.record(session_id, "audio_control", {"action": action, **state})
    return {"session_id": session_id, "action": action, **state}
