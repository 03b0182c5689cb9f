"""The database schema and its migrations: the only module that imports Alembic (and SQLAlchemy's engines,
which Alembic needs; the server's own queries go through server/database.py).

The revisions live in server/migrations/versions/ (README.md, "Schema changes"). Contract of `upgrade(url)`:
- it runs before the server's own connections open (a transaction they held would block it), and
  brings the database to the newest revision in one transaction: a failed revision changes nothing;
- a new, empty database gets every table; a database made by the release before migrations (its tables,
  no alembic_version table) keeps its rows: revision 0001 creates only what is missing and stamps it;
- a database at a revision this code does not know was made by a newer release: `SchemaTooNew`, and
  nothing is touched;
- processes upgrading at once queue (BEGIN IMMEDIATE on SQLite, an advisory lock on PostgreSQL) and the
  later ones find the work done.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from server.database import DatabaseUnavailable

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_UPGRADE_LOCK = 424242  # the PostgreSQL advisory lock every upgrading process takes
T = TypeVar("T")
_log = logging.getLogger(__name__)


class SchemaTooNew(Exception):
    """The database is at a revision this code does not know: a newer release migrated it."""


@dataclass(frozen=True)
class Status:
    """Where a database stands. `current` is empty for a database no migration has run on."""

    current: tuple[str, ...]
    head: str
    has_tables: bool  # without alembic_version: made by the release before migrations

    @property
    def up_to_date(self) -> bool:
        return self.current == (self.head,)

    def describe(self) -> str:
        if self.current:
            where = ", ".join(self.current)
        elif self.has_tables:
            where = "none (tables of the release before migrations)"
        else:
            where = "none (empty database)"
        return f"database schema revision {where}; this server's is {self.head}"


def _config() -> Config:
    """A new one for each upgrade: it carries that upgrade's connection to env.py."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def _sqlite_engine(url: str) -> Engine:
    """The standard library's driver, run in a worker thread: one thread hop for the whole upgrade instead
    of one per statement through aiosqlite (a fresh database per test pays this)."""
    engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": 30})

    # The sqlite3 module would commit before each DDL statement on its own; take transactions over so the
    # upgrade is one transaction, begun IMMEDIATE so a second upgrader waits for the first.
    @event.listens_for(engine, "connect")
    def _no_implicit_transactions(connection: Any, _record: Any) -> None:
        connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


async def _run(url: str, work: Callable[[Connection], T]) -> T:
    """`work` on a connection to `url`, in one transaction that commits when it returns.

    A database that cannot be reached raises `DatabaseUnavailable`; errors of the work itself pass as they are.
    """
    if url.startswith("sqlite"):
        return await asyncio.to_thread(_run_sqlite, url, work)
    engine = create_async_engine(url.replace(url.partition("://")[0], "postgresql+asyncpg", 1), poolclass=NullPool)
    try:
        with _unreachable_as_unavailable():
            connection = await engine.connect().start()
        try:
            async with connection.begin():
                return await connection.run_sync(work)
        finally:
            await connection.close()
    finally:
        await engine.dispose()


def _run_sqlite(url: str, work: Callable[[Connection], T]) -> T:
    engine = _sqlite_engine(url)
    try:
        with _unreachable_as_unavailable():
            connection = engine.connect()
        with connection, connection.begin():
            return work(connection)
    finally:
        engine.dispose()


@contextlib.contextmanager
def _unreachable_as_unavailable() -> Iterator[None]:
    try:
        yield
    except (OSError, DBAPIError) as exc:  # raised while connecting: refused, unknown host or database, bad login
        reason = exc.orig if isinstance(exc, DBAPIError) else exc  # without SQLAlchemy's wrapping and links
        raise DatabaseUnavailable(" ".join(str(reason).split())) from exc


def _status(connection: Connection) -> Status:
    current = tuple(sorted(MigrationContext.configure(connection).get_current_heads()))
    head = _scripts().get_current_head()
    assert head is not None, "server/migrations/versions has no single head"
    return Status(current, head, has_tables=not current and inspect(connection).has_table("users"))


def _refuse_unknown(status: Status) -> None:
    known = {script.revision for script in _scripts().walk_revisions()}
    unknown = [revision for revision in status.current if revision not in known]
    if unknown:
        raise SchemaTooNew(
            f"the database is at schema revision {', '.join(unknown)}, which this server does not know "
            f"(its newest is {status.head}): a newer release upgraded it; run that release or restore a backup"
        )


def _upgrade(connection: Connection) -> tuple[Status, Status]:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_UPGRADE_LOCK})")
    before = _status(connection)
    _refuse_unknown(before)
    if not before.up_to_date:
        config = _config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return before, _status(connection)


async def upgrade(url: str) -> tuple[Status, Status]:
    """Bring the database at `url` to the newest revision; the statuses before and after."""
    before, after = await _run(url, _upgrade)
    if before != after:
        _log.info("database schema upgraded from %s to %s", ", ".join(before.current) or "nothing", after.head)
    return before, after


async def status(url: str) -> Status:
    """Where the database at `url` stands, changing nothing; `SchemaTooNew` if a newer release made it."""
    found = await _run(url, _status)
    _refuse_unknown(found)
    return found
