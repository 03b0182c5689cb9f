"""The garbage collector: its pauses, measured, and (in the served process) a policy that keeps its full
passes out of the fan-out.

A full pass walks every tracked object, and each open connection owns a few hundred: with 10,000
sockets it stops the event loop for tens of milliseconds, and a broadcast that lands behind it waits
(bench/RESULTS.md). Objects that outlive a burst of connections are frozen (`gc.freeze()`, which moves
them out of the collector's reach in constant time), so the passes in between only walk what is new.
Cyclic garbage among frozen objects (plain garbage is freed by reference counting at once) waits for
the unfreeze-and-collect that runs when the process has been quiet for a while, and at the latest every
FULL_PASS_LATEST seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from typing import Any

from server.metrics import Metrics

TICK = 1.0  # seconds between looks at whether to freeze
QUIET = 1.0  # seconds without a fan-out or a request that count as quiet
FULL_PASS_EVERY = 300.0  # seconds between unfreeze-and-collect passes when quiet
FULL_PASS_LATEST = 1800.0  # and between them at the latest, quiet or not


class Collector:
    """Times every collector pass (gc.callbacks) into the metrics; with `policy`, also freezes what
    survived once the process is quiet and now and then unfreezes and collects everything. The policy
    changes process-wide settings: the served process turns it on (server/serve.py), tests do not."""

    def __init__(self, metrics: Metrics, *, policy: bool = False) -> None:
        self.metrics = metrics
        self.policy = policy
        self.passes = 0
        self._started_at = 0.0
        self._frozen_after = 0  # passes when the survivors were last frozen
        self._last_full = time.monotonic()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        gc.callbacks.append(self._on_pass)
        if self.policy:
            gc.collect()
            gc.freeze()  # what start-up built lives as long as the process
            self._frozen_after = self.passes
        self._task = asyncio.create_task(self._run(), name="collector")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self._on_pass)

    def _on_pass(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started_at = time.perf_counter()
        elif self._started_at:
            self.passes += 1
            self.metrics.collector_paused(info["generation"], time.perf_counter() - self._started_at)
            self._started_at = 0.0

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            self.tick(time.monotonic())

    def tick(self, now: float) -> None:
        self.metrics.note_collector_pauses()
        if self.policy:
            self._apply_policy(now)

    def _apply_policy(self, now: float) -> None:
        quiet = self.metrics.quiet_for(now) >= QUIET
        since_full = now - self._last_full
        if (quiet and since_full >= FULL_PASS_EVERY) or since_full >= FULL_PASS_LATEST:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self._last_full = now
            self._frozen_after = self.passes
        elif quiet and self.passes != self._frozen_after:
            # A pass since the last freeze promoted survivors: sweep the young, freeze what is left.
            gc.collect(1)
            gc.freeze()
            self._frozen_after = self.passes
