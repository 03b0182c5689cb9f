"""The durable event log and the one way to change the game: `EventLog.change()`.

The guarantee (README, "Real-time guarantee"): within a game session every event gets an `event_id`
from a gapless sequence (game_sessions.event_head) allocated in the same transaction as the change it
describes. Allocating it updates the game session's row, which serialises writers of one game session
until commit (PostgreSQL row lock; SQLite's single writer), so commit order equals event_id order.
Events are published to the hub only after the transaction commits; if publishing fails they are still
in the log, and the hub repairs the gap from here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

from server import clock, codec
from server.channels import wire
from server.channels.broadcast import Broadcast
from server.database import Database, Row, Transaction

Audience = Literal["session", "dm", "user"]
REPLAY_BATCH = 500


@dataclass(frozen=True)
class Viewer:
    """Who receives events: the DM of the game session sees everything addressed to the session or the
    DM; a player sees session events (in their player form) and events addressed to them."""

    user_id: int
    is_dm: bool


@dataclass(frozen=True)
class Event:
    session_id: int
    event_id: int
    event_type: str
    event_data: dict[str, Any]
    created_at: str
    audience: Audience = "session"
    audience_user_id: int | None = None
    # What players see of a session event when it differs from what the DM sees (e.g. monster HP).
    player_data: dict[str, Any] | None = None

    def visible_to(self, viewer: Viewer) -> bool:
        if self.audience == "session":
            return True
        if self.audience == "dm":
            return viewer.is_dm
        return viewer.user_id == self.audience_user_id

    def envelope(self, for_dm: bool) -> dict[str, Any]:
        """The event as both transports send it."""
        data = self.event_data if for_dm or self.player_data is None else self.player_data
        return {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "event_data": data,
            "created_at": self.created_at,
        }

    def to_wire(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "event_data": self.event_data,
            "player_data": self.player_data,
            "audience": self.audience,
            "audience_user_id": self.audience_user_id,
            "created_at": self.created_at,
        }

    @classmethod
    def from_wire(cls, item: dict[str, Any]) -> Event:
        return cls(**item)

    @classmethod
    def from_row(cls, row: Row) -> Event:
        return cls(
            session_id=row["session_id"],
            event_id=row["event_id"],
            event_type=row["event_type"],
            event_data=codec.loads(row["event_data"]),
            created_at=row["created_at"],
            audience=row["audience"],
            audience_user_id=row["audience_user_id"],
            player_data=None if row["player_data"] is None else codec.loads(row["player_data"]),
        )


class Change:
    """One transaction that changes the game; the events it records are published after it commits.

    A change to a game session locks that game session's row before anything else (see
    `EventLog.change`), so every writer takes its locks in the same order and none can deadlock."""

    def __init__(self, tx: Transaction, session_id: int | None = None) -> None:
        self.tx = tx
        self.session_id = session_id
        self.events: list[Event] = []

    async def record(
        self,
        session_id: int,
        event_type: str,
        event_data: dict[str, Any],
        *,
        audience: Audience = "session",
        user_id: int | None = None,
        player_data: dict[str, Any] | None = None,
    ) -> Event:
        if session_id != self.session_id:
            raise ValueError(f"a change of game session {self.session_id} cannot record in game session {session_id}")
        event_id = await self.tx.fetch_val(
            "UPDATE game_sessions SET event_head = event_head + 1 WHERE session_id = :sid RETURNING event_head",
            {"sid": session_id},
        )
        event = Event(session_id, event_id, event_type, event_data, clock.now_text(), audience, user_id, player_data)
        await self.tx.execute(
            "INSERT INTO session_events (session_id, event_id, event_type, event_data, player_data, audience, "
            "audience_user_id, created_at) VALUES (:sid, :eid, :type, :data, :player_data, :audience, :uid, :at)",
            {
                "sid": session_id,
                "eid": event_id,
                "type": event_type,
                "data": codec.dumps_text(event_data),
                "player_data": None if player_data is None else codec.dumps_text(player_data),
                "audience": audience,
                "uid": user_id,
                "at": event.created_at,
            },
        )
        self.events.append(event)
        return event


class EventLog:
    def __init__(self, db: Database, broadcast: Broadcast) -> None:
        self.db = db
        self._broadcast = broadcast

    @asynccontextmanager
    async def change(self, session_id: int | None = None) -> AsyncIterator[Change]:
        """A transaction that changes the game; given a game session, it may record events in it.

        The game session's row is locked first, before any row the change reads for update: every
        change in a game session ends by allocating an event_id from that row, so taking it first is
        what keeps lock order the same everywhere (PostgreSQL; SQLite has one writer anyway)."""
        async with self.db.transaction() as tx:
            change = Change(tx, session_id)
            if session_id is not None and tx.for_update:
                await tx.execute(
                    "SELECT session_id FROM game_sessions WHERE session_id = :sid" + tx.for_update, {"sid": session_id}
                )
            yield change
        by_session: dict[int, list[Event]] = {}
        for event in change.events:
            by_session.setdefault(event.session_id, []).append(event)
        for session_id, events in by_session.items():
            await self._broadcast.publish(wire.session_channel(session_id), wire.events_message(events))

    async def head(self, session_id: int) -> int:
        head = await self.db.fetch_val(
            "SELECT event_head FROM game_sessions WHERE session_id = :sid", {"sid": session_id}
        )
        return int(head or 0)

    async def since(
        self,
        session_id: int,
        after: int,
        *,
        viewer: Viewer | None = None,
        until: int | None = None,
        limit: int = REPLAY_BATCH,
    ) -> list[Event]:
        """Events after `after` (and up to `until`), oldest first; only those `viewer` may see, if given."""
        sql = (
            "SELECT session_id, event_id, event_type, event_data, player_data, audience, audience_user_id, "
            "created_at FROM session_events WHERE session_id = :sid AND event_id > :after"
        )
        values: dict[str, Any] = {"sid": session_id, "after": after, "limit": limit}
        if until is not None:
            sql += " AND event_id <= :until"
            values["until"] = until
        if viewer is not None:
            sql += (
                " AND (audience = 'session' OR (audience = 'dm' AND :is_dm = 1)"
                " OR (audience = 'user' AND audience_user_id = :uid))"
            )
            values.update(is_dm=int(viewer.is_dm), uid=viewer.user_id)
        rows = await self.db.fetch_all(sql + " ORDER BY event_id LIMIT :limit", values)
        return [Event.from_row(row) for row in rows]
