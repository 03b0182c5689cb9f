"""Long-poll transport: GET /api/realtime/poll.php, as the legacy client expects it
(../shared/spec/legacy-wire.md). Waits on the hub, never polls the database in a loop."""

from __future__ import annotations

import asyncio
import contextlib
import time

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from server import game_sessions
from server.api.envelope import success
from server.api.requests import Body, authenticated, query
from server.channels.hub import Hub, View

MAX_EVENTS = 100
MAX_TIMEOUT = 25


class PollQuery(Body):
    session_id: int = Field(title="Session ID", ge=1)
    last_event_id: int = Field(default=0, title="Last event ID", ge=0)
    timeout: float = Field(default=MAX_TIMEOUT, title="Timeout", ge=0)


async def poll(request: Request) -> Response:
    login = await authenticated(request)
    params = query(request, PollQuery)
    hub: Hub = request.app.state.hub
    member = await game_sessions.require_member(hub.event_log.db, params.session_id, login.user)
    viewer = game_sessions.viewer(login.user, member)
    subscriber = await hub.join(params.session_id, viewer, (login.user.user_id, login.user.username), "poll")
    try:
        events = [
            envelope
            for event in await hub.event_log.since(
                params.session_id, params.last_event_id, viewer=viewer, limit=MAX_EVENTS
            )
            if (envelope := event.envelope_for(viewer)) is not None
        ]
        if not events and subscriber.closed is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(subscriber.wake.wait(), min(params.timeout, MAX_TIMEOUT))
            events = [
                item.envelope
                for item in subscriber.take(MAX_EVENTS)
                if isinstance(item, View) and item.event_id > params.last_event_id
            ]
    finally:
        await hub.leave(subscriber)
    online = hub.online(params.session_id)
    return success(
        {
            "session_id": params.session_id,
            "events": events,
            "event_count": len(events),
            # Never past an event this client has not been given: the legacy client skips to it.
            "last_event_id": events[-1]["event_id"] if events else params.last_event_id,
            "online_users": online,
            "online_count": len(online),
            "timestamp": int(time.time()),
        }
    )
