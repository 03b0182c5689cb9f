"""All database access: the only module that imports `databases` (and the drivers beneath it).

`databases` opens the connections, owns the PostgreSQL pool and its transactions; statements run on the
driver connection it hands out (aiosqlite, asyncpg), because compiling every statement through
SQLAlchemy, as `databases` does, cost about a third of the server's CPU under load (bench/RESULTS.md).
Statements are plain SQL with `:name` parameters on both databases.

Contract of `Database.transaction()`:
- SQLite: write transactions are serialised in-process by one asyncio lock and run as
  `BEGIN IMMEDIATE` on one dedicated connection, in WAL mode with a 30 s busy timeout, so concurrent
  writers queue instead of failing with "database is locked". Reads use other connections and see the
  last committed state.
- PostgreSQL: each transaction runs on its own pooled connection; code that reads a row it is going
  to change selects it with `tx.for_update` appended, so concurrent writers queue on that row.
A unique-constraint violation surfaces as `DuplicateRow` on both.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite
import asyncpg
import databases

Row = dict[str, Any]
# The largest whole number we store or look up: ids and counts are 32-bit INTEGER columns on PostgreSQL
# (and SQLite refuses integers beyond 64 bits), so a larger one is a client error, not a 500.
MAX_INTEGER = 2**31 - 1
_SQLITE_READERS = 3
# A quoted string (left alone) or a :name parameter (not a PostgreSQL ::cast).
_PARAMETER = re.compile(r"'(?:[^']|'')*'|(?<!:):([A-Za-z_]\w*)")


class DuplicateRow(Exception):
    """An INSERT or UPDATE broke a unique constraint."""


class DatabaseUnavailable(Exception):
    """The database could not be reached."""


@contextlib.contextmanager
def _converted_errors() -> Iterator[None]:
    """The one boundary where driver errors become ours."""
    try:
        yield
    except asyncpg.UniqueViolationError as exc:
        raise DuplicateRow(str(exc)) from exc
    except sqlite3.IntegrityError as exc:
        if "UNIQUE" in str(exc):
            raise DuplicateRow(str(exc)) from exc
        raise
    except (OSError, asyncpg.exceptions.ConnectionDoesNotExistError) as exc:
        raise DatabaseUnavailable(str(exc)) from exc


@functools.lru_cache(maxsize=2048)
def _positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """`:name` parameters as asyncpg's `$n`, and the names in their order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return match.group(0)
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return _PARAMETER.sub(number, sql), tuple(names)


class _Reads:
    """The read surface of the database and of transactions, all built on `fetch_all`."""

    async def fetch_all(self, sql: str, values: Mapping[str, Any] | None = None) -> list[Row]:
        raise NotImplementedError

    async def fetch_one(self, sql: str, values: Mapping[str, Any] | None = None) -> Row | None:
        rows = await self.fetch_all(sql, values)
        return rows[0] if rows else None

    async def fetch_val(self, sql: str, values: Mapping[str, Any] | None = None) -> Any:
        rows = await self.fetch_all(sql, values)
        return next(iter(rows[0].values())) if rows else None


class _Queries(_Reads):
    """Reads and writes on one connection (writes only ever inside a transaction)."""

    async def execute(self, sql: str, values: Mapping[str, Any] | None = None) -> None:
        await self.fetch_all(sql, values)


class _SQLite(_Queries):
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def fetch_all(self, sql: str, values: Mapping[str, Any] | None = None) -> list[Row]:
        with _converted_errors():
            # One hop to the connection's thread for the statement and its rows.
            rows = await self._connection.execute_fetchall(sql, values or {})
        return [dict(row) for row in rows]


class _Postgres(_Queries):
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def fetch_all(self, sql: str, values: Mapping[str, Any] | None = None) -> list[Row]:
        statement, names = _positional(sql)
        arguments = [values[name] for name in names] if values else []
        with _converted_errors():
            records = await self._connection.fetch(statement, *arguments)
        return [dict(record) for record in records]


