"""All database access: the only module that imports `databases` (and the drivers beneath it).

`databases` opens the connections, owns the PostgreSQL pool and its transactions; statements run on the
driver connection it hands out (aiosqlite, asyncpg), because compiling every statement through
SQLAlchemy, as `databases` does, cost about a third of the server's CPU under load (bench/RESULTS.md).
Statements are plain SQL with `:name` parameters on both databases.

Contract of `Database.transaction()` and `Database.in_one_hop()`:
- SQLite: write transactions are serialised in-process by one asyncio lock and run as
  `BEGIN IMMEDIATE` on one dedicated connection (on its own thread), in WAL mode with a 30 s busy
  timeout, so concurrent writers queue instead of failing with "database is locked". Reads use other
  connections and see the last committed state. `transaction()` hops to the writer's thread once per
  statement; `in_one_hop(work)` runs the whole transaction, BEGIN to COMMIT, in one hop, as
  better-sqlite3 does on Node: `work` is an ordinary coroutine function over a `Transaction`, and on
  SQLite its statements run synchronously on the writer's thread, where `work` is driven to its end
  without an event loop (so it may await only its transaction's statements). Those that queue while
  the writer is busy commit together (group commit), each in its own savepoint.
- PostgreSQL: each transaction runs on its own pooled connection; code that reads a row it is going
  to change selects it with `tx.for_update` appended, so concurrent writers queue on that row.
A unique-constraint violation surfaces as `DuplicateRow` on both.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import itertools
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import aiosqlite
import asyncpg
import databases

Row = dict[str, Any]
T = TypeVar("T")
# The largest whole number we store or look up: ids and counts are 32-bit INTEGER columns on PostgreSQL
# (and SQLite refuses integers beyond 64 bits), so a larger one is a client error, not a 500.
MAX_INTEGER = 2**31 - 1
_SQLITE_READERS = 3
_SQLITE_PRAGMAS = ("journal_mode = WAL", "busy_timeout = 30000", "foreign_keys = ON", "synchronous = NORMAL")
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


class Reads:
    """The read surface of the database and of transactions, all built on `fetch_all`."""

    async def fetch_all(self, sql: str, values: Mapping[str, Any] | None = None) -> list[Row]:
        raise NotImplementedError

    async def fetch_one(self, sql: str, values: Mapping[str, Any] | None = None) -> Row | None:
        rows = await self.fetch_all(sql, values)
        return rows[0] if rows else None

    async def fetch_val(self, sql: str, values: Mapping[str, Any] | None = None) -> Any:
        rows = await self.fetch_all(sql, values)
        return next(iter(rows[0].values())) if rows else None


class _Queries(Reads):
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


class _SQLiteOnItsThread(_Queries):
    """Statements of the writer connection, run where the caller already is: on the writer's thread."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    async def fetch_all(self, sql: str, values: Mapping[str, Any] | None = None) -> list[Row]:
        # Declared async to share the Transaction surface with the other drivers, but it never suspends.
        return self.run(sql, values)

    def run(self, sql: str, values: Mapping[str, Any] | None = None) -> list[Row]:
        with _converted_errors():
            return [dict(row) for row in self.connection.execute(sql, values or {}).fetchall()]

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE, then COMMIT; ROLLBACK (if SQLite has not already) when the block or COMMIT raises."""
        self.run("BEGIN IMMEDIATE")
        try:
            yield
            self.run("COMMIT")
        except BaseException:
            if self.connection.in_transaction:
                self.run("ROLLBACK")
            raise


class _SQLiteWriter:
    """The one SQLite connection that writes, and the one thread it runs on."""

    def __init__(self, path: str) -> None:
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._path = path
        self.statements: _SQLiteOnItsThread | None = None

    def _open(self) -> None:
        connection = sqlite3.connect(self._path, timeout=30.0, isolation_level=None, check_same_thread=False)
        connection.row_factory = sqlite3.Row
        for pragma in _SQLITE_PRAGMAS:
            connection.execute(f"PRAGMA {pragma}")
        self.statements = _SQLiteOnItsThread(connection)

    async def call(self, function: Callable[..., T], *arguments: Any) -> T:
        """`function(*arguments)` on the writer's thread: one hop."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, function, *arguments)

    async def open(self) -> None:
        await self.call(self._open)

    async def close(self) -> None:
        if self.statements is not None:
            await self.call(self.statements.connection.close)
            self.statements = None
        self._thread.shutdown()


class _Hopped(_Queries):
    """The writer's statements from the event loop: one hop each."""

    def __init__(self, writer: _SQLiteWriter) -> None:
        self._writer = writer

    async def fetch_all(self, sql: str, values: Mapping[str, Any] | None = None) -> list[Row]:
        assert self._writer.statements is not None
        return await self._writer.call(self._writer.statements.run, sql, values)


_SUSPENDED = "a one-hop transaction awaited something other than its own statements"


def _driven_to_the_end(coroutine: Coroutine[Any, Any, T]) -> T:
    """The result of a coroutine that never suspends, run without an event loop."""
    try:
        coroutine.send(None)
    except StopIteration as finished:
        result: T = finished.value
        return result
    except RuntimeError as exc:
        if "event loop" not in str(exc):
            raise
        raise RuntimeError(_SUSPENDED) from exc  # asyncio.sleep and friends look for the loop first
    coroutine.close()
    raise RuntimeError(_SUSPENDED)


class _Postgres(_Queries):
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def fetch_all(self, sql: str, values: Mapping[str, Any] | None = None) -> list[Row]:
        statement, names = _positional(sql)
        arguments = [values[name] for name in names] if values else []
        with _converted_errors():
            records = await self._connection.fetch(statement, *arguments)
        return [dict(record) for record in records]


