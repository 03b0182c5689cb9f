"""Event retention: old events are pruned, and a client that resumes from before the oldest kept event is
told to load the snapshot again (WebSocket close 4412, long-poll 412), never handed a silent gap."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from websockets.exceptions import ConnectionClosed

from server import retention
from server.settings import from_environment
from tests.live import LiveServer, game_table


async def test_resuming_from_pruned_events_requires_the_snapshot(settings):
    server = await LiveServer(dataclasses.replace(settings, event_retention_days=30)).start()
    try:
        dm, (player, _), session_id = await game_table(server)
        for volume in (10, 20):
            await dm.ok("/api/audio/control.php", {"session_id": session_id, "action": "volume", "volume": volume})
        head = await server.services.event_log.head(session_id)
        await server.services.db.fetch_all(  # the first events of the night are two months old
            "UPDATE session_events SET created_at = '2000-01-01 00:00:00' WHERE session_id = :sid AND event_id <= 3",
            {"sid": session_id},
        )
        await server.restart()  # pruning runs at start-up, then every hour
        await player.login(player.user["username"])
        assert await server.services.db.fetch_val("SELECT min(event_id) FROM session_events") == 4

        socket = await player.socket(session_id, last_event_id=0)
        refusal = await socket.frame()
        assert refusal["type"] == "error" and refusal["error"] == "snapshot_required"
        with pytest.raises(ConnectionClosed) as closed:
            await socket.frame()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4412
        poll = await player.get("/api/realtime/poll.php", session_id=session_id, last_event_id=2, timeout=0)
        assert poll.status_code == 412 and poll.json()["error"] == "snapshot_required"

        snapshot = (await player.get("/api/session/snapshot.php", session_id=session_id)).json()["data"]
        assert snapshot["head_event_id"] == head and snapshot["audio"]["volume"] == 20
        for after in (3, head):  # from the oldest kept event on, or from the snapshot's head: no gap
            resumed = await player.socket(session_id, last_event_id=after)
            assert (await resumed.frame())["type"] == "hello"
        polled = await player.get("/api/realtime/poll.php", session_id=session_id, last_event_id=3, timeout=0)
        assert polled.status_code == 200 and polled.json()["data"]["events"][0]["event_id"] == 4
    finally:
        await server.stop()


def test_the_cutoff_and_the_setting():
    assert retention.cutoff(30, datetime(2026, 3, 31, 12, 0, tzinfo=UTC)) == "2026-03-01 12:00:00"
    assert from_environment({"EVENT_RETENTION_DAYS": "90"}).event_retention_days == 90
    assert from_environment({}).event_retention_days == 0
