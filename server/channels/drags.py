"""Ephemeral map events from a WebSocket: token drags and pings.

Client to server frames:
  {"type": "drag", "token_id", "x_position", "y_position"}   while a token is dragged
  {"type": "drag_end", "token_id"}                            before the drop (the durable move.php)
  {"type": "map_ping", "map_id", "x_position", "y_position"}  draw everyone's eye to a point
Others get {"type": "ephemeral", "event_type": "map_token_dragged" | "map_ping", "event_data": {...}}:
not stored, no event_id, best effort, never the event log; to every process through the broadcast (in
one process, memory://, the hub fans them out where they arrive).

The rate rule, per user per game session: at most PER_SECOND a second in the long run, the newest
position wins, never a backlog; a position that arrives on time goes out at once. It is a GCRA (generic
cell rate algorithm, a token bucket with a tolerance): each one sent moves the user's `due` time one
interval (1/PER_SECOND) on from when it was due (or from now, if later). One that arrives no earlier than
TOLERANCE intervals before `due` goes at once; an earlier one waits until then, and a newer one for the
same token replaces it while it waits (so what goes out is always the newest). An early one that finds
a frame of the same token still waiting in the game session's batch (not yet written: ephemeral.py)
takes its place instead, which sends no frame more. A burst is at most 1 + TOLERANCE frames.

TOLERANCE is 2 intervals (100 ms) by measurement (bench/analysis.md): frames that arrive late (a busy
server, a slow network) move `due` on from when they arrived, so every frame after them is "early" by
that delay; with half an interval (25 ms), a hiccup of more than 25 ms held every later position of the
drag by the excess, for as long as the drag went on.

The sender is checked once per token per connection (the DM drags any token; a player their own
character's on the active map), from the hub's `TableView` of the active map where it has one, else in the
database; what players receive is judged by the hub (`TableView`): fog and hidden
tokens apply. Most frames are handled without awaiting anything (`receive_now`): one process, a token
already checked, the hub's `TableView` known.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from server import map_tokens, wire
from server.errors import DomainError
from server.errors import kind as error_kind

if TYPE_CHECKING:
    from server.channels.hub import Hub, Subscriber

PER_SECOND = 20
MAX_POSITION = 100_000.0
MAX_ID = 2**31 - 1
KINDS = ("drag", "drag_end", "map_ping")
TOLERANCE = 2.0  # intervals: how early a frame may arrive and still go at once


class Later(enum.Enum):
    """receive_now's answer when the frame needs an await: hand it to `receive`."""

    LATER = enum.auto()


LATER = Later.LATER


@dataclass
class Throttle:
    due: float = -math.inf  # when the user's next one is due (GCRA's theoretical arrival time)
    pending: dict[str, wire.Ephemeral] = field(default_factory=dict)  # by key: the newest only
    timer: asyncio.TimerHandle | None = None
    flushing: asyncio.Task[None] | None = None  # a flush that awaits the broadcast (between processes)


def _whole(message: dict[str, Any], name: str) -> int | None:
    value = message.get(name)
    return value if type(value) is int and 1 <= value <= MAX_ID else None  # type(): a bool is not one


def _position(message: dict[str, Any], name: str) -> float | None:
    value = message.get(name)
    if (type(value) is float or type(value) is int) and 0 <= value <= MAX_POSITION:
        return float(value)
    return None


def _bad(text: str) -> str:
    return wire.frame("error", error="bad_frame", message=text)


def _refused(exc: DomainError) -> str:
    return wire.frame("error", error=error_kind(exc).code, message=exc.message)


