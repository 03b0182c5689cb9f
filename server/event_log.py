"""The durable event log and the one way to change the game: `EventLog.change()` (or, for the hottest
writes, `EventLog.apply()`, which runs the same transaction in one hop to SQLite's writer thread).

The guarantee (README, "Real-time guarantee"): within a game session every event gets an `event_id`
from a gapless sequence (game_sessions.event_head) allocated in the same transaction as the change it
describes. Allocating it updates the game session's row, which serialises writers of one game session
until commit (PostgreSQL row lock; SQLite's single writer), so commit order equals event_id order.
Events are published to the hub only after the transaction commits; if publishing fails they are still
in the log, and the hub repairs the gap from here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from server import clock, codec, wire
from server.broadcast import Broadcast
from server.database import Database, Reads, Row, Transaction
from server.errors import EventTooLarge, SnapshotRequired
from server.metrics import Metrics

T = TypeVar("T")
Audience = Literal["session", "dm", "players", "user", "users"]
# Which form of an event a viewer gets: the full data, the players' form of a session event, or the
# redacted form that those outside the audience get (e.g. "a blind roll was made", without numbers).
Form = Literal["full", "player", "redacted"]
REPLAY_BATCH = 500
HEADS_BATCH = 500  # game sessions per query: bound the number of parameters
MAX_AUDIENCE_USERS = 200
# The most an event may take, all its forms encoded as JSON together: what one change can add to the log,
# to every replay and to every recipient's queue. A bulk change records a compact event instead.
MAX_EVENT_BYTES = 64 * 1024


def _stored_user_ids(user_ids: tuple[int, ...]) -> str | None:
    """audience_user_ids as stored: ",3,7," so that one LIKE ",<id>," finds a member on every database."""
    return "," + ",".join(str(uid) for uid in user_ids) + "," if user_ids else None


def _read_user_ids(stored: str | None) -> tuple[int, ...]:
    return tuple(int(part) for part in stored.split(",") if part) if stored else ()


@dataclass(frozen=True)
class Viewer:
    """Who receives events: the DM of the game session sees everything addressed to the session or the
    DM; a player sees session events (in their player form) and events addressed to them."""

    user_id: int
    is_dm: bool


@dataclass(frozen=True)
class Event:
    """One entry of the log, and who may see which form of it.

    Audience: "session" (every member), "dm" (the game session's DM), "players" (every player, not the
    DM: whoever is a player when it is read, so a later joiner's replay has it too), "user"
    (audience_user_id), or "users" (exactly the members listed in audience_user_ids; list the DM there
    if the DM is to see it). One change that reads differently to the DM and to the players (a token
    the DM moves out of the fog is, to players, one that appears) records one event for each.
    Forms: a member of the audience gets event_data, except that a player gets player_data when it is
    set (monster HP hidden from players). Everyone else in the game session gets redacted_data when it is
    set (say, "a blind roll was made") and nothing at all when it is None. Both transports, replay and
    live, choose the form through `form_for`, so a secret never leaves the server for a viewer outside
    its audience."""

    session_id: int
    event_id: int
    event_type: str
    event_data: dict[str, Any]
    created_at: str
    audience: Audience = "session"
    audience_user_id: int | None = None
    # What players see of a session event when it differs from what the DM sees (e.g. monster HP).
    player_data: dict[str, Any] | None = None
    audience_user_ids: tuple[int, ...] = ()
    # What the rest of the game session sees of an event whose audience excludes them; None: nothing.
    redacted_data: dict[str, Any] | None = None

    def in_audience(self, viewer: Viewer) -> bool:
        if self.audience == "session":
            return True
        if self.audience == "dm":
            return viewer.is_dm
        if self.audience == "players":
            return not viewer.is_dm
        if self.audience == "users":
            return viewer.user_id in self.audience_user_ids
        return viewer.user_id == self.audience_user_id

    def form_for(self, viewer: Viewer) -> Form | None:
        """The form of this event that `viewer` gets; None when they get nothing."""
        if self.in_audience(viewer):
            return "player" if self.player_data is not None and not viewer.is_dm else "full"
        return "redacted" if self.redacted_data is not None else None

    def visible_to(self, viewer: Viewer) -> bool:
        return self.form_for(viewer) is not None

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
            audience_user_ids=_read_user_ids(row["audience_user_ids"]),
            redacted_data=None if row["redacted_data"] is None else codec.loads(row["redacted_data"]),
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
        event_data: Mapping[str, Any],
        *,
        audience: Audience = "session",
        user_id: int | None = None,
        player_data: dict[str, Any] | None = None,
        user_ids: Iterable[int] = (),
        redacted_data: dict[str, Any] | None = None,
    ) -> Event:
        """Append an event (see `Event` for audiences and forms). audience="users" takes `user_ids`."""
        if session_id != self.session_id:
            raise ValueError(f"a change of game session {self.session_id} cannot record in game session {session_id}")
        members = tuple(sorted(set(user_ids)))
        if (audience == "users") != bool(members) or len(members) > MAX_AUDIENCE_USERS:
            raise ValueError(f"audience 'users' takes 1 to {MAX_AUDIENCE_USERS} user ids, and no other audience any")
        if audience == "session" and redacted_data is not None:
            raise ValueError("an event for the whole game session has no redacted form")
        encoded = [None if form is None else codec.dumps(form) for form in (event_data, player_data, redacted_data)]
        size = sum(len(form) for form in encoded if form is not None)
        if size > MAX_EVENT_BYTES:
            raise EventTooLarge(
                f"This change is too large to record: its {event_type} event would be {size} bytes, "
                f"at most {MAX_EVENT_BYTES}"
            )
        data, player, redacted = (None if form is None else form.decode() for form in encoded)
        event_id = await self.tx.fetch_val(
            "UPDATE game_sessions SET event_head = event_head + 1 WHERE session_id = :sid RETURNING event_head",
            {"sid": session_id},
        )
        event = Event(
            session_id,
            event_id,
            event_type,
            dict(event_data),
            clock.now_text(),
            audience,
            user_id,
            player_data,
            members,
            redacted_data,
        )
        await self.tx.execute(
            "INSERT INTO session_events (session_id, event_id, event_type, event_data, player_data, audience, "
            "audience_user_id, audience_user_ids, redacted_data, created_at) VALUES (:sid, :eid, :type, :data, "
            ":player_data, :audience, :uid, :uids, :redacted, :at)",
            {
                "sid": session_id,
                "eid": event_id,
                "type": event_type,
                "data": data,
                "player_data": player,
                "audience": audience,
                "uid": user_id,
                "uids": _stored_user_ids(members),
                "redacted": redacted,
                "at": event.created_at,
            },
        )
        self.events.append(event)
        return event

    async def find(self, event_id: int) -> Event | None:
        """An event already in this change's game session, read inside the transaction."""
        row = await self.tx.fetch_one(
            f"SELECT {_COLUMNS} FROM session_events WHERE session_id = :sid AND event_id = :eid",
            {"sid": self.session_id, "eid": event_id},
        )
        return None if row is None else Event.from_row(row)

    async def replace_data(self, event_id: int, event_data: dict[str, Any]) -> None:
        """Overwrite the data of an event already in the log, in the full and the players' form (a
        deleted chat message loses its text). Its id, type, audience and redacted form stay, so the
        ordering guarantee and who sees that it happened are unchanged."""
        await self.tx.execute(
            "UPDATE session_events SET event_data = :data, player_data = NULL "
            "WHERE session_id = :sid AND event_id = :eid",
            {"data": codec.dumps_text(event_data), "sid": self.session_id, "eid": event_id},
        )


async def _begun(tx: Transaction, session_id: int | None) -> Change:
    """A change in `tx`, with the game session's row locked first (see `EventLog.change`)."""
    if session_id is not None and tx.for_update:
        await tx.execute(
            "SELECT session_id FROM game_sessions WHERE session_id = :sid" + tx.for_update, {"sid": session_id}
        )
    return Change(tx, session_id)


async def _located(tx: Transaction, locate: Callable[[Reads], Coroutine[Any, Any, int | None]]) -> Change:
    """A change in the game session `locate` finds within `tx` (SQLite only: no row to lock first)."""
    return Change(tx, await locate(tx))


class EventLog:
    def __init__(self, db: Database, broadcast: Broadcast, metrics: Metrics | None = None) -> None:
        self.db = db
        self.broadcast = broadcast
        self.metrics = metrics or Metrics()

    @asynccontextmanager
    async def change(self, session_id: int | None = None) -> AsyncIterator[Change]:
        """A transaction that changes the game; given a game session, it may record events in it.

        The game session's row is locked first, before any row the change reads for update: every
        change in a game session ends by allocating an event_id from that row, so taking it first is
        what keeps lock order the same everywhere (PostgreSQL; SQLite has one writer anyway)."""
        async with self.db.transaction() as tx:
            change = await _begun(tx, session_id)
            yield change
        await self._publish(change.events)

    async def apply(self, session_id: int | None, work: Callable[[Change], Coroutine[Any, Any, T]]) -> T:
        """`work(change)` as one `change(session_id)`, its events published after it commits. On SQLite
        the whole transaction runs in one hop to the writer's thread (`Database.in_one_hop`), so `work`
        may await only the change's own statements (`change.tx`, `change.record`, `change.find`)."""
        return await self._applied(lambda tx: _begun(tx, session_id), work)

    async def apply_located(
        self,
        locate: Callable[[Reads], Coroutine[Any, Any, int | None]],
        work: Callable[[Change], Coroutine[Any, Any, T]],
    ) -> T:
        """`apply` in the game session that `locate(reads)` names (the one the changed thing is in). On
        SQLite, whose writers are serialised, `locate` runs inside the one-hop transaction: no read before
        it, and what it read still holds in `work`. On PostgreSQL it reads before the transaction, which
        then locks that game session's row first, so there `work` must check that the thing is still in
        `change.session_id`."""
        if self.db.dialect != "sqlite":
            return await self.apply(await locate(self.db), work)
        return await self._applied(lambda tx: _located(tx, locate), work)

    async def _applied(
        self,
        begin: Callable[[Transaction], Coroutine[Any, Any, Change]],
        work: Callable[[Change], Coroutine[Any, Any, T]],
    ) -> T:
        async def whole(tx: Transaction) -> tuple[T, Change]:
            change = await begin(tx)
            return await work(change), change

        result, change = await self.db.in_one_hop(whole)
        await self._publish(change.events)
        return result

    async def _publish(self, events: list[Event]) -> None:
        by_session: dict[int, list[Event]] = {}
        for event in events:
            by_session.setdefault(event.session_id, []).append(event)
        for session_id, session_events in by_session.items():
            await self.broadcast.publish(wire.session_channel(session_id), wire.Events(tuple(session_events)))
            self.metrics.published(len(session_events))

    async def head(self, session_id: int) -> int:
        head = await self.db.fetch_val(
            "SELECT event_head FROM game_sessions WHERE session_id = :sid", {"sid": session_id}
        )
        return int(head or 0)

    async def require_retained(self, session_id: int, after: int) -> None:
        """SnapshotRequired when events after `after` have been pruned (EVENT_RETENTION_DAYS): a client
        resuming from there would silently miss them, so it is told to load the snapshot again."""
        row = await self.db.fetch_one(
            "SELECT g.event_head, (SELECT min(e.event_id) FROM session_events e WHERE e.session_id = :sid) AS oldest "
            "FROM game_sessions g WHERE g.session_id = :sid",
            {"sid": session_id},
        )
        if row is None:
            return
        oldest = row["oldest"] if row["oldest"] is not None else row["event_head"] + 1
        if after < row["event_head"] and after + 1 < oldest:
            raise SnapshotRequired(
                f"Events after {after} are no longer kept; load GET /api/session/snapshot.php and resume from its "
                "head_event_id"
            )

    async def prune(self, created_before: str) -> None:
        """Delete the events of every game session created before `created_before` ('YYYY-MM-DD HH:MM:SS')."""
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM session_events WHERE created_at < :before", {"before": created_before})

    async def heads(self, session_ids: Iterable[int]) -> dict[int, int]:
        """The last event_id of each of these game sessions (those that exist)."""
        ids = list(session_ids)
        heads: dict[int, int] = {}
        for start in range(0, len(ids), HEADS_BATCH):
            batch = ids[start : start + HEADS_BATCH]
            names = ", ".join(f":s{i}" for i in range(len(batch)))
            rows = await self.db.fetch_all(
                f"SELECT session_id, event_head FROM game_sessions WHERE session_id IN ({names})",
                {f"s{i}": sid for i, sid in enumerate(batch)},
            )
            heads.update((row["session_id"], int(row["event_head"] or 0)) for row in rows)
        return heads

    async def notified(self, user_id: int, notification: dict[str, Any]) -> None:
        """Offer a notification, already committed, to the user's open sockets on every process."""
        await self.broadcast.publish(wire.CONTROL_CHANNEL, wire.Notify(user_id, notification))

    async def logged_out(self, user_id: int) -> None:
        """Tell every process that the user's login session ended, so their sockets close."""
        await self.broadcast.publish(wire.CONTROL_CHANNEL, wire.Logout(user_id))

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
        sql = f"SELECT {_COLUMNS} FROM session_events WHERE session_id = :sid AND event_id > :after"
        values: dict[str, Any] = {"sid": session_id, "after": after, "limit": limit}
        if until is not None:
            sql += " AND event_id <= :until"
            values["until"] = until
        if viewer is not None:
            sql += _visible_to(viewer, values)
        rows = await self.db.fetch_all(sql + " ORDER BY event_id LIMIT :limit", values)
        return [Event.from_row(row) for row in rows]

    async def history(
        self, session_id: int, viewer: Viewer, event_types: tuple[str, ...], *, before: int | None, limit: int
    ) -> tuple[list[Event], int | None]:
        """One page of a history that pages back in time: the newest `limit` events of `event_types`
        before event_id `before` that `viewer` may see (in any form), oldest first, and the `before` that
        asks for the page before it (None when there is none)."""
        types = ", ".join(f":t{i}" for i in range(len(event_types)))
        values: dict[str, Any] = {"sid": session_id, "limit": limit + 1}
        values.update({f"t{i}": event_type for i, event_type in enumerate(event_types)})
        sql = f"SELECT {_COLUMNS} FROM session_events WHERE session_id = :sid AND event_type IN ({types})"
        if before is not None:
            sql += " AND event_id < :before"
            values["before"] = before
        rows = await self.db.fetch_all(
            sql + _visible_to(viewer, values) + " ORDER BY event_id DESC LIMIT :limit", values
        )
        events = [Event.from_row(row) for row in reversed(rows[:limit])]
        return events, events[0].event_id if len(rows) > limit else None


_COLUMNS = (
    "session_id, event_id, event_type, event_data, player_data, audience, audience_user_id, audience_user_ids, "
    "redacted_data, created_at"
)


def _visible_to(viewer: Viewer, values: dict[str, Any]) -> str:
    """The SQL condition (and its values) for the events `viewer` gets in any form; mirrors Event.form_for."""
    values.update(is_dm=int(viewer.is_dm), uid=viewer.user_id, member=f"%,{viewer.user_id},%")
    return (
        " AND (audience = 'session' OR (audience = 'dm' AND :is_dm = 1)"
        " OR (audience = 'players' AND :is_dm = 0)"
        " OR (audience = 'user' AND audience_user_id = :uid)"
        " OR (audience = 'users' AND audience_user_ids LIKE :member) OR redacted_data IS NOT NULL)"
    )
