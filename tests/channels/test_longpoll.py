"""The 25-second long-poll, as the legacy client uses it (../shared/spec/legacy-wire.md)."""

from __future__ import annotations

import asyncio
import time

from tests.live import LiveServer, game_table, until_connections

POLL = "/api/realtime/poll.php"


async def volume(dm, session_id: int, level: int) -> None:
    await dm.ok("/api/audio/control.php", {"session_id": session_id, "action": "volume", "volume": level})


async def test_pending_events_answer_at_once_in_the_legacy_shape(server: LiveServer):
    dm, (player, _), session_id = await game_table(server)
    await volume(dm, session_id, 40)
    started = time.monotonic()
    response = await player.get(POLL, session_id=session_id, last_event_id=0, timeout=25)
    assert time.monotonic() - started < 5
    body = response.json()
    assert response.status_code == 200 and body["status"] == "success"
    data = body["data"]
    assert set(data) == {
        "session_id",
        "events",
        "event_count",
        "last_event_id",
        "online_users",
        "online_count",
        "timestamp",
    }
    assert [e["event_type"] for e in data["events"]] == ["player_joined", "player_joined", "audio_control"]
    assert data["event_count"] == 3 and data["last_event_id"] == data["events"][-1]["event_id"]
    assert set(data["events"][0]) == {"event_id", "event_type", "event_data", "created_at"}
    assert {u["user_id"] for u in data["online_users"]} == {player.user_id}
    assert data["online_count"] == 1


async def test_a_poll_with_nothing_new_waits_about_its_timeout(server: LiveServer):
    _dm, (player, _), session_id = await game_table(server)
    head = (await player.get(POLL, session_id=session_id, timeout=0)).json()["data"]["last_event_id"]
    started = time.monotonic()
    response = await player.get(POLL, session_id=session_id, last_event_id=head, timeout=2)
    waited = time.monotonic() - started
    data = response.json()["data"]
    assert 1.8 <= waited < 10
    assert data["events"] == [] and data["event_count"] == 0 and data["last_event_id"] == head


async def test_a_parked_poll_answers_when_an_event_arrives(server: LiveServer):
    dm, (player, _), session_id = await game_table(server)
    head = (await player.get(POLL, session_id=session_id, timeout=0)).json()["data"]["last_event_id"]
    parked = asyncio.create_task(player.get(POLL, session_id=session_id, last_event_id=head, timeout=25))
    await until_connections(dm, 1)  # parked
    started = time.monotonic()
    await volume(dm, session_id, 55)
    response = await parked
    assert time.monotonic() - started < 10
    data = response.json()["data"]
    assert [e["event_data"]["volume"] for e in data["events"]] == [55]
    assert data["last_event_id"] == head + 1


async def test_cursor_resume_gets_every_event_once_in_order_at_most_100_a_time(server: LiveServer):
    _dm, (player, _), session_id = await game_table(server)
    head = (await player.get(POLL, session_id=session_id, timeout=0)).json()["data"]["last_event_id"]
    log = server.services.event_log
    async with log.change(session_id) as change:
        for n in range(150):
            await change.record(session_id, "audio_control", {"volume": n % 101})
    cursor, seen = head, []
    for expected in (100, 50):
        data = (await player.get(POLL, session_id=session_id, last_event_id=cursor, timeout=0)).json()["data"]
        assert data["event_count"] == expected
        seen += [e["event_id"] for e in data["events"]]
        assert data["last_event_id"] == data["events"][-1]["event_id"]
        cursor = data["last_event_id"]
    assert seen == list(range(head + 1, head + 151))


async def test_a_player_poll_never_carries_dm_only_events_nor_skips_past_them(server: LiveServer, clients):
    dm, (player, _), session_id = await game_table(server)
    head = (await player.get(POLL, session_id=session_id, timeout=0)).json()["data"]["last_event_id"]
    newcomer = await clients().register()
    await dm.ok("/api/session/invite-player.php", {"session_id": session_id, "username": newcomer.user["username"]})
    data = (await player.get(POLL, session_id=session_id, last_event_id=head, timeout=1)).json()["data"]
    assert data["events"] == [] and data["last_event_id"] == head
    dm_data = (await dm.get(POLL, session_id=session_id, last_event_id=head, timeout=0)).json()["data"]
    assert [e["event_type"] for e in dm_data["events"]] == ["player_invited"]


async def test_poll_errors_follow_the_legacy_contract(server: LiveServer, clients):
    dm, _, session_id = await game_table(server, players=0)
    stranger = await clients().register()
    assert (await clients().get(POLL, session_id=session_id)).status_code == 401
    assert (await stranger.get(POLL, session_id=session_id, timeout=0)).status_code == 403
    assert (await dm.get(POLL, session_id=999_999, timeout=0)).status_code == 404
    for bad in ({}, {"session_id": 0}, {"session_id": -3}, {"session_id": "x"}):
        response = await dm.get(POLL, **bad)
        assert response.status_code == 400 and "session_id" in response.json()["errors"]
    assert (await dm.post(POLL)).status_code == 405


async def test_pollers_count_as_online_for_thirty_seconds(server: LiveServer):
    dm, (player, _), session_id = await game_table(server)
    await player.get(POLL, session_id=session_id, timeout=0)
    data = (await dm.get(POLL, session_id=session_id, timeout=0)).json()["data"]
    assert {u["user_id"] for u in data["online_users"]} == {dm.user_id, player.user_id}


async def test_websocket_users_count_as_online_for_pollers(server: LiveServer):
    dm, (player, _), session_id = await game_table(server)
    socket = await dm.socket(session_id)
    await socket.frame()
    data = (await player.get(POLL, session_id=session_id, timeout=0)).json()["data"]
    assert {u["user_id"] for u in data["online_users"]} == {dm.user_id, player.user_id}
