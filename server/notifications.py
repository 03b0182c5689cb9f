"""In-app notifications: stored per user, listed and marked read through /v1/notifications, and offered
live to the user's open sockets (a `notification` frame) once the change that made them has committed.

`record(tx, ...)` writes one inside the transaction of the change it is about; the caller hands the
result to `EventLog.notified` after the commit, which offers it to the user's sockets on every process.
In the same transaction it queues a Web Push to each of the user's browsers (server/push_subscriptions.py)
when they take this kind by push.
A user keeps at most MAX_KEPT notifications: the oldest go first.

Kinds: `invitation` (invited to a game session), `webhook_disabled` (an endpoint of theirs stopped
receiving: 410, or failing for the whole retry period), `session_starting` (a game session of theirs starts
within the hour: server/session_reminders.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, cast

from typing_extensions import TypedDict

from server import clock, codec, push_subscriptions
from server.accounts import User
from server.database import Database, Transaction
from server.errors import NotFound

Kind = Literal["invitation", "webhook_disabled", "session_starting"]
KINDS: tuple[Kind, ...] = ("invitation", "webhook_disabled", "session_starting")
Channel = Literal["in_app", "email", "push"]
CHANNELS: tuple[Channel, ...] = ("in_app", "email", "push")
MAX_KEPT = 500
_COLUMNS = "notification_id, kind, title, data, read_at, created_at"


class Notification(TypedDict):
    id: int
    object: Literal["notification"]
    kind: Kind
    title: str
    data: dict[str, Any]  # by kind: the game session (session_id, session_title...) or the webhook endpoint
    read: bool
    read_at: str | None
    created_at: str


class Channels(TypedDict):
    """Whether a kind of notification is taken on each channel."""

    in_app: bool
    email: bool
    push: bool


class NotificationPreferences(TypedDict):
    invitation: Channels  # to a game session
    webhook_disabled: Channels  # one of your webhook endpoints was disabled
    session_starting: Channels  # a game session of yours starts within the hour


def _public(row: dict[str, Any]) -> Notification:
    return {
        "id": row["notification_id"],
        "object": "notification",
        "kind": row["kind"],
        "title": row["title"],
        "data": codec.loads(row["data"]),
        "read": row["read_at"] is not None,
        "read_at": clock.iso(row["read_at"]),
        "created_at": clock.iso(row["created_at"]),
    }


async def wants(db: Database | Transaction, user_id: int, kind: Kind, channel: Channel) -> bool:
    """Whether the user takes notifications of this kind on this channel (yes, unless they said no)."""
    enabled = await db.fetch_val(
        "SELECT enabled FROM notification_preferences WHERE user_id = :uid AND kind = :kind AND channel = :channel",
        {"uid": user_id, "kind": kind, "channel": channel},
    )
    return enabled is None or bool(enabled)


async def preferences(db: Database, user: User) -> NotificationPreferences:
    """Every kind and channel with whether the user takes it."""
    rows = await db.fetch_all(
        "SELECT kind, channel, enabled FROM notification_preferences WHERE user_id = :uid", {"uid": user.user_id}
    )
    chosen = {(row["kind"], row["channel"]): bool(row["enabled"]) for row in rows}
    found = {kind: {channel: chosen.get((kind, channel), True) for channel in CHANNELS} for kind in KINDS}
    return cast(NotificationPreferences, found)


async def set_preferences(db: Database, user: User, changes: dict[str, dict[str, bool]]) -> NotificationPreferences:
    """Change some kinds and channels (the request model bounds the names); the rest stay."""
    async with db.transaction() as tx:
        for kind, channels in changes.items():
            for channel, enabled in channels.items():
                await tx.execute(
                    "INSERT INTO notification_preferences (user_id, kind, channel, enabled) VALUES "
                    "(:uid, :kind, :channel, :enabled) ON CONFLICT (user_id, kind, channel) DO UPDATE "
                    "SET enabled = :enabled",
                    {"uid": user.user_id, "kind": kind, "channel": channel, "enabled": int(enabled)},
                )
    return await preferences(db, user)


async def record(tx: Transaction, user_id: int, kind: Kind, title: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """Store a notification for `user_id` in `tx` and queue its pushes; returns it as the API shows it, or
    None when the user turned this kind off in the app."""
    note = await _store(tx, user_id, kind, title, data) if await wants(tx, user_id, kind, "in_app") else None
    if await wants(tx, user_id, kind, "push"):
        pushed: Mapping[str, Any] = note or {
            "id": None,
            "kind": kind,
            "title": title[:200],
            "data": data,
            "created_at": None,
        }
        await push_subscriptions.queue(tx, user_id, pushed)
    return cast("dict[str, Any] | None", note)  # a Notification, as the event log offers it to sockets


async def _store(tx: Transaction, user_id: int, kind: Kind, title: str, data: dict[str, Any]) -> Notification:
    row = await tx.fetch_one(
        "INSERT INTO notifications (user_id, kind, title, data, created_at) VALUES (:uid, :kind, :title, :data, :now) "
        f"RETURNING {_COLUMNS}",
        {"uid": user_id, "kind": kind, "title": title[:200], "data": codec.dumps_text(data), "now": clock.now_text()},
    )
    assert row is not None
    await tx.execute(
        "DELETE FROM notifications WHERE user_id = :uid AND notification_id <= "
        "(SELECT notification_id FROM notifications WHERE user_id = :uid ORDER BY notification_id DESC "
        "LIMIT 1 OFFSET :kept)",
        {"uid": user_id, "kept": MAX_KEPT},
    )
    return _public(row)


async def list_for(
    db: Database, user: User, unread_only: bool, limit: int, offset: int
) -> tuple[list[Notification], int]:
    """The user's notifications, newest first (only the unread ones, if asked)."""
    where = "user_id = :uid" + (" AND read_at IS NULL" if unread_only else "")
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM notifications WHERE {where} ORDER BY notification_id DESC LIMIT :limit OFFSET :offset",
        {"uid": user.user_id, "limit": limit, "offset": offset},
    )
    total = await db.fetch_val(f"SELECT count(*) FROM notifications WHERE {where}", {"uid": user.user_id})
    return [_public(row) for row in rows], total


async def mark_read(db: Database, user: User, notification_id: int | None) -> int:
    """Mark one of the user's notifications read (NotFound for another's), or all of them when None;
    returns how many were unread."""
    values: dict[str, Any] = {"uid": user.user_id, "now": clock.now_text()}
    where = "user_id = :uid AND read_at IS NULL"
    if notification_id is not None:
        exists = await db.fetch_val(
            "SELECT count(*) FROM notifications WHERE notification_id = :id AND user_id = :uid",
            {"id": notification_id, "uid": user.user_id},
        )
        if not exists:
            raise NotFound("Notification not found")
        where += " AND notification_id = :id"
        values["id"] = notification_id
    async with db.transaction() as tx:
        rows = await tx.fetch_all(
            f"UPDATE notifications SET read_at = :now WHERE {where} RETURNING notification_id", values
        )
    return len(rows)
