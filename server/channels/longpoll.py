"""Long-poll transport, as the legacy client expects it (../shared/spec/legacy-wire.md): the events after
the client's cursor at once, or else wait on the hub for the next ones. Never polls the database in a
loop. The HTTP side (GET /api/realtime/poll.php) is server/api/realtime.py."""

from __future__ import annotations

import asyncio
import contextlib
import time

from typing_extensions import TypedDict

from server import game_sessions, wire
from server.accounts import User
from server.channels.hub import Hub, View

MAX_EVENTS = 100


class Poll(TypedDict):
    session_id: int
    events: list[wire.EventEnvelope]  # oldest first, at most 100
    event_count: int
    last_event_id: int  # ask from here next
    online_users: list[wire.OnlineUser]
    online_count: int
    timestamp: int  # epoch seconds


MAX_TIMEOUT = 25


async def poll(hub: Hub, user: User, login_hash: str, session_id: int, last_event_id: int, wait_seconds: float) -> Poll:
    """The poll's answer: up to MAX_EVENTS events the user may see after `last_event_id`, waiting up to
    `wait_seconds` (at most MAX_TIMEOUT) seconds for one if there is none yet; and who is online.
    `login_hash` is what the hub rechecks (server/credentials.py: the login session's or the API key's)."""
    member = await game_sessions.require_member(hub.event_log.db, session_id, user)
    await hub.event_log.require_retained(session_id, last_event_id)
    viewer = game_sessions.viewer(user, member)
    subscriber = await hub.join(session_id, viewer, (user.user_id, user.username), "poll", login_hash)
    try:
        events = [
            envelope
            for event in await hub.event_log.since(session_id, last_event_id, viewer=viewer, limit=MAX_EVENTS)
            if (envelope := wire.envelope_for(event, viewer)) is not None
        ]
        if not events and subscriber.closed is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(subscriber.wake.wait(), min(wait_seconds, MAX_TIMEOUT))
            events = [
                item.envelope
                for item in subscriber.take(MAX_EVENTS)
                if isinstance(item, View) and item.event_id > last_event_id
            ]
    finally:
        await hub.leave(subscriber)
    online = hub.online(session_id)
    return {
        "session_id": session_id,
        "events": events,
        "event_count": len(events),
        # Never past an event this client has not been given: the legacy client skips to it.
        "last_event_id": events[-1]["event_id"] if events else last_event_id,
        "online_users": online,
        "online_count": len(online),
        "timestamp": int(time.time()),
    }
