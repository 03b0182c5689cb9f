"""Attempt limits per client (login, registration), kept in the database so every process shares them."""

from __future__ import annotations

from server import clock
from server.database import Database
from server.errors import RateLimited


async def count_attempt(db: Database, key: str, attempts: int, window: int) -> None:
    """Record one attempt for `key`, or raise RateLimited if `attempts` were made in the last `window` s."""
    now = clock.now_epoch()
    async with db.transaction() as tx:
        if tx.dialect == "postgresql":
            # Serialise the count-then-insert per key across processes.
            await tx.execute("SELECT pg_advisory_xact_lock(hashtext(:key))", {"key": key})
        await tx.execute(
            "DELETE FROM login_attempts WHERE client_key = :key AND attempted_at <= :since",
            {"key": key, "since": now - window},
        )
        row = await tx.fetch_one(
            "SELECT count(*) AS made, min(attempted_at) AS oldest FROM login_attempts WHERE client_key = :key",
            {"key": key},
        )
        assert row is not None
        if row["made"] >= attempts:
            raise RateLimited(retry_after=max(1, row["oldest"] + window - now))
        await tx.execute(
            "INSERT INTO login_attempts (client_key, attempted_at) VALUES (:key, :now)", {"key": key, "now": now}
        )
