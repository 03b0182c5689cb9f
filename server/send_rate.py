"""Per-user send rates (chat messages) and the per-address WebSocket connection rate, through the
`limits` library: this module alone imports it.

Moving windows, two at once (a burst limit per second and a limit per minute). The counters live in this
process's memory, or in Redis when BROADCAST_URL is Redis, so that every process behind the same Redis
shares one count per user.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from server.errors import RateLimited


class SendRate:
    def __init__(self, broadcast_url: str, per_second: int = 5, per_minute: int = 60) -> None:
        self._url = broadcast_url
        self._items: tuple[RateLimitItem, ...] = (
            RateLimitItemPerSecond(per_second),
            RateLimitItemPerMinute(per_minute),
        )
        self._pool: object | None = None
        self._limiter: MovingWindowRateLimiter | None = None

    async def start(self) -> None:
        if self._url.startswith(("redis://", "rediss://")):
            import redis.asyncio as redis

            # Our own pool, closed in stop(): the library's would be left open (a ResourceWarning).
            pool = redis.ConnectionPool.from_url(self._url)
            self._pool = pool
            storage = storage_from_string(
                f"async+{self._url}",
                implementation="redispy",
                connection_pool=pool,  # type: ignore[arg-type]
                key_prefix="vtt-rate",
            )
        else:
            storage = storage_from_string("async+memory://")
        self._limiter = MovingWindowRateLimiter(storage)  # type: ignore[arg-type]

    async def stop(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()  # type: ignore[attr-defined]
            self._pool = None

    async def spend(self, key: str, what: str = "messages") -> None:
        """Count one send for `key`, or raise RateLimited (with Retry-After seconds) if a window is full;
        a refused send does not count."""
        limiter = self._limiter
        assert limiter is not None, "SendRate.start() was not awaited"
        for item in self._items:
            if not await limiter.test(item, key):
                raise RateLimited(await self._retry_after(limiter, item, key), f"Too many {what}; slow down")
        for item in self._items:
            if not await limiter.hit(item, key):
                raise RateLimited(await self._retry_after(limiter, item, key), f"Too many {what}; slow down")

    @staticmethod
    async def _retry_after(limiter: MovingWindowRateLimiter, item: RateLimitItem, key: str) -> int:
        reset_at, _remaining = await limiter.get_window_stats(item, key)
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
