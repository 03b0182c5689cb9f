"""Rates through the `limits` library (this module alone imports it): per-user send rates (chat
messages, dice rolls), the per-address WebSocket connection rate, and the moving windows the platform
API's request quota counts in (server/request_quota.py).

Moving windows. The counters live in this process's memory, or in Redis when BROADCAST_URL is Redis, so
that every process behind the same Redis shares them.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItemPerSecond, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from server.errors import RateLimited


@dataclass(frozen=True)
class Window:
    """At most `amount` counts in any `seconds` seconds."""

    amount: int
    seconds: int


class CountersUnreachable(Exception):
    """Redis, which holds the counters, could not be reached."""


@contextlib.contextmanager
def _converted_errors() -> Iterator[None]:
    try:
        yield
    except StorageError as exc:
        raise CountersUnreachable(str(exc)) from exc


class RateWindows:
    def __init__(self, broadcast_url: str) -> None:
        self._url = broadcast_url
        self._pool: Any = None
        self._storage: Any = None
        self._limiter: MovingWindowRateLimiter | None = None

    def start(self, key_prefix: str) -> None:
        """Open the counters; `key_prefix` keeps one user of the counters apart from the others in Redis."""
        if self._url.startswith(("redis://", "rediss://")):
            import redis.asyncio as redis

            # Our own pool, closed in stop(): the library's would be left open (a ResourceWarning).
            self._pool = redis.ConnectionPool.from_url(self._url)
            self._storage = storage_from_string(
                f"async+{self._url}",
                implementation="redispy",
                connection_pool=self._pool,
                key_prefix=key_prefix,
                wrap_exceptions=True,
            )
        else:
            self._storage = storage_from_string("async+memory://")
        self._limiter = MovingWindowRateLimiter(self._storage)

    async def stop(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None
            return
        # The memory storage runs a task that expires entries; stop it with the process's loop.
        timer = getattr(self._storage, "timer", None)
        if timer is not None and not timer.done():
            timer.cancel()
            with contextlib.suppress(BaseException):
                await timer

    def _limiter_started(self) -> MovingWindowRateLimiter:
        assert self._limiter is not None, "RateWindows.start() was not called"
        return self._limiter

    @staticmethod
    def _item(window: Window) -> RateLimitItemPerSecond:
        return RateLimitItemPerSecond(window.amount, window.seconds)

    async def test(self, window: Window, *keys: str) -> bool:
        """Whether one more count fits (nothing is counted)."""
        with _converted_errors():
            return await self._limiter_started().test(self._item(window), *keys)

    async def hit(self, window: Window, *keys: str) -> bool:
        """Count one if it fits (atomically, across processes on Redis); False when the window is full."""
        with _converted_errors():
            return await self._limiter_started().hit(self._item(window), *keys)

    async def stats(self, window: Window, *keys: str) -> tuple[float, int]:
        """(epoch seconds when the oldest count leaves the window, counts left)."""
        with _converted_errors():
            reset, remaining = await self._limiter_started().get_window_stats(self._item(window), *keys)
        return reset, remaining


class SendRate:
    """Two windows at once: a burst limit per second and a limit per minute, per key."""

    def __init__(self, broadcast_url: str, per_second: int = 5, per_minute: int = 60) -> None:
        self._windows = RateWindows(broadcast_url)
        self._items = (Window(per_second, 1), Window(per_minute, 60))

    async def start(self) -> None:
        self._windows.start("vtt-rate")

    async def stop(self) -> None:
        await self._windows.stop()

    async def spend(self, key: str, what: str = "messages") -> None:
        """Count one send for `key`, or raise RateLimited (with Retry-After seconds) if a window is full;
        a refused send does not count."""
        for item in self._items:
            if not await self._windows.test(item, key):
                raise RateLimited(await self._retry_after(item, key), f"Too many {what}; slow down")
        for item in self._items:
            if not await self._windows.hit(item, key):
                raise RateLimited(await self._retry_after(item, key), f"Too many {what}; slow down")

    async def _retry_after(self, item: Window, key: str) -> int:
        reset_at, _remaining = await self._windows.stats(item, key)
        return max(1, math.ceil(reset_at - time.time()))


def valid_rate(raw: str) -> bool:
    """Whether `raw` is a rate like 60/minute allowing at least one connection (CONNECTION_RATE)."""
    try:
        return parse(raw).amount >= 1
    except ValueError:
        return False


class ConnectionRate:
    """WebSocket connections per client address (CONNECTION_RATE), in one moving window, counted in this
    process's memory: a Redis outage must not refuse every connection. A process counts only what it
    receives, so behind N processes one address may open up to N times the rate; that stops one client
    opening thousands of sockets a second, and the hub bounds what stays open (MAX_USER_CONNECTIONS)."""

    def __init__(self, rate: str) -> None:
        self._rate = parse(rate)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    async def admit(self, address: str) -> None:
        """Count one connection from `address`; raise RateLimited (with the seconds until the window
        lets one more in) once it has opened the rate's amount within its window."""
        if await self._limiter.hit(self._rate, "websocket", address):
            return
        reset, _ = await self._limiter.get_window_stats(self._rate, "websocket", address)
        raise RateLimited(
            max(1, math.ceil(reset - time.time())), "Too many connections from your address; try again later"
        )
