"""Leased outboxes: tables of work written in a change's transaction and sent after it by a worker
(webhook deliveries, Web Push). One place for how a worker claims what is due.

A row is due when `next_attempt_at` has passed and its lease (`lease_until`) has expired. Claiming is one
UPDATE that leases up to `limit` due rows to this worker (`leased_by`), oldest due first, with
`FOR UPDATE SKIP LOCKED` on PostgreSQL so that several processes share the work and each row goes to
one of them; SQLite's single writer serialises the claims. A worker that dies leaves its leases to
expire, and then any worker claims the rows again (at least once).
"""

from __future__ import annotations

from dataclasses import dataclass

from server.database import Database, in_lists
from server.webhook_events import now_ms


@dataclass(frozen=True)
class Outbox:
    table: str  # its rows are read as `d`
    key: str  # the primary key column
    join: str = ""  # other tables the condition needs, e.g. "JOIN webhook_endpoints e ON ..."
    condition: str = ""  # besides being due, on `d` and the joined tables
    still: str = ""  # the part of `condition` on the table itself, checked again as the row is leased


async def claim(db: Database, outbox: Outbox, worker_id: str, lease_seconds: float, limit: int) -> list[int]:
    """Lease up to `limit` due rows to `worker_id` for `lease_seconds`; their keys."""
    now = now_ms()
    due = "d.next_attempt_at <= :now AND d.lease_until <= :now"
    if outbox.condition:
        due += f" AND {outbox.condition}"
    # A read first: polling an idle outbox costs no write transaction.
    if not await db.fetch_val(
        f"SELECT count(*) FROM (SELECT 1 FROM {outbox.table} d {outbox.join} WHERE {due} LIMIT 1) AS due", {"now": now}
    ):
        return []
    still = f" AND {outbox.still}" if outbox.still else ""
    async with db.transaction() as tx:
        skip_locked = " FOR UPDATE OF d SKIP LOCKED" if tx.dialect == "postgresql" else ""
        rows = await tx.fetch_all(
            f"UPDATE {outbox.table} SET lease_until = :lease, leased_by = :me WHERE {outbox.key} IN ("
            f"SELECT d.{outbox.key} FROM {outbox.table} d {outbox.join} WHERE {due} "
            f"ORDER BY d.next_attempt_at, d.{outbox.key} LIMIT :batch{skip_locked}) "
            f"AND lease_until <= :now{still} RETURNING {outbox.key}",
            {"now": now, "lease": now + int(lease_seconds * 1000), "me": worker_id, "batch": limit},
        )
    return [row[outbox.key] for row in rows]


def keys_in(keys: list[int]) -> tuple[str, dict[str, object]]:
    """The claimed keys as one `IN (...)` list and its parameters (a claim is at most a batch)."""
    [(names, values)] = in_lists(keys, size=max(1, len(keys)))
    return names, values
