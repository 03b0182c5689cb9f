"""The event log bounds every event's encoded size, whatever feature records it: at the bound it is
recorded; one byte over, the whole change is refused with a clear error and nothing of it is written."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server import codec, schema
from server.broadcast import Broadcast
from server.database import Database
from server.errors import EventTooLarge, kind
from server.event_log import MAX_EVENT_BYTES, EventLog

EMPTY = len(codec.dumps({"x": ""}))


@pytest.fixture
async def event_log(tmp_path: Path) -> AsyncIterator[EventLog]:
    db = Database(f"sqlite:///{tmp_path}/events.db")
    await schema.upgrade(db.url)
    await db.connect()
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO users (username, email, password_hash, created_at) VALUES ('dm', 'dm@example.com', 'x', 'now')"
        )
        await tx.execute(
            "INSERT INTO game_sessions (dm_user_id, session_title, session_datetime, duration_minutes, max_players, "
            "created_at) VALUES (1, 'Bounded', '2099-01-01 00:00:00', 60, 6, 'now')"
        )
    broadcast = Broadcast("memory://")
    await broadcast.connect()
    yield EventLog(db, broadcast)
    await broadcast.disconnect()
    await db.disconnect()


async def title(log: EventLog) -> str:
    return str(await log.db.fetch_val("SELECT session_title FROM game_sessions WHERE session_id = 1"))


async def test_an_event_at_the_bound_is_recorded(event_log: EventLog):
    async with event_log.change(1) as change:
        event = await change.record(1, "big", text(MAX_EVENT_BYTES))
    assert len(codec.dumps(event.event_data)) == MAX_EVENT_BYTES
    assert [e.event_id for e in await event_log.since(1, 0)] == [1]


def text(size: int) -> dict[str, str]:
    """A JSON object whose encoding is exactly `size` bytes."""
    return {"x": "a" * (size - EMPTY)}


HALF = MAX_EVENT_BYTES // 2
OVER = {
    "alone": {"event_data": text(MAX_EVENT_BYTES + 1)},
    "with the players' form": {"event_data": text(HALF), "player_data": text(HALF + 1)},
    "with the redacted form": {
        "event_data": text(HALF),
        "redacted_data": text(HALF + 1),
        "audience": "users",
        "user_ids": [1],
    },
}


@pytest.mark.parametrize("forms", OVER.values(), ids=OVER.keys())
async def test_one_byte_over_the_bound_refuses_the_whole_change(event_log: EventLog, forms: dict):
    """The bound counts every form stored with the event (the DM's, the players', the redacted one)."""
    data = forms.pop("event_data")
    with pytest.raises(EventTooLarge) as refused:
        async with event_log.change(1) as change:
            await change.tx.execute("UPDATE game_sessions SET session_title = 'changed' WHERE session_id = 1")
            await change.record(1, "small", {"n": 1})
            await change.record(1, "big", data, **forms)
    assert str(MAX_EVENT_BYTES) in refused.value.message and kind(refused.value).http_status == 413
    assert await title(event_log) == "Bounded"
    assert await event_log.since(1, 0) == [] and await event_log.head(1) == 0
