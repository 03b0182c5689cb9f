"""Diagnostic, not part of the harness (also times garbage-collector pauses).

Runs our server with server.database.Database.transaction wrapped
to measure, per SQLite write transaction, how long a writer waits for the write lock, how long it holds it
and how many statements (each one an aiosqlite thread round trip) it issues; and per statement, the wall
time of one round trip. Prints the distribution on SIGTERM/exit.

    DATABASE_URL=sqlite:////abs.db ... python bench/diag/lock_hold.py --port P   (from the repo root)
"""

from __future__ import annotations

import atexit
import contextlib
import statistics
import sys
import time

sys.path.insert(0, ".")
from server import database

waits: list[float] = []
holds: list[float] = []
statements: list[int] = []
hops: list[float] = []
_current: list[int] = []

_orig_tx = database.Database.transaction

# Garbage-collector pauses, by generation: (start, duration, objects collected)
import gc  # noqa: E402

gc_pauses: list[tuple[int, float, float]] = []
_gc_start = [0.0]


def _gc_cb(phase: str, info: dict) -> None:
    if phase == "start":
        _gc_start[0] = time.perf_counter()
    else:
        gc_pauses.append((info["generation"], time.perf_counter() - _gc_start[0], time.time()))


gc.callbacks.append(_gc_cb)


@contextlib.asynccontextmanager
async def transaction(self):  # type: ignore[no-untyped-def]
    if self.dialect != "sqlite":
        async with _orig_tx(self) as tx:
            yield tx
        return
    t0 = time.perf_counter()
    async with self._write_lock:
        t1 = time.perf_counter()
        _current.append(2)  # BEGIN IMMEDIATE and COMMIT
        await self._writer.execute("BEGIN IMMEDIATE")
        try:
            yield database.Transaction(self._writer, self.dialect)
        except BaseException:
            await self._writer.execute("ROLLBACK")
            raise
        await self._writer.execute("COMMIT")
        t2 = time.perf_counter()
    waits.append(t1 - t0)
    holds.append(t2 - t1)
    statements.append(_current.pop())


database.Database.transaction = transaction  # type: ignore[assignment]

for name in ("fetch_all", "fetch_one", "fetch_val", "execute"):
    original = getattr(database._Queries, name)

    def wrap(original=original):  # type: ignore[no-untyped-def]
        async def timed(self, sql, values=None):  # type: ignore[no-untyped-def]
            if isinstance(self, database.Transaction) and _current:
                _current[-1] += 1
            t = time.perf_counter()
            try:
                return await original(self, sql, values)
            finally:
                hops.append(time.perf_counter() - t)

        return timed

    setattr(database._Queries, name, wrap())


def report() -> None:
    def q(v: list[float], p: float) -> float:
        v = sorted(v)
        return v[min(len(v) - 1, int(p * len(v)))] * 1000 if v else float("nan")

    print(f"[lock_hold] write transactions: {len(holds)}", file=sys.stderr)
    if holds:
        print(
            f"[lock_hold] statements per transaction (incl. BEGIN/COMMIT): {statistics.mean(statements):.1f}",
            file=sys.stderr,
        )
        for label, v in (("lock wait", waits), ("lock hold", holds), ("one query round trip", hops)):
            print(
                f"[lock_hold] {label}: p50 {q(v, 0.5):.2f} ms, p90 {q(v, 0.9):.2f} ms, p99 {q(v, 0.99):.2f} ms, "
                f"mean {statistics.mean(v) * 1000:.2f} ms",
                file=sys.stderr,
            )
        print(
            f"[lock_hold] => at most {1000 / (statistics.mean(holds) * 1000):.0f} write transactions/s", file=sys.stderr
        )


def report_gc() -> None:
    for gen in (0, 1, 2):
        v = [d for g, d, _ in gc_pauses if g == gen]
        if v:
            print(
                f"[lock_hold] gc generation {gen}: {len(v)} collections, max {max(v) * 1000:.1f} ms, "
                f"total {sum(v) * 1000:.0f} ms",
                file=sys.stderr,
            )


atexit.register(report_gc)
atexit.register(report)

from server.cli import main  # noqa: E402

sys.argv = ["server", "serve", *sys.argv[1:]]
main()