@dataclass(frozen=True)
class _Failed:
    """What a transaction of a group raised, to be raised again to its own caller."""

    error: BaseException


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


class Database(Reads):
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
        # One-hop transactions waiting for the writer, each with the future of its outcome (in_one_hop).
        self._queued: list[tuple[Callable[[Transaction], Coroutine[Any, Any, Any]], asyncio.Future[Any]]] = []
        self._committing: set[asyncio.Task[None]] = set()  # kept, so that a running group is never collected
        self._sqlite: list[databases.core.Connection] = []  # the readers
        self._writer: _SQLiteWriter | None = None
        self._readers: Iterator[_SQLite] | None = None
        self.observe: Callable[[float], None] = _unobserved  # told each statement's duration (metrics)

    async def connect(self) -> None:
        with _converted_errors():
            await self._db.connect()
            if self.dialect == "sqlite":
                self._writer = _SQLiteWriter(databases.DatabaseURL(self.url).database)
                await self._writer.open()
                self._sqlite = [await self._open_sqlite_connection() for _ in range(_SQLITE_READERS)]
                self._readers = itertools.cycle([_SQLite(connection.raw_connection) for connection in self._sqlite])

    async def _open_sqlite_connection(self) -> databases.core.Connection:
        connection = databases.core.Connection(self._db, self._db._backend)
        await connection.__aenter__()
        raw: aiosqlite.Connection = connection.raw_connection
        raw.row_factory = sqlite3.Row
        for pragma in _SQLITE_PRAGMAS:
            await raw.execute(f"PRAGMA {pragma}")
        return connection

    async def disconnect(self) -> None:
        for connection in self._sqlite:
            await connection.__aexit__()
        if self._writer is not None:
            await self._writer.close()
        self._sqlite, self._writer, self._readers = [], None, None
        await self._db.disconnect()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        if self.dialect == "sqlite":
            assert self._writer is not None, "Database.connect() was not awaited"
            writer = _Hopped(self._writer)
            async with self._write_lock:
                await writer.execute("BEGIN IMMEDIATE")
                try:
                    yield Transaction(writer, self.dialect, self.observe)
                except BaseException:
                    await writer.execute("ROLLBACK")
                    raise
                await writer.execute("COMMIT")
            return
        with _converted_errors():
            async with self._db.connection() as connection, connection.transaction():
                yield Transaction(_Postgres(connection.raw_connection), self.dialect, self.observe)

    async def in_one_hop(self, work: Callable[[Transaction], Coroutine[Any, Any, T]]) -> T:
        """`work(tx)` as one transaction, as `transaction()` would run it, but on SQLite in one hop to the
        writer's thread: there `work` may await nothing but `tx`'s statements (anything else is a
        RuntimeError, and the transaction rolls back). PostgreSQL runs it on the event loop as usual.

        On SQLite the one-hop transactions that queue while the writer is busy run together, in their
        order, in one hop and one commit (group commit), each in its own savepoint: one that raises rolls
        back alone and raises to its own caller; the others commit as if each had run by itself."""
        if self.dialect != "sqlite":
            async with self.transaction() as tx:
                return await work(tx)
        assert self._writer is not None, "Database.connect() was not awaited"
        if not self._queued and not self._write_lock.locked():  # the writer is idle: no group to wait for
            async with self._write_lock:
                (outcome,) = await self._writer.call(self._group, [work])
        else:
            done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self._queued.append((work, done))
            if len(self._queued) == 1:  # the first to queue since the last group was taken: it starts this one
                task = asyncio.create_task(self._commit_queued())
                self._committing.add(task)
                task.add_done_callback(self._committing.discard)
            outcome = await done
        if isinstance(outcome, _Failed):
            raise outcome.error
        result: T = outcome
        return result

    async def _commit_queued(self) -> None:
        assert self._writer is not None
        async with self._write_lock:
            group, self._queued = self._queued, []
            try:
                outcomes = await self._writer.call(self._group, [work for work, _ in group])
            except BaseException as exc:  # the writer's thread failed: each caller hears it
                outcomes = [_Failed(exc)] * len(group)
                if not isinstance(exc, Exception):
                    raise
            finally:
                for (_, done), outcome in zip(group, outcomes, strict=True):
                    if not done.cancelled():
                        done.set_result(outcome)

    def _group(self, works: list[Callable[[Transaction], Coroutine[Any, Any, Any]]]) -> list[Any]:
        """On the writer's thread: the outcome (result or _Failed) of each work, all in one transaction,
        each in a savepoint (a lone one needs none). Should the transaction itself fail (its COMMIT, or
        SQLite ending it on an I/O error), it rolls back and each work runs again in one of its own."""
        assert self._writer is not None and self._writer.statements is not None
        statements = self._writer.statements
        tx = Transaction(statements, self.dialect, self.observe)
        if len(works) == 1:
            return [self._alone(works[0], tx)]
        outcomes: list[Any] = []
        try:
            with statements.transaction():
                for work in works:
                    statements.run("SAVEPOINT one_hop")
                    try:
                        outcomes.append(_driven_to_the_end(work(tx)))
                    except Exception as exc:
                        statements.run("ROLLBACK TO one_hop")
                        outcomes.append(_Failed(exc))
                    statements.run("RELEASE one_hop")
        except Exception:
            return [self._alone(work, tx) for work in works]
        return outcomes

    def _alone(self, work: Callable[[Transaction], Coroutine[Any, Any, Any]], tx: Transaction) -> Any:
        """On the writer's thread: `work` in a transaction of its own; its result or _Failed."""
        assert self._writer is not None and self._writer.statements is not None
        try:
            with self._writer.statements.transaction():
                return _driven_to_the_end(work(tx))
        except Exception as exc:
            return _Failed(exc)

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