class Drags:
    def __init__(self, hub: Hub, per_second: int = PER_SECOND, clock: Callable[[], float] | None = None) -> None:
        self.hub = hub
        self._clock = clock
        self.interval = 1.0 / per_second
        self.tolerance = TOLERANCE * self.interval
        self._throttles: dict[tuple[int, int], Throttle] = {}
        self._stopped = False

    async def receive(self, subscriber: Subscriber, message: dict[str, Any]) -> str | None:
        """Handle one client frame of KINDS; the error frame to answer with, or None."""
        answer = self.receive_now(subscriber, message)
        if answer is not LATER:
            return answer
        await self.hub.ready_for_ephemeral(subscriber.session_id)  # it also answers most first drags
        answer = self.receive_now(subscriber, message)
        if answer is not LATER:
            return answer
        token_id = _whole(message, "token_id")
        if message["type"] == "drag" and token_id is not None and token_id not in subscriber.drag_maps:
            try:  # a token not on the active map (the DM's), or a table in another process only
                map_id = await map_tokens.may_drag(
                    self.hub.event_log.db, subscriber.viewer.user_id, subscriber.session_id, token_id
                )
            except DomainError as exc:
                return _refused(exc)
            subscriber.drag_maps[token_id] = map_id
        answer = self.receive_now(subscriber, message, publish=True)
        return None if answer is LATER else answer

    def receive_now(self, subscriber: Subscriber, message: dict[str, Any], publish: bool = False) -> str | Later | None:
        """`receive` without awaiting: the answer, or LATER when the frame needs an await (a token not yet
        checked for this connection, the hub's TableView to read, a broadcast between processes; with
        `publish`, the last one is done in a task instead)."""
        kind = message["type"]
        token_id = _whole(message, "token_id")
        if kind == "drag_end":
            if token_id is None:
                return _bad("drag_end needs token_id")
            throttle = self._throttles.get((subscriber.session_id, subscriber.viewer.user_id))
            if throttle is not None:
                throttle.pending.pop(f"drag:{token_id}", None)
            return None
        x, y = _position(message, "x_position"), _position(message, "y_position")
        if x is None or y is None:
            return _bad(f"x_position and y_position must be numbers from 0 to {MAX_POSITION:.0f}")
        user_id = subscriber.viewer.user_id
        if kind == "map_ping":
            map_id = _whole(message, "map_id")
            if map_id is None:
                return _bad("map_ping needs map_id")
            key, event_type = f"ping:{user_id}", "map_ping"
            data: dict[str, Any] = {"map_id": map_id, "x_position": x, "y_position": y, "user_id": user_id}
        else:
            if token_id is None:
                return _bad("drag needs token_id")
            map_id = subscriber.drag_maps.get(token_id)
            if map_id is None:
                table = self.hub.table_now(subscriber.session_id)
                if table is None or table.map_id is None or token_id not in table.owners:
                    return LATER  # the database knows (`receive`)
                viewer = subscriber.viewer
                try:
                    map_tokens.check_drag(viewer.user_id, viewer.is_dm, True, table.owners[token_id])
                except DomainError as exc:
                    return _refused(exc)
                map_id = subscriber.drag_maps[token_id] = table.map_id
            key, event_type = f"drag:{token_id}", "map_token_dragged"
            data = {"map_id": map_id, "x_position": x, "y_position": y, "user_id": user_id, "token_id": token_id}
        if not publish and not self.hub.fans_out_now(subscriber.session_id):
            return LATER
        self._submit(subscriber, wire.Ephemeral(subscriber.session_id, subscriber.origin, key, event_type, data))
        return None

    def _submit(self, subscriber: Subscriber, message: wire.Ephemeral) -> None:
        """The rate rule of the module's docstring."""
        user = (subscriber.session_id, subscriber.viewer.user_id)
        throttle = self._throttles.get(user)
        if throttle is None:
            throttle = self._throttles[user] = Throttle()
        now = self._now()
        if not throttle.pending and throttle.flushing is None:
            if now >= throttle.due - self.tolerance:
                throttle.due = max(throttle.due, now) + self.interval
                self._send([message], throttle)
                return
            if self.hub.replace_waiting(message):  # it takes the place of one not written yet: no frame more
                return
        throttle.pending.pop(message.key, None)  # re-inserted last: sent in the order of the latest update
        throttle.pending[message.key] = message
        if throttle.timer is None and throttle.flushing is None:
            self._wait(throttle, now)

    def _now(self) -> float:
        return self._clock() if self._clock is not None else asyncio.get_running_loop().time()

    def _wait(self, throttle: Throttle, now: float) -> None:
        delay = max(0.0, throttle.due - self.tolerance - now)
        throttle.timer = asyncio.get_running_loop().call_later(delay, self._flush, throttle)

    def _flush(self, throttle: Throttle) -> None:
        throttle.timer = None
        if not throttle.pending or self._stopped:
            return
        pending, throttle.pending = list(throttle.pending.values()), {}
        throttle.due = max(throttle.due, self._now()) + self.interval
        self._send(pending, throttle)

    def _send(self, messages: list[wire.Ephemeral], throttle: Throttle) -> None:
        if self.hub.fan_out_now(messages):
            return
        # Between processes (or the TableView to read): publish in order, in a task; what arrives
        # meanwhile waits in `pending` and goes with the next flush.
        throttle.flushing = asyncio.create_task(self._publish(messages, throttle))

    async def _publish(self, messages: list[wire.Ephemeral], throttle: Throttle) -> None:
        try:
            for message in messages:
                await self.hub.publish_ephemeral(message)
        finally:
            throttle.flushing = None
            if throttle.pending and throttle.timer is None:
                self._wait(throttle, self._now())

    async def stop(self) -> None:
        self._stopped = True
        for throttle in self._throttles.values():
            if throttle.timer is not None:
                throttle.timer.cancel()
            if throttle.flushing is not None:
                throttle.flushing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await throttle.flushing
        self._throttles.clear()

    def forget(self, session_id: int, user_id: int) -> None:
        """Drop the user's throttle once they have no connection left (nothing pending is lost: its timer
        keeps its own reference)."""
        self._throttles.pop((session_id, user_id), None)
