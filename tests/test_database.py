"""The database module on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from server import schema
from server.database import Database, DuplicateRow


async def _open(url: str) -> Database:
    await schema.upgrade(url)
    await schema.upgrade(url)  # a restart finds nothing to do
    db = Database(url)
    await db.connect()
    return db


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/vtt.db"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
async def db(database_url: str):
    database = await _open(database_url)
    yield database
    await database.disconnect()


async def _user(db: Database, name: str) -> int:
    async with db.transaction() as tx:
        return await tx.fetch_val(
            "INSERT INTO users (username, email, password_hash, created_at) "
            "VALUES (:n, :e, 'x', '2026-01-01 00:00:00') RETURNING user_id",
            {"n": name, "e": f"{name}@example.com"},
        )


async def _game_session(db: Database, dm_name: str) -> None:
    """Game session 1, run by a new user."""
    await _user(db, dm_name)
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO game_sessions (dm_user_id, session_title, session_datetime, duration_minutes, max_players, "
            "created_at) VALUES (1, 't', '2099-01-01 00:00:00', 60, 6, 'now')"
        )


async def test_fifty_concurrent_read_then_write_transactions_all_commit(db: Database):
    await _game_session(db, "counter")

    async def bump() -> None:
        async with db.transaction() as tx:
            head = await tx.fetch_val("SELECT event_head FROM game_sessions WHERE session_id = 1" + tx.for_update)
            await asyncio.sleep(0)  # let the others interleave between the read and the write
            await tx.execute("UPDATE game_sessions SET event_head = :h WHERE session_id = 1", {"h": head + 1})

    results = await asyncio.gather(*(bump() for _ in range(50)), return_exceptions=True)
    assert [r for r in results if isinstance(r, Exception)] == []
    assert await db.fetch_val("SELECT event_head FROM game_sessions WHERE session_id = 1") == 50


async def test_a_failed_transaction_leaves_nothing_behind(db: Database):
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO users (username, email, password_hash, created_at) VALUES ('ghost', 'g@x.io', 'x', 'now')"
            )
            raise RuntimeError("half-way")
    assert await db.fetch_val("SELECT count(*) FROM users") == 0


async def test_unique_violations_surface_as_duplicate_row_in_any_letter_case(db: Database):
    await _user(db, "Elrond")
    with pytest.raises(DuplicateRow):
        await _user(db, "ELROND")


async def test_schema_has_the_event_log(db: Database):
    assert await db.fetch_val("SELECT count(*) FROM session_events") == 0


async def _bump_in_one_hop(tx) -> int:
    head = await tx.fetch_val("SELECT event_head FROM game_sessions WHERE session_id = 1" + tx.for_update)
    await tx.execute("UPDATE game_sessions SET event_head = :h WHERE session_id = 1", {"h": head + 1})
    return head + 1


async def test_one_hop_and_per_statement_transactions_interleave_without_losing_a_write(db: Database):
    await _game_session(db, "hopper")

    async def bump() -> int:
        async with db.transaction() as tx:
            return await _bump_in_one_hop(tx)

    results = await asyncio.gather(*(db.in_one_hop(_bump_in_one_hop) if n % 2 else bump() for n in range(40)))
    assert sorted(results) == list(range(1, 41))  # every write saw the one before it: no lost update
    assert await db.fetch_val("SELECT event_head FROM game_sessions WHERE session_id = 1") == 40


async def test_a_failed_one_hop_transaction_leaves_nothing_behind(db: Database):
    async def half_way(tx) -> None:
        await tx.execute(
            "INSERT INTO users (username, email, password_hash, created_at) VALUES ('ghost', 'g@x.io', 'x', 'now')"
        )
        raise RuntimeError("half-way")

    with pytest.raises(RuntimeError, match="half-way"):
        await db.in_one_hop(half_way)
    assert await db.fetch_val("SELECT count(*) FROM users") == 0
    await _user(db, "after")  # the writer is free again
    with pytest.raises(DuplicateRow):
        await db.in_one_hop(lambda tx: _user_in(tx, "AFTER"))


async def test_one_hop_transactions_queued_behind_a_writer_each_commit_or_fail_alone(db: Database):
    """Those that queue while the writer is busy commit together on SQLite (group commit); each still keeps
    its own atomicity and its own error, and the ones after a failure see the state without it."""
    await _game_session(db, "grouped")
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with db.transaction() as tx:
            await _bump_in_one_hop(tx)
            holding.set()
            await release.wait()

    async def bump_then_fail(tx) -> None:
        await _bump_in_one_hop(tx)
        raise RuntimeError("half-way")

    async def bump_then_collide(tx) -> None:
        await _bump_in_one_hop(tx)
        await _user_in(tx, "GROUPED")  # a statement that fails: DuplicateRow

    holder = asyncio.create_task(hold())
    await holding.wait()
    works = [_bump_in_one_hop, bump_then_fail, _bump_in_one_hop, bump_then_collide, _bump_in_one_hop]
    queued = [asyncio.create_task(db.in_one_hop(work)) for work in works]
    await asyncio.sleep(0)  # one turn of the loop: each starts and waits for the writer (or the row lock)
    release.set()
    await holder
    results = await asyncio.gather(*queued, return_exceptions=True)
    assert isinstance(results[1], RuntimeError) and isinstance(results[3], DuplicateRow)
    assert sorted(results[n] for n in (0, 2, 4)) == [2, 3, 4]  # gapless: the failed ones left nothing
    if db.dialect == "sqlite":  # one writer: in the order they queued
        assert [results[n] for n in (0, 2, 4)] == [2, 3, 4]
    assert await db.fetch_val("SELECT event_head FROM game_sessions WHERE session_id = 1") == 4
    assert await db.fetch_val("SELECT count(*) FROM users") == 1


async def _user_in(tx, name: str) -> None:
    await tx.execute(
        "INSERT INTO users (username, email, password_hash, created_at) VALUES (:n, :e, 'x', 'now')",
        {"n": name, "e": f"{name}@example.com"},
    )


async def test_on_sqlite_a_one_hop_transaction_that_awaits_anything_else_is_refused_and_rolled_back(tmp_path: Path):
    db = await _open(f"sqlite:///{tmp_path}/vtt.db")
    try:
        elsewhere: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def sleeps(tx) -> None:
            await _user_in(tx, "sleeper")
            await asyncio.sleep(0.01)  # not a statement of tx: it would leave the writer's thread

        async def waits(tx) -> None:
            await _user_in(tx, "waiter")
            await elsewhere  # a future of the event loop

        for work in (sleeps, waits):
            with pytest.raises(RuntimeError, match="awaited something other than its own statements"):
                await db.in_one_hop(work)
        assert await db.fetch_val("SELECT count(*) FROM users") == 0
    finally:
        await db.disconnect()
