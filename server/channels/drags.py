"""Ephemeral map events from a WebSocket: token drags and pings.

Client to server frames:
  {"type": "drag", "token_id", "x_position", "y_position"}   while a token is dragged
  {"type": "drag_end", "token_id"}                            before the drop (the durable move.php)
  {"type": "map_ping", "map_id", "x_position", "y_position"}  draw everyone's eye to a point
Others get {"type": "ephemeral", "event_type": "map_token_dragged" | "map_ping", "event_data": {...}}:
not stored, no event_id, best effort, through the broadcast (every process), never the event log.

Each user sends at most PER_SECOND of them per game session: one within the interval waits, and a newer
one for the same token replaces it, so what goes out is always the newest position. The sender is
checked once per token per connection (the DM drags any token; a player their own character's on the
active map); what players receive is judged by the hub (`TableView`): fog and hidden tokens apply.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from server import map_tokens, wire
from server.errors import DomainError
from server.errors import kind as error_kind

if TYPE_CHECKING:
    from server.channels.hub import Hub, Subscriber

PER_SECOND = 20
MAX_POSITION = 100_000.0
KINDS = ("drag", "drag_end", "map_ping")


@dataclass
class Throttle:
    last: float = -math.inf
    pending: dict[str, wire.Ephemeral] = field(default_factory=dict)  # by key: the newest only
    flusher: asyncio.Task[None] | None = None


def _whole(message: dict[str, Any], name: str) -> int | None:
    value = message.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 2**31 - 1 else None


def _position(message: dict[str, Any], name: str) -> float | None:
    value = message.get(name)
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= MAX_POSITION:
        return float(value)
    return None


def _bad(text: str) -> str:
    return wire.frame("error", error="bad_frame", message=text)


class Drags:
    def __init__(self, hub: Hub, per_second: int = PER_SECOND) -> None:
        self.hub = hub
        self.interval = 1.0 / per_second
        self._throttles: dict[tuple[int, int], Throttle] = {}

    async def receive(self, subscriber: Subscriber, message: dict[str, Any]) -> str | None:
        """Handle one client frame of KINDS; the error frame to answer with, or None."""
        kind = message["type"]
        token_id = _whole(message, "token_id")
        throttle = self._throttles.setdefault((subscriber.session_id, subscriber.viewer.user_id), Throttle())
        if kind == "drag_end":
            if token_id is None:
                return _bad("drag_end needs token_id")
            throttle.pending.pop(f"drag:{token_id}", None)
            return None
        x, y = _position(message, "x_position"), _position(message, "y_position")
        if x is None or y is None:
            return _bad(f"x_position and y_position must be numbers from 0 to {MAX_POSITION:.0f}")
        data: dict[str, Any] = {"x_position": x, "y_position": y, "user_id": subscriber.viewer.user_id}
        if kind == "map_ping":
            map_id = _whole(message, "map_id")
            if map_id is None:
                return _bad("map_ping needs map_id")
            key = f"ping:{subscriber.viewer.user_id}"
        else:
            if token_id is None:
                return _bad("drag needs token_id")
            if token_id not in subscriber.drag_grants:
                try:
                    map_id = await map_tokens.may_drag(
                        self.hub.event_log.db, subscriber.viewer.user_id, subscriber.session_id, token_id
                    )
                except DomainError as exc:
                    return wire.frame("error", error=error_kind(exc).code, message=exc.message)
                subscriber.drag_grants.add(token_id)
                subscriber.drag_maps[token_id] = map_id
            map_id = subscriber.drag_maps[token_id]
            data["token_id"] = token_id
            key = f"drag:{token_id}"
        event_type = "map_ping" if kind == "map_ping" else "map_token_dragged"
        data = {"map_id": map_id, **data}
        await self._submit(throttle, wire.Ephemeral(subscriber.session_id, subscriber.origin, key, event_type, data))
        return None

    async def _submit(self, throttle: Throttle, message: wire.Ephemeral) -> None:
        now = asyncio.get_running_loop().time()
        if not throttle.pending and now - throttle.last >= self.interval:
            throttle.last = now
            await self.hub.publish_ephemeral(message)
            return
        throttle.pending.pop(message.key, None)
        throttle.pending[message.key] = message
        if throttle.flusher is None:
            delay = max(0.0, throttle.last + self.interval - now)
            throttle.flusher = asyncio.create_task(self._flush(throttle, delay))

    async def _flush(self, throttle: Throttle, delay: float) -> None:
        await asyncio.sleep(delay)
        throttle.flusher = None
        pending, throttle.pending = throttle.pending, {}
        throttle.last = asyncio.get_running_loop().time()
        for message in pending.values():
            await self.hub.publish_ephemeral(message)

    async def stop(self) -> None:
        for throttle in self._throttles.values():
            if throttle.flusher is not None:
                throttle.flusher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await throttle.flusher
        self._throttles.clear()

    def forget(self, session_id: int, user_id: int) -> None:
        """Drop the user's throttle once they have no connection left (nothing pending is lost: a flush
        that is running keeps its own reference)."""
        self._throttles.pop((session_id, user_id), None)
