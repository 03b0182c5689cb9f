"""Publish/subscribe between processes: the only module that imports broadcaster.

broadcaster 0.3.1 has two traps this wrapper closes (../shared/STACK.md):
- its Redis listener task dies silently when Redis restarts; a supervisor notices, reconnects,
  resubscribes every channel and then calls `on_reconnect` so the hub repairs the gap from the event log;
- each of its subscribers gets an unbounded queue; we subscribe once per channel per process and hand
  every message straight to `on_message`, which fans out into bounded queues.
Publishing never raises: a message that cannot be published is logged, and the hub's repair reads the
event from the database instead.

Messages are `server.wire` messages. Between processes (Redis) they travel as `wire.encode` text. In one
process (memory://) broadcaster is not used at all: a message is handed over as it is, with no encoding,
through one queue and one task (`_deliver`) that passes every message in publish order to `on_message`
(broadcaster's memory backend would take two queues and two task hops per message).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Awaitable, Callable

import broadcaster

from server import wire

log = logging.getLogger("server.broadcast")

OnMessage = Callable[[str, wire.Message], Awaitable[None]]
OnReconnect = Callable[[], Awaitable[None]]


class Broadcast:
    def __init__(self, url: str, *, check_interval: float = 0.5) -> None:
        self.url = url
        self.in_process = url.startswith("memory:")
        self._check_interval = check_interval
        self._on_message: OnMessage | None = None
        self._on_reconnect: OnReconnect | None = None
        self._backend: broadcaster.Broadcast | None = None
        self._channels: set[str] = set()  # what this process wants to hear, kept across reconnects
        self._listeners: dict[str, asyncio.Task[None]] = {}
        self._supervisor: asyncio.Task[None] | None = None
        self._inbox: collections.deque[tuple[str, wire.Message]] = collections.deque()  # in one process
        self._arrived = asyncio.Event()

    def route(self, on_message: OnMessage, on_reconnect: OnReconnect) -> None:
        self._on_message = on_message
        self._on_reconnect = on_reconnect

    async def connect(self) -> None:
        """Connect, or start without the backend when it is down: the supervisor keeps trying, and once
        connected subscribes every channel asked for meanwhile and calls `on_reconnect` (the hub repairs
        what was missed from the event log). Until then publishing returns False."""
        if self.in_process:
            self._supervisor = asyncio.create_task(self._deliver(), name="broadcast-in-process")
            return
        try:
            self._backend = await self._open()
        except Exception as exc:
            log.warning("broadcast backend unreachable at start-up (%s); serving degraded until it answers", exc)
        self._supervisor = asyncio.create_task(self._supervise(), name="broadcast-supervisor")

    @property
    def connected(self) -> bool:
        """Whether messages currently reach the other processes (always, for memory://)."""
        return self._healthy()

    async def _open(self) -> broadcaster.Broadcast:
        backend = broadcaster.Broadcast(self.url)
        try:
            await backend.connect()
        except BaseException:
            # broadcaster started its Redis reader before connecting: stop it and close the client.
            with contextlib.suppress(Exception):
                await backend._backend.disconnect()
            raise
        return backend

    async def disconnect(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        await self._close_backend()

    async def _close_backend(self) -> None:
        listeners, self._listeners = self._listeners, {}
        for task in listeners.values():
            task.cancel()
        for task in listeners.values():
            with contextlib.suppress(BaseException):
                await task
        backend, self._backend = self._backend, None
        if backend is not None:
            with contextlib.suppress(Exception):
                await backend.disconnect()

    async def publish(self, channel: str, message: wire.Message) -> bool:
        if self.in_process:
            if channel in self._channels:
                self._inbox.append((channel, message))
                self._arrived.set()
            return self._healthy()
        if self._backend is None:
            return False
        try:
            await self._backend.publish(channel, wire.encode(message))
        except Exception as exc:
            log.warning("publish on %s failed (%s); subscribers repair from the event log", channel, exc)
            return False
        return True

    async def subscribe(self, channel: str) -> None:
        """Subscribe this process to `channel`; returns once the subscription is in place."""
        self._channels.add(channel)
        if self.in_process or channel in self._listeners or self._backend is None:
            return
        ready = asyncio.get_running_loop().create_future()
        self._listeners[channel] = asyncio.create_task(self._listen(channel, ready), name=f"listen {channel}")
        with contextlib.suppress(Exception):
            await ready

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        task = self._listeners.pop(channel, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task

    async def _deliver(self) -> None:
        while True:
            await self._arrived.wait()
            self._arrived.clear()
            while self._inbox:
                channel, message = self._inbox.popleft()
                if self._on_message is None or channel not in self._channels:
                    continue
                try:
                    await self._on_message(channel, message)
                except Exception:
                    log.exception("handling a message on %s failed", channel)

    async def _listen(self, channel: str, ready: asyncio.Future[None]) -> None:
        assert self._backend is not None and self._on_message is not None
        try:
            async with self._backend.subscribe(channel) as subscriber:
                ready.set_result(None)
                async for event in subscriber:  # type: ignore[union-attr]
                    if event is None:
                        break
                    try:
                        await self._on_message(event.channel, wire.decode(event.message))
                    except Exception:
                        log.exception("handling a message on %s failed", channel)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("subscription to %s failed: %s", channel, exc)
            if not ready.done():
                ready.set_exception(exc)

    def _healthy(self) -> bool:
        if self.in_process:
            return self._supervisor is not None and not self._supervisor.done()
        backend = self._backend
        if backend is None:
            return False
        tasks = [
            getattr(backend, "_listener_task", None),
            getattr(backend._backend, "_listener", None),  # broadcaster's Redis reader
            *self._listeners.values(),
        ]
        return not any(task is not None and task.done() for task in tasks)

    async def _supervise(self) -> None:
        delay = self._check_interval
        while True:
            await asyncio.sleep(delay)
            if self._healthy():
                delay = self._check_interval
                continue
            log.warning("broadcast connection lost; reconnecting")
            await self._close_backend()
            try:
                self._backend = await self._open()
            except Exception as exc:
                log.warning("broadcast reconnect failed: %s", exc)
                delay = min(delay * 2, 5.0)
                continue
            for channel in list(self._channels):
                await self.subscribe(channel)
            delay = self._check_interval
            if self._on_reconnect is not None:
                await self._on_reconnect()
