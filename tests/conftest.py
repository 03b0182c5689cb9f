from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from server import schema
from server.settings import Settings
from tests.live import Client, LiveServer, missing_service


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file the migrations brought to the newest schema, once per test run. A test copies it instead
    of migrating its own: committing the schema costs an fsync per test (tens of ms on a busy disk)."""
    path = tmp_path_factory.mktemp("migrated") / "vtt.db"
    asyncio.run(schema.upgrade(f"sqlite:///{path}"))
    return path


@pytest.fixture
def settings(tmp_path: Path, migrated_sqlite: Path) -> Settings:
    shutil.copyfile(migrated_sqlite, tmp_path / "vtt.db")
    return Settings(database_url=f"sqlite:///{tmp_path}/vtt.db", upload_dir=tmp_path / "uploads")


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[LiveServer]:
    live = await LiveServer(settings).start()
    yield live
    await live.stop()


@pytest.fixture
async def clients(server: LiveServer) -> AsyncIterator[Callable[[], Client]]:
    made: list[Client] = []

    def make() -> Client:
        client = Client(server)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    import asyncpg

    try:
        admin = await asyncpg.connect(POSTGRES_URL, timeout=5)
    except Exception as exc:
        missing_service("postgres", POSTGRES_URL, exc)
    name = f"vtt_test_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = POSTGRES_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def redis_url() -> str:
    import redis.asyncio as redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        await client.ping()
    except Exception as exc:
        missing_service("redis", REDIS_URL, exc)
    finally:
        await client.aclose()
    return REDIS_URL