def _unobserved(seconds: float) -> None:
    pass


class Transaction(_Queries):
    def __init__(self, queries: _Queries, dialect: str, observe: Callable[[float], None] = _unobserved) -> None:
        self._queries = queries
        self.dialect = dialect
        self._observe = observe
        # Appended to a SELECT of rows this transaction will change. SQLite needs none: its writers
        # are already serialised.
        self.for_update = " FOR UPDATE" if dialect == "postgresql" else ""

    async def fetch_all(self, sql: str, values: Mapping[str, Any] | None = None) -> list[Row]:
        started = time.perf_counter()
        try:
            return await self._queries.fetch_all(sql, values)
        finally:
            self._observe(time.perf_counter() - started)


class Database(_Reads):
    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
        options: dict[str, Any] = {}
        if self.dialect == "sqlite":
            options["timeout"] = 30.0
        else:
            options.update(min_size=2, max_size=20)
        self._db = databases.Database(url, **options)
        self._write_lock = asyncio.Lock()
        self._sqlite: list[databases.core.Connection] = []  # the writer first, then the readers
        self._writer: _SQLite | None = None
        self._readers: Iterator[_SQLite] | None = None
        self.observe: Callable[[float], None] = _unobserved  # told each statement's duration (metrics)

    async def connect(self) -> None:
        with _converted_errors():
            await self._db.connect()
            if self.dialect == "sqlite":
                self._sqlite = [await self._open_sqlite_connection() for _ in range(1 + _SQLITE_READERS)]
                drivers = [_SQLite(connection.raw_connection) for connection in self._sqlite]
                self._writer = drivers[0]
                self._readers = itertools.cycle(drivers[1:])

    async def _open_sqlite_connection(self) -> databases.core.Connection:
        connection = databases.core.Connection(self._db, self._db._backend)
        await connection.__aenter__()
        raw: aiosqlite.Connection = connection.raw_connection
        raw.row_factory = sqlite3.Row
        for pragma in ("journal_mode = WAL", "busy_timeout = 30000", "foreign_keys = ON", "synchronous = NORMAL"):
            await raw.execute(f"PRAGMA {pragma}")
        return connection

    async def disconnect(self) -> None:
        for connection in self._sqlite:
            await connection.__aexit__()
        self._sqlite, self._writer, self._readers = [], None, None
        await self._db.disconnect()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        if self.dialect == "sqlite":
            assert self._writer is not None, "Database.connect() was not awaited"
            async with self._write_lock:
                await self._writer.execute("BEGIN IMMEDIATE")
                try:
                    yield Transaction(self._writer, self.dialect, self.observe)
                except BaseException:
                    await self._writer.execute("ROLLBACK")
                    raise
                await self._writer.execute("COMMIT")
            return
        with _converted_errors():
            async with self._db.connection() as connection, connection.transaction():
                yield Transaction(_Postgres(connection.raw_connection), self.dialect, self.observe)

    async def fetch_all(self, sql: str, values: Mapping[str, Any] | None = None) -> list[Row]:
        started = time.perf_counter()
        try:
            if self._readers is not None:
                return await next(self._readers).fetch_all(sql, values)
            with _converted_errors():
                async with self._db.connection() as connection:
                    return await _Postgres(connection.raw_connection).fetch_all(sql, values)
        finally:
            self.observe(time.perf_counter() - started)


def in_lists(values: Iterable[object], size: int = 500) -> Iterator[tuple[str, dict[str, object]]]:
    """`values` as bounded `IN (...)` lists: each batch's placeholders (":v0, :v1, ...") and parameters,
    so that one statement never carries thousands of parameters."""
    ordered = list(values)
    for start in range(0, len(ordered), size):
        batch = {f"v{i}": value for i, value in enumerate(ordered[start : start + size])}
        yield ", ".join(":" + name for name in batch), batch
