"""The request quota of the platform API (/v1): per plan, requests per hour and a burst per minute,
counted per user or API key in two moving windows (server/send_rate.py).

With BROADCAST_URL on Redis every process counts in the same Redis (so the 51st request of a Free burst
is refused whichever process it reaches); on the embedded default the counts live in this process.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from server.plans import BURST_WINDOW, HOUR, Plan
from server.send_rate import CountersUnreachable, RateWindows, Window

log = logging.getLogger("server.request_quota")


@dataclass(frozen=True)
class QuotaState:
    """What one counted request leaves: the hourly quota (the X-RateLimit-* headers) and the burst."""

    allowed: bool
    limit: int
    remaining: int
    reset: int  # epoch seconds when the hourly window has room again
    burst_limit: int
    burst_remaining: int
    burst_reset: int
    retry_after: int  # seconds until a refused request may be retried; 0 when allowed

    def headers(self) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
            "X-RateLimit-Burst-Limit": str(self.burst_limit),
            "X-RateLimit-Burst-Remaining": str(self.burst_remaining),
            "X-RateLimit-Burst-Reset": str(self.burst_reset),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers


class RequestQuota:
    """Counts requests per key and plan. `start(namespace)` before use: the namespace keeps the counts of
    one deployment (one SECRET_KEY) apart from any other sharing the same Redis."""

    def __init__(self, broadcast_url: str) -> None:
        self._windows = RateWindows(broadcast_url)

    def start(self, namespace: str) -> None:
        self._windows.start(f"vtt-quota:{namespace}")

    async def count(self, key: str, plan: Plan) -> QuotaState | None:
        """Count one request for `key` unless a window is full; the burst is checked first, so a refused
        burst does not spend the hourly quota. None when Redis cannot be reached: requests are then let
        through uncounted (logged) rather than all refused."""
        try:
            return await self._count(key, plan)
        except CountersUnreachable as exc:
            log.warning("request quota not counted, Redis unreachable: %s", exc)
            return None

    async def _count(self, key: str, plan: Plan) -> QuotaState:
        hour = Window(plan.requests_per_hour, HOUR)
        burst = Window(plan.burst, BURST_WINDOW)
        windows = self._windows
        allowed = await windows.hit(burst, plan.name, key) and await windows.hit(hour, plan.name, key)
        hour_reset, hour_left = await windows.stats(hour, plan.name, key)
        burst_reset, burst_left = await windows.stats(burst, plan.name, key)
        now = time.time()
        retry_after = 0
        if not allowed:
            full = [reset for reset, left in ((burst_reset, burst_left), (hour_reset, hour_left)) if left <= 0]
            retry_after = max(1, math.ceil(max(full, default=now + 1) - now))
        return QuotaState(
            allowed,
            plan.requests_per_hour,
            max(0, hour_left),
            math.ceil(hour_reset),
            plan.burst,
            max(0, burst_left),
            math.ceil(burst_reset),
            retry_after,
        )

    async def close(self) -> None:
        await self._windows.stop()
