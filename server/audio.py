"""The game session's music: the DM's controls and the state a late joiner picks up."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal, cast

from typing_extensions import TypedDict

from server import codec
from server.accounts import User
from server.database import Database
from server.errors import Invalid
from server.event_log import EventLog
from server.game_sessions import require_dm

Action = Literal["play", "pause", "stop", "volume", "loop"]
Status = Literal["playing", "paused", "stopped"]
MAX_VOLUME = 100
MAX_POSITION = 86_400.0  # seconds: a day-long track is already absurd


class AudioState(TypedDict):
    status: Status
    track_url: str | None
    track_name: str | None
    volume: int
    loop: bool
    position: float  # seconds into the track when `updated_at` was written
    updated_at: float | None  # epoch seconds


class AudioControl(AudioState):
    session_id: int
    action: Action


SILENCE: AudioState = {
    "status": "stopped",
    "track_url": None,
    "track_name": None,
    "volume": 80,
    "loop": False,
    "position": 0.0,
    "updated_at": None,
}


@dataclass(frozen=True)
class AudioChange:
    """One of the DM's controls. `play` needs a track (this one's, or the one already loaded); `volume`
    and `loop` need their value. Position, volume and loop may come along with any action."""

    action: Action
    track_url: str | None = None
    track_name: str | None = None
    volume: int | None = None
    loop: bool | None = None
    position: float | None = None

    def __post_init__(self) -> None:
        if self.action == "volume" and self.volume is None:
            raise Invalid({"volume": "Volume is required for the volume action"})
        if self.action == "loop" and self.loop is None:
            raise Invalid({"loop": "Loop (true or false) is required for the loop action"})


def _stored(raw: str | None) -> AudioState:
    return cast(AudioState, {**SILENCE, **(codec.loads(raw) if raw else {})})


async def current(db: Database, session_id: int) -> AudioState:
    """The audio state; while playing, `position` is where the track is now."""
    raw = await db.fetch_val("SELECT audio_state FROM game_sessions WHERE session_id = :sid", {"sid": session_id})
    state = _stored(raw)
    if state["status"] == "playing" and state["updated_at"] is not None:
        state["position"] = round(state["position"] + max(0.0, time.time() - state["updated_at"]), 3)
        state["updated_at"] = time.time()
    return state


def _apply(state: AudioState, change: AudioChange, now: float) -> AudioState:
    if state["status"] == "playing" and state["updated_at"] is not None:
        state["position"] = state["position"] + max(0.0, now - state["updated_at"])
    if change.action == "play":
        track_url = change.track_url or state["track_url"]
        if not track_url:
            raise Invalid({"track_url": "Track URL is required to start playing"})
        if track_url != state["track_url"]:
            state["position"], state["track_name"] = 0.0, None
        state["track_url"] = track_url
        state["track_name"] = change.track_name or state["track_name"]
        state["status"] = "playing"
    elif change.action == "pause":
        state["status"] = "paused" if state["track_url"] else "stopped"
    elif change.action == "stop":
        state["status"] = "stopped"
        state["position"] = 0.0
    if change.position is not None:
        state["position"] = float(change.position)
    if change.volume is not None:
        state["volume"] = change.volume
    if change.loop is not None:
        state["loop"] = change.loop
    state["position"] = round(state["position"], 3)
    state["updated_at"] = now
    return state


async def control(log: EventLog, dm: User, session_id: int, change: AudioChange) -> AudioControl:
    """Apply the DM's control; everyone in the game session gets `audio_control` with the new state."""
    await require_dm(log.db, session_id, dm)
    async with log.change(session_id) as db_change:
        raw = await db_change.tx.fetch_val(
            "SELECT audio_state FROM game_sessions WHERE session_id = :sid",
            {"sid": session_id},
        )
        state = _apply(_stored(raw), change, time.time())
        await db_change.tx.execute(
            "UPDATE game_sessions SET audio_state = :state WHERE session_id = :sid",
            {"state": codec.dumps_text(state), "sid": session_id},
        )
        await db_change.record(session_id, "audio_control", {"action": change.action, **state})
    return {"session_id": session_id, "action": change.action, **state}
