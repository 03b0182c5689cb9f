"""Event retention: with EVENT_RETENTION_DAYS set, events older than that are pruned every hour.

Nothing a client needs is lost: a joining client loads the snapshot (server/table_snapshot.py) and
follows from its head; one that resumes from before the oldest kept event is told `snapshot_required`
(server/event_log.py, `require_retained`) instead of being handed a silent gap.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from server.event_log import EventLog

log = logging.getLogger("server.retention")
PRUNE_EVERY_SECONDS = 3600.0


def cutoff(days: int, now: datetime | None = None) -> str:
    """The creation time before which events are pruned, as the database stores times."""
    return ((now or datetime.now(UTC)) - timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")


async def keep_pruning(event_log: EventLog, days: int, every: float = PRUNE_EVERY_SECONDS) -> None:
    """Prune now and then every `every` seconds, until cancelled; a failed round is logged and retried."""
    while True:
        try:
            await event_log.prune(cutoff(days))
        except Exception:
            log.exception("pruning old events failed")
        await asyncio.sleep(every)
