"""The per-process hub: one broadcast subscription per active game session, fanned out locally.

Ordering: each game session's channel dispatches events strictly in event_id order with no gaps. An
event that arrives ahead of its predecessors is held while the missing ones are read from the event log
(they are committed: an event is published only after its commit, and commits follow event_id order).
A periodic sweep and every broadcast reconnect compare the log's head with what was dispatched, so an
event whose publish was lost still arrives.

Each event is encoded once per form (full, players', redacted: see `Event`), not once per connection.
Every subscriber has a queue bounded in frames, in encoded bytes and in the time its frames may go
unsent (SendLimits); one that falls behind is closed with CLOSE_FELL_BEHIND and resumes from its last
event_id. The hub also admits connections (MAX_CONNECTIONS, MAX_USER_CONNECTIONS, the per-address
CONNECTION_RATE) and, on every tick, closes those whose login session has ended, so a lost logout
broadcast cannot keep a socket open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, cast

from server import credentials, login_sessions, map_visibility, wire
from server.broadcast import Broadcast
from server.channels.drags import Drags
from server.channels.ephemeral import Batched, EphemeralBatch, EphemeralFrame
from server.channels.presence import ANNOUNCE_EVERY, Member, Presence
from server.channels.raw_send import FrameSink, text_frame
from server.errors import TooManyConnections, Unavailable
from server.event_log import Event, EventLog, Form, Viewer
from server.map_visibility import TableView
from server.send_rate import ConnectionRate

if TYPE_CHECKING:
    from server.services import Services

log = logging.getLogger("server.hub")
Kind = Literal["socket", "poll"]
IDLE_CHANNEL_SECONDS = 60.0
USER_CAP_RETRY_AFTER = 30  # Retry-After when a user is at MAX_USER_CONNECTIONS: about one poll timeout
MAX_EPHEMERAL = 256  # distinct pending ephemeral frames per subscriber (one per dragged token, pings)
# Shared by every subscriber with nothing queued (most sockets: frames are written at once), never appended
# to: an empty deque costs 600 bytes.
_NOTHING_QUEUED: deque[View | str] = deque()


class View:
    """One audience's form of an event; the WebSocket frame is encoded on first use and then shared, as
    its text and as the framed bytes written to every connection."""

    __slots__ = ("_frame", "_wire", "envelope", "event_id")

    def __init__(self, event: Event, form: Form) -> None:
        self.event_id = event.event_id
        self.envelope = wire.envelope(event, form)
        self._frame: str | None = None
        self._wire: bytes | None = None

    @property
    def frame(self) -> str:
        if self._frame is None:
            self._frame = wire.event_frame(self.envelope)
        return self._frame

    @property
    def wire(self) -> bytes:
        if self._wire is None:
            self._wire = text_frame(self.frame.encode())
        return self._wire


@dataclass(frozen=True)
class SendLimits:
    """When a connection counts as too slow: more than `frames` queued, more than `bytes` of encoded
    frames queued (frames are shared between connections, but each one pins its frames), or queued frames
    that have not moved for `stall_seconds`."""

    frames: int = 1024
    bytes: int = 8 * 1024 * 1024
    stall_seconds: float = 30.0


class Subscriber:
    """One WebSocket or one parked long-poll of one user in one game session."""

    __slots__ = (
        "_wake",
        "closed",
        "drag_maps",
        "ended",
        "ephemeral",
        "kind",
        "limits",
        "login",
        "member",
        "moved_at",
        "origin",
        "queue",
        "queued_bytes",
        "sent_through",
        "session_id",
        "sink",
        "viewer",
    )

    def __init__(
        self, session_id: int, viewer: Viewer, member: Member, kind: Kind, limits: SendLimits, login: str = ""
    ) -> None:
        self.session_id = session_id
        self.viewer = viewer
        self.member = member
        self.kind = kind
        self.limits = limits
        self.login = login  # the credentials' login_hash (server/credentials.py), rechecked by the hub's ticker
        self.queue: deque[View | str] = _NOTHING_QUEUED  # its own deque once something queues
        self.queued_bytes = 0
        self.moved_at = 0.0  # when the queue last became non-empty or gave up a frame
        self._wake: asyncio.Event | None = None  # made by the first `wake`: a socket written to directly never waits
        self.closed: tuple[int, str] | None = None
        # Set with `closed`, if a transport made it to stop waiting on its client (a detached socket is
        # closed through its sink instead).
        self.ended: asyncio.Event | None = None
        # Ephemeral frames (drags, pings) by key: a newer one replaces the one not yet sent, so a slow
        # reader gets the newest position, never a backlog. Not counted against the queue's limits.
        self.ephemeral: dict[str, EphemeralFrame] = {}
        self.drag_maps: dict[int, int] = {}  # tokens this connection was found allowed to drag, and their maps
        self.origin = secrets.token_hex(8)  # so its own ephemeral events are not echoed back to it
        # Set by the WebSocket transport once the replay is sent: while nothing is queued and the
        # connection's transport is not paused, frames are written to it at once, by whoever offers them;
        # a close goes to it too.
        self.sink: FrameSink | None = None
        self.sent_through = 0  # the last event_id written to the connection: those up to it are skipped

    @property
    def wake(self) -> asyncio.Event:
        """Set while frames wait to be taken or the subscriber is closed."""
        if self._wake is None:
            self._wake = asyncio.Event()
            if self.queue or self.ephemeral or self.closed is not None:
                self._wake.set()
        return self._wake

    def _signal(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def _settle(self) -> None:
        if self._wake is not None and not self.queue and not self.ephemeral and self.closed is None:
            self._wake.clear()

    def _size(self, item: View | str) -> int:
        # A poll hands over envelopes, not frames, and lives at most one poll timeout: bytes are counted
        # for sockets only, so a poll-only table never encodes frames.
        if self.kind != "socket":
            return 0
        return len(item.frame if isinstance(item, View) else item)

    def offer(self, item: View | str) -> None:
        if self.closed is not None:
            return
        if self.sink is not None and not self.queue and self.sink.can_write():
            self._write(self.sink, item)
            return
        size = self._size(item)
        if (
            len(self.queue) >= self.limits.frames
            or self.queued_bytes + size > self.limits.bytes
            or self.stalled(time.monotonic())
        ):
            self.fall_behind()
            return
        if not self.queue:
            self.moved_at = time.monotonic()
            if self.queue is _NOTHING_QUEUED:
                self.queue = deque()
        self.queue.append(item)
        self.queued_bytes += size
        self._signal()

    def stalled(self, now: float) -> bool:
        return bool(self.queue) and now - self.moved_at > self.limits.stall_seconds

    def fall_behind(self) -> None:
        """Close as too slow and let go of the queue at once: the client resumes from its last event_id."""
        self.queue = _NOTHING_QUEUED
        self.queued_bytes = 0
        self.close(wire.CLOSE_FELL_BEHIND, "too far behind; reconnect with your last event_id")

    def _write(self, sink: FrameSink, item: View | str) -> None:
        if isinstance(item, View):
            if item.event_id <= self.sent_through:
                return  # already sent by the replay
            self.sent_through = item.event_id
            sink.write_frame(item.wire)
        else:
            sink.write_frame(text_frame(item.encode()))

    def flush(self, sink: FrameSink) -> None:
        """Write what is queued, then the ephemeral frames, while the connection's transport takes them."""
        while self.queue and sink.can_write():
            item = self.pop()
            assert item is not None
            self._write(sink, item)
        if self.ephemeral and not self.queue and sink.can_write():
            for frame in self.ephemeral.values():
                sink.write_frame(frame.wire)
            self.ephemeral.clear()
        self._settle()

    def ephemeral_sink(self) -> FrameSink | None:
        """Where ephemeral frames go at once: an open socket with nothing waiting before them whose
        transport takes frames; None when they must wait in `ephemeral` (`offer_ephemeral`)."""
        sink = self.sink
        if sink is None or self.closed is not None or self.queue or self.ephemeral or not sink.can_write():
            return None
        return sink

    def offer_batch(self, batch: list[Batched]) -> None:
        """Keep the frames of an ephemeral batch this connection may see (not its own) until it takes
        frames again: a long-poll, a socket that is closed, or one that cannot be written to now."""
        if self.closed is not None or self.kind != "socket":
            return
        dm, origin = self.viewer.is_dm, self.origin
        for item in batch:
            if item.origin != origin and (dm or item.to_players):
                self.offer_ephemeral(item.key, item.frame)

    def offer_ephemeral(self, key: str, frame: EphemeralFrame) -> None:
        """Keep `frame` until the connection takes frames again (the newest per key)."""
        if self.closed is not None or self.kind != "socket":
            return
        self.ephemeral.pop(key, None)  # re-inserted last: frames go out in the order of their latest update
        self.ephemeral[key] = frame
        if len(self.ephemeral) > MAX_EPHEMERAL:
            del self.ephemeral[next(iter(self.ephemeral))]
        self._signal()

    def take_ephemeral(self) -> list[str]:
        frames = [frame.text for frame in self.ephemeral.values()]
        self.ephemeral.clear()
        self._settle()
        return frames

    def close(self, code: int, reason: str) -> None:
        if self.closed is None:
            self.closed = (code, reason)
        self._signal()
        if self.ended is not None:
            self.ended.set()
        if self.sink is not None:
            self.flush(self.sink)
            self.sink.close_now(*self.closed)

    def pop(self) -> View | str | None:
        """The next queued frame, or None (and the wake flag cleared) when the queue is empty."""
        if not self.queue:
            self._settle()
            return None
        item = self.queue.popleft()
        self.queued_bytes -= self._size(item)
        self.moved_at = time.monotonic()
        return item

    def take(self, limit: int | None = None) -> list[View | str]:
        items: list[View | str] = []
        while self.queue and (limit is None or len(items) < limit):
            items.append(self.queue.popleft())
        self._settle()
        return items


