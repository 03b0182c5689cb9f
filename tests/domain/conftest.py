"""The domain without any transport: a real SQLite file with the schema and the bestiary, and the event
log publishing in-process. Domain functions are called directly, as the API calls them."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from server import accounts, bestiary, game_sessions
from server.accounts import User
from server.broadcast import Broadcast
from server.database import Database
from server.event_log import EventLog

_names = itertools.count(1)
FUTURE = "2099-01-01 19:00:00"


@pytest.fixture
async def log(tmp_path: Path, migrated_sqlite: Path) -> AsyncIterator[EventLog]:
    shutil.copyfile(migrated_sqlite, tmp_path / "domain.db")
    db = Database(f"sqlite:///{tmp_path}/domain.db")
    await db.connect()
    await bestiary.seed(db)
    broadcast = Broadcast("memory://")
    await broadcast.connect()
    yield EventLog(db, broadcast)
    await broadcast.disconnect()
    await db.disconnect()


@pytest.fixture
def user(log: EventLog) -> Callable[[], Awaitable[User]]:
    async def make() -> User:
        name = f"hero{next(_names)}"
        return await accounts.create_user(log.db, name, f"{name}@example.com", "correct horse battery")

    return make


@pytest.fixture
def table(log: EventLog, user: Callable[[], Awaitable[User]]) -> Callable[..., Awaitable[tuple[User, list[User], int]]]:
    """A DM, a new game session of theirs, and `players` players who accepted their invitations."""

    async def make(players: int = 1) -> tuple[User, list[User], int]:
        dm = await user()
        session_id = (await game_sessions.create(log, dm, game_sessions.NewGameSession("Keep", FUTURE)))["session_id"]
        seated = []
        for _ in range(players):
            player = await user()
            await game_sessions.invite_player(log, dm, session_id, player.username)
            await game_sessions.accept_invitation(log, player, session_id)
            seated.append(player)
        return dm, seated, session_id

    return make