class SessionChannel:
    def __init__(self, session_id: int) -> None:
        self.session_id = session_id
        self.head: int | None = None  # last event_id dispatched here; None until read from the log
        self.pending: dict[int, Event] = {}
        self.subscribers: set[Subscriber] = set()
        self.lock = asyncio.Lock()
        self.idle_since: float | None = None
        self.shown_presence: frozenset[Member] = frozenset()
        self.table: TableView | None = None  # what players may see of the active map; None: read it again
        self.map_changes = 0  # map events dispatched: a TableView read before the latest one is not kept
        self.table_read: asyncio.Task[TableView] | None = None  # the read of `table` under way, if one is
        self.ephemeral = EphemeralBatch(self.subscribers)  # ephemeral frames not yet written


def _forget_read(channel: SessionChannel, done: asyncio.Task[TableView]) -> None:
    if channel.table_read is done:
        channel.table_read = None
    if not done.cancelled():
        done.exception()  # retrieved: its waiters, if any are left, got it


def of(found: Services) -> Hub:
    """The app's hub. `Services` holds it as `Transports`, so that the domain never names the transports."""
    return cast(Hub, found.hub)


class Hub:
    def __init__(
        self,
        event_log: EventLog,
        broadcast: Broadcast,
        *,
        max_connections: int,
        max_user_connections: int = 20,
        connection_rate: str = "60/minute",
        send_limits: SendLimits = SendLimits(),
        sweep_interval: float = 2.0,
    ) -> None:
        self.event_log = event_log
        self.broadcast = broadcast
        self.max_connections = max_connections
        self.max_user_connections = max_user_connections
        self.connection_rate = ConnectionRate(connection_rate)
        self.send_limits = send_limits
        self.sweep_interval = sweep_interval
        self.presence = Presence()
        self.process = f"{os.getpid()}-{secrets.token_hex(4)}"
        self.connections = 0
        self._per_user: Counter[int] = Counter()
        self._channels: dict[int, SessionChannel] = {}
        self._opening = asyncio.Lock()
        self._ticker: asyncio.Task[None] | None = None
        self.drags = Drags(self)

    # -- lifecycle -------------------------------------------------------------------------------------

    async def start(self) -> None:
        self.broadcast.route(self._on_message, self.repair_all)
        await self.broadcast.subscribe(wire.CONTROL_CHANNEL)
        self._ticker = asyncio.create_task(self._tick(), name="hub-ticker")

    async def stop(self) -> None:
        """Close every subscriber with 1012 (server restarting); parked polls answer at once."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        for channel in self._channels.values():
            for subscriber in channel.subscribers:
                subscriber.close(wire.CLOSE_RESTARTING, "server restarting")
        await self.drags.stop()

    # -- subscribers -----------------------------------------------------------------------------------

    async def join(self, session_id: int, viewer: Viewer, member: Member, kind: Kind, login: str = "") -> Subscriber:
        """Admit one connection of `viewer` whose login session has the token hash `login`. Raises
        Unavailable at MAX_CONNECTIONS and TooManyConnections at the user's MAX_USER_CONNECTIONS."""
        if self.connections >= self.max_connections:
            raise Unavailable("The server is at its connection limit; try again shortly")
        user_id = viewer.user_id
        if self._per_user[user_id] >= self.max_user_connections:
            raise TooManyConnections(
                retry_after=USER_CAP_RETRY_AFTER,
                message=f"You have {self.max_user_connections} connections open; close one first",
            )
        self.connections += 1
        self._per_user[user_id] += 1
        try:
            channel = await self._channel(session_id)
        except BaseException:
            self._count_out(user_id)
            raise
        channel.idle_since = None  # claimed before any await, so the ticker cannot close it under us
        subscriber = Subscriber(session_id, viewer, member, kind, self.send_limits, login)
        if kind == "socket":
            self.presence.socket_joined(session_id, member)
        else:
            self.presence.polled(session_id, member)
        await self._presence_changed(channel)  # before joining: the newcomer's hello carries the list
        channel.subscribers.add(subscriber)
        self.event_log.metrics.connections.labels(kind).inc()
        return subscriber

    async def leave(self, subscriber: Subscriber) -> None:
        channel = self._channels.get(subscriber.session_id)
        if channel is None or subscriber not in channel.subscribers:
            return
        channel.subscribers.discard(subscriber)
        self._count_out(subscriber.viewer.user_id)
        self.event_log.metrics.connections.labels(subscriber.kind).dec()
        if subscriber.closed is not None and subscriber.closed[0] == wire.CLOSE_FELL_BEHIND:
            self.event_log.metrics.slow_reader_closes.inc()
        if not channel.subscribers:
            channel.idle_since = asyncio.get_running_loop().time()
        if subscriber.kind == "socket":
            self.presence.socket_left(subscriber.session_id, subscriber.member)
            await self._presence_changed(channel)
            if not any(other.viewer.user_id == subscriber.viewer.user_id for other in channel.subscribers):
                self.drags.forget(subscriber.session_id, subscriber.viewer.user_id)

    def _count_out(self, user_id: int) -> None:
        self.connections -= 1
        self._per_user[user_id] -= 1
        if self._per_user[user_id] <= 0:
            del self._per_user[user_id]

    def online(self, session_id: int) -> list[wire.OnlineUser]:
        return wire.online_users(self.presence.online(session_id))

    def _close_user(self, user_id: int, code: int, reason: str, session_id: int | None = None) -> None:
        for channel in self._channels.values():
            if session_id is None or channel.session_id == session_id:
                for subscriber in channel.subscribers:
                    if subscriber.viewer.user_id == user_id:
                        subscriber.close(code, reason)

    # -- channels and ordering -------------------------------------------------------------------------

    async def _channel(self, session_id: int) -> SessionChannel:
        channel = self._channels.get(session_id)
        if channel is not None and channel.head is not None:
            return channel
        async with self._opening:
            channel = self._channels.get(session_id)
            if channel is None:
                channel = self._channels[session_id] = SessionChannel(session_id)
                await self.broadcast.subscribe(wire.session_channel(session_id))
                await self.broadcast.publish(wire.session_channel(session_id), wire.PresenceQuery(self.process))
            if channel.head is None:
                # Messages that arrive meanwhile wait in `pending`; those up to the head are dropped.
                head = await self.event_log.head(session_id)
                async with channel.lock:
                    channel.head = head
                    await self._drain(channel)
        return channel

    async def _on_message(self, channel_name: str, message: wire.Message) -> None:
        if isinstance(message, wire.Events):
            channel = self._channels.get(message.events[0].session_id)
            if channel is not None:
                async with channel.lock:
                    for event in message.events:
                        channel.pending[event.event_id] = event
                    await self._drain(channel)
                self.event_log.metrics.dispatched(message.sent_at)
        elif isinstance(message, wire.PresenceAnnounce) and message.process != self.process:
            session_id = wire.session_of_channel(channel_name)
            self.presence.announced(session_id, message.process, frozenset(message.users))
            if session_id in self._channels:
                await self._presence_changed(self._channels[session_id], announce=False)
        elif isinstance(message, wire.PresenceQuery) and message.process != self.process:
            await self._announce(wire.session_of_channel(channel_name))
        elif isinstance(message, wire.Ephemeral):
            channel = self._channels.get(message.session_id)
            if channel is not None:
                table = channel.table or await self._read_table(channel)
                self._fan_out_ephemeral(channel, table, message)
        elif isinstance(message, wire.Logout):
            # Another process ended or changed the user's sessions.
            login_sessions.forget(self.event_log.db, message.user_id)
            self._close_user(message.user_id, wire.CLOSE_LOGGED_OUT, "logged out")
        elif isinstance(message, wire.Notify):
            frame = wire.frame("notification", notification=message.notification)
            for subscriber in self._subscribers():
                if subscriber.viewer.user_id == message.user_id and subscriber.kind == "socket":
                    subscriber.offer(frame)

    async def _drain(self, channel: SessionChannel) -> None:
        """Dispatch pending events in event_id order, reading any missing ones from the log. Hold channel.lock."""
        assert channel.head is not None
        while channel.pending:
            first = min(channel.pending)
            if first <= channel.head:
                del channel.pending[first]
                continue
            if first > channel.head + 1:
                missing = await self.event_log.since(channel.session_id, channel.head, until=first - 1)
                if not missing or missing[0].event_id != channel.head + 1:
                    log.error("event log of game session %s lacks event %s", channel.session_id, channel.head + 1)
                    return
                for event in missing:
                    channel.pending[event.event_id] = event
                continue
            self._fan_out(channel, channel.pending.pop(first))
            channel.head = first

    # -- ephemeral events (server/channels/drags.py) ---------------------------------------------------
    # In one process (memory://) an ephemeral event is fanned out where it is offered, without the
    # broadcast and mostly without an await; between processes it goes through the broadcast.

    async def publish_ephemeral(self, message: wire.Ephemeral) -> None:
        """Send an ephemeral event (not stored, no event_id, best effort) to the game session's other
        connections in every process. Its event_data has map_id, x_position, y_position and, for a drag,
        token_id: players get it only where `TableView.shows` says so."""
        if not self.broadcast.in_process:
            await self.broadcast.publish(wire.session_channel(message.session_id), message)
            return
        await self.ready_for_ephemeral(message.session_id)
        self.fan_out_now([message])

    def fans_out_now(self, session_id: int) -> bool:
        """Whether `fan_out_now` will take an ephemeral event of this game session without an await."""
        if not self.broadcast.in_process:
            return False
        channel = self._channels.get(session_id)
        return channel is None or channel.table is not None

    def fan_out_now(self, messages: list[wire.Ephemeral]) -> bool:
        """Fan ephemeral events of one game session out in this process, if that needs no await; False
        (nothing sent) when it does: use `publish_ephemeral`."""
        if not messages or not self.fans_out_now(messages[0].session_id):
            return False
        channel = self._channels.get(messages[0].session_id)
        if channel is not None and channel.table is not None:
            for message in messages:
                self._fan_out_ephemeral(channel, channel.table, message)
        return True  # without a channel, nobody in this (the only) process listens

    def replace_waiting(self, message: wire.Ephemeral) -> bool:
        """In one process, if the game session's batch holds an ephemeral event of `message`'s key not yet
        written, put `message` in its place (judged and framed now) and say True: the connections get one
        frame of that key either way (ephemeral.py)."""
        channel = self._channels.get(message.session_id)
        if channel is None or message.key not in channel.ephemeral.items:
            return False
        return self.fan_out_now([message])

    async def ready_for_ephemeral(self, session_id: int) -> None:
        """Read the game session's TableView if this process has a channel for it and lacks one."""
        channel = self._channels.get(session_id)
        if channel is not None and channel.table is None:
            await self._read_table(channel)

    def table_now(self, session_id: int) -> TableView | None:
        """The game session's TableView if this process holds it now (None: `ready_for_ephemeral`)."""
        channel = self._channels.get(session_id)
        return None if channel is None else channel.table

    async def _read_table(self, channel: SessionChannel) -> TableView:
        """Read the game session's TableView, once for all who wait for it meanwhile (the first drags of a
        table's twelve connections come together)."""
        reading = channel.table_read
        if reading is None:
            reading = channel.table_read = asyncio.get_running_loop().create_task(self._read_table_once(channel))
            reading.add_done_callback(lambda done: _forget_read(channel, done))
        return await asyncio.shield(reading)

    async def _read_table_once(self, channel: SessionChannel) -> TableView:
        changes = channel.map_changes
        table = await map_visibility.table_view(self.event_log.db, channel.session_id)
        if channel.map_changes == changes:  # no map event passed meanwhile: it is current
            channel.table = table
        return table

    def _fan_out_ephemeral(self, channel: SessionChannel, table: TableView, message: wire.Ephemeral) -> None:
        """Judge and frame the event now; it is written with the rest of its batch (ephemeral.py)."""
        data = message.event_data
        to_players = table.shows(data["map_id"], data.get("token_id"), data["x_position"], data["y_position"])
        frame = EphemeralFrame(wire.ephemeral_frame(message.event_type, data))
        channel.ephemeral.add(Batched(message.key, message.origin, to_players, frame))

    def _fan_out(self, channel: SessionChannel, event: Event) -> None:
        if event.event_type.startswith("map_"):
            channel.table = None
            channel.map_changes += 1
            token_id = event.event_data.get("token_id") or event.event_data.get("token", {}).get("token_id")
            if token_id is not None:  # a stale drag must not land after the drop
                channel.ephemeral.forget(f"drag:{token_id}")
                for subscriber in channel.subscribers:
                    subscriber.ephemeral.pop(f"drag:{token_id}", None)
        channel.ephemeral.write()  # what came before this event goes before it
        views: dict[Form, View] = {}
        delivered = 0
        for subscriber in list(channel.subscribers):
            form = event.form_for(subscriber.viewer)
            if form is not None:
                view = views.get(form)
                if view is None:
                    view = views[form] = View(event, form)
                subscriber.offer(view)
                delivered += 1
        self.event_log.metrics.events_delivered.inc(delivered)
        if event.event_type == "player_removed":
            self._close_user(
                int(event.event_data["user_id"]),
                wire.CLOSE_REMOVED,
                "removed from the game session",
                session_id=channel.session_id,
            )

    async def repair(self, channel: SessionChannel) -> None:
        async with channel.lock:
            if channel.head is None:
                return
            while True:
                events = await self.event_log.since(channel.session_id, channel.head)
                for event in events:
                    channel.pending[event.event_id] = event
                await self._drain(channel)
                if not events:
                    return

    async def repair_all(self) -> None:
        for channel in list(self._channels.values()):
            await self.repair(channel)

    async def _sweep(self) -> None:
        """Repair every channel whose log has moved past what was dispatched here."""
        channels = {c.session_id: c for c in self._channels.values() if c.head is not None}
        for session_id, head in (await self.event_log.heads(channels)).items():
            channel = channels[session_id]
            if channel.head is not None and head > channel.head:
                await self.repair(channel)

    def _subscribers(self) -> list[Subscriber]:
        return [subscriber for channel in self._channels.values() for subscriber in channel.subscribers]

    def _close_stalled(self) -> None:
        """Close sockets whose queued frames have not moved for SEND_STALL_SECONDS, even when no new
        frame arrives to notice it."""
        now = time.monotonic()
        for subscriber in self._subscribers():
            if subscriber.closed is None and subscriber.stalled(now):
                subscriber.fall_behind()

    async def _recheck_logins(self) -> None:
        """Close connections whose login session ended (logout, expiry, deactivation) or whose API key was
        revoked, in case the logout broadcast was lost: one query per tick for all open connections."""
        subscribers = [s for s in self._subscribers() if s.closed is None and s.login]
        if not subscribers:
            return
        live = await credentials.still_valid(self.event_log.db, {s.login for s in subscribers})
        for subscriber in subscribers:
            if subscriber.login not in live:
                subscriber.close(wire.CLOSE_LOGGED_OUT, "logged out")

    def measure_queues(self) -> None:
        depths = [len(s.queue) for s in self._subscribers()]
        self.event_log.metrics.queue_depths(sum(depths), max(depths, default=0))

    # -- presence --------------------------------------------------------------------------------------

    async def _announce(self, session_id: int) -> None:
        local = tuple(sorted(self.presence.local(session_id)))
        await self.broadcast.publish(wire.session_channel(session_id), wire.PresenceAnnounce(self.process, local))

    async def _presence_changed(self, channel: SessionChannel, announce: bool = True) -> None:
        online = self.presence.online(channel.session_id)
        if online == channel.shown_presence:
            return
        channel.shown_presence = online
        if announce:
            await self._announce(channel.session_id)
        frame = wire.frame("presence", online_users=wire.online_users(online), online_count=len(online))
        for subscriber in channel.subscribers:
            if subscriber.kind == "socket":
                subscriber.offer(frame)

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        last_announce = loop.time()
        while True:
            await asyncio.sleep(self.sweep_interval)
            try:
                self.measure_queues()
                await self._sweep()
                self._close_stalled()
                await self._recheck_logins()
                announce = loop.time() - last_announce >= ANNOUNCE_EVERY
                if announce:
                    last_announce = loop.time()
                for channel in list(self._channels.values()):
                    if announce and self.presence.local(channel.session_id):
                        await self._announce(channel.session_id)
                    await self._presence_changed(channel, announce=False)
                    if channel.idle_since is not None and loop.time() - channel.idle_since > IDLE_CHANNEL_SECONDS:
                        await self._close_channel(channel)
            except Exception:
                log.exception("hub tick failed")

    async def _close_channel(self, channel: SessionChannel) -> None:
        if channel.subscribers or channel.idle_since is None:
            return
        del self._channels[channel.session_id]
        self.presence.forget(channel.session_id)
        await self.broadcast.unsubscribe(wire.session_channel(channel.session_id))
