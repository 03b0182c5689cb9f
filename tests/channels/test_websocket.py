"""The WebSocket transport against a real uvicorn server on a real port."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from websockets.exceptions import InvalidStatus

from tests.live import FIGHTER, Client, LiveServer, closed_with, game_table

NOW = 10**9  # a cursor past the head: the server starts from its head, so "from now on"


async def test_hello_then_live_events_for_dm_and_player(server: LiveServer):
    dm, (player, _), session_id = await game_table(server)
    character = await player.ok("/api/character/create.php", {**FIGHTER, "session_id": session_id})
    dm_socket = await dm.socket(session_id, last_event_id=NOW)
    hello = await dm_socket.frame()
    assert hello["type"] == "hello" and hello["role"] == "dm" and hello["session_id"] == session_id
    assert hello["audio"]["status"] == "stopped"
    player_socket = await player.socket(session_id, last_event_id=hello["head_event_id"])
    player_hello = await player_socket.frame()
    assert player_hello["role"] == "player" and player_hello["head_event_id"] == hello["head_event_id"]

    await dm.ok("/api/character/update-hp.php", {"character_id": character["character_id"], "damage": 3})
    for socket in (dm_socket, player_socket):
        event = await socket.event("character_hp_updated")
        assert event["event_id"] == hello["head_event_id"] + 1
        data = event["event_data"]
        assert data["character_id"] == character["character_id"]
        assert data["old_hp"] == character["max_hp"]
        assert data["current_hp"] == max(0, character["max_hp"] - 3)
        assert data["max_hp"] == character["max_hp"]
        assert data["is_dead"] is (data["current_hp"] == 0)
        assert set(event) == {"type", "event_id", "event_type", "event_data", "created_at"}


async def test_fifty_concurrent_hp_updates_are_exact_and_consecutive(settings):
    server = await LiveServer(dataclasses.replace(settings, rate_limit_attempts=1000)).start()
    try:
        await _fifty_concurrent_hp_updates(server)
    finally:
        await server.stop()


async def _fifty_concurrent_hp_updates(server: LiveServer) -> None:
    dm, (player,), session_id = await game_table(server, players=1)
    character = await player.ok("/api/character/create.php", {**FIGHTER, "session_id": session_id})
    async with server.services.db.transaction() as tx:
        await tx.execute("UPDATE characters SET max_hp = 1000, current_hp = 1000")
    socket = await dm.socket(session_id, last_event_id=NOW)
    head = (await socket.frame())["head_event_id"]
    # 50 separate browsers of the DM, each with its own login session.
    browsers = [Client(server) for _ in range(50)]
    logins = await asyncio.gather(*(browser.login(dm.user["username"]) for browser in browsers))
    assert [login.status_code for login in logins] == [200] * 50
    damages = [1 + n % 7 for n in range(50)]
    answers = await asyncio.gather(
        *(
            browser.post("/api/character/update-hp.php", {"character_id": character["character_id"], "damage": d})
            for browser, d in zip(browsers, damages, strict=True)
        )
    )
    assert [a.status_code for a in answers] == [200] * 50
    events = await socket.events(50)
    assert [e["event_id"] for e in events] == list(range(head + 1, head + 51))
    hp = 1000
    for event in events:  # each event continues exactly where the previous one left off
        assert event["event_data"]["old_hp"] == hp
        hp = event["event_data"]["current_hp"]
    assert hp == 1000 - sum(damages)
    final = await server.services.db.fetch_val("SELECT current_hp FROM characters")
    assert final == 1000 - sum(damages)


async def test_reconnect_with_last_event_id_gets_every_missed_event_once_in_order(server: LiveServer):
    dm, (player, _), session_id = await game_table(server)
    socket = await player.socket(session_id, last_event_id=NOW)
    head = (await socket.frame())["head_event_id"]
    for volume in range(1, 6):
        await dm.ok("/api/audio/control.php", {"session_id": session_id, "action": "volume", "volume": volume})
    seen = await socket.events(2)
    await socket.close()
    for volume in range(6, 9):
        await dm.ok("/api/audio/control.php", {"session_id": session_id, "action": "volume", "volume": volume})
    resumed = await player.socket(session_id, last_event_id=seen[-1]["event_id"])
    assert (await resumed.frame())["type"] == "hello"
    missed = await resumed.events(6)
    assert [e["event_id"] for e in missed] == list(range(head + 3, head + 9))
    assert [e["event_data"]["volume"] for e in missed] == [3, 4, 5, 6, 7, 8]
    await dm.ok("/api/audio/control.php", {"session_id": session_id, "action": "volume", "volume": 99})
    following = await resumed.event()
    assert following["event_id"] == head + 9 and following["event_data"]["volume"] == 99


async def test_a_player_never_receives_dm_only_events(server: LiveServer, clients):
    dm, (player, _), session_id = await game_table(server)
    socket = await player.socket(session_id, last_event_id=NOW)
    await socket.frame()
    newcomer = await clients().register()
    await dm.ok("/api/session/invite-player.php", {"session_id": session_id, "username": newcomer.user["username"]})
    await dm.ok("/api/audio/control.php", {"session_id": session_id, "action": "volume", "volume": 10})
    event = await socket.event()
    assert event["event_type"] == "audio_control"
    assert all(f.get("event_type") != "player_invited" for f in socket.frames)
    # ... nor in a replay
    replay = await player.socket(session_id, last_event_id=0)
    await replay.frame()
    await replay.event("audio_control")
    types = [f["event_type"] for f in replay.frames if f["type"] == "event"]
    assert types == ["player_joined", "player_joined", "audio_control"]


async def test_foreign_origin_is_refused_at_the_handshake(server: LiveServer):
    dm, _, session_id = await game_table(server, players=0)
    with pytest.raises(InvalidStatus) as refused:
        await dm.socket(session_id, origin="https://evil.example.com")
    assert refused.value.response.status_code == 403


async def test_allowed_origins_may_connect(settings):
    server = await LiveServer(dataclasses.replace(settings, allowed_origins=("https://vtt.example.com",))).start()
    try:
        dm, _, session_id = await game_table(server, players=0)
        socket = await dm.socket(session_id, origin="https://vtt.example.com")
        assert (await socket.frame())["type"] == "hello"
        await dm.aclose()
    finally:
        await server.stop()


async def test_refusals_say_why(server: LiveServer, clients):
    dm, _, session_id = await game_table(server, players=0)
    stranger = await clients().register()
    cases = [
        (clients(), session_id, 4401, "authentication_required"),
        (stranger, session_id, 4403, "insufficient_permissions"),
        (dm, 999_999, 4404, "resource_not_found"),
        (dm, 0, 4400, "validation_failed"),
        (dm, 10**30, 4400, "validation_failed"),
    ]
    for client, sid, code, error in cases:
        socket = await client.socket(sid)
        frame = await socket.frame()
        assert frame["type"] == "error" and frame["error"] == error
        assert await closed_with(socket) == code


async def test_ping_pong_and_bad_frames_keep_the_connection(server: LiveServer):
    dm, _, session_id = await game_table(server, players=0)
    socket = await dm.socket(session_id)
    await socket.frame()
    await socket.send({"type": "ping"})
    assert (await socket.frame())["type"] == "pong"
    await socket.send("not json")
    assert (await socket.frame())["error"] == "bad_frame"
    await socket.send({"type": "dance"})
    assert (await socket.frame())["error"] == "unknown_frame"
    await socket.send(b"\x00\x01")
    assert (await socket.frame())["error"] == "bad_frame"
    await socket.send({"type": "ping"})
    assert (await socket.frame())["type"] == "pong"


async def test_oversized_frame_closes_with_1009(server: LiveServer):
    dm, _, session_id = await game_table(server, players=0)
    socket = await dm.socket(session_id)
    await socket.frame()
    await socket.send("x" * (65 * 1024))
    assert await closed_with(socket) == 1009


async def test_logout_closes_the_users_sockets(server: LiveServer):
    _dm, (player, _), session_id = await game_table(server)
    socket = await player.socket(session_id)
    await socket.frame()
    await player.ok("/api/auth/logout.php")
    assert await closed_with(socket) == 4409


async def test_presence_is_pushed_when_someone_connects_or_leaves(server: LiveServer):
    dm, (player, _), session_id = await game_table(server)
    dm_socket = await dm.socket(session_id, last_event_id=NOW)
    hello = await dm_socket.frame()
    assert [u["user_id"] for u in hello["online_users"]] == [dm.user_id]
    player_socket = await player.socket(session_id, last_event_id=NOW)
    presence = await dm_socket.frame()
    assert presence["type"] == "presence"
    assert {u["user_id"] for u in presence["online_users"]} == {dm.user_id, player.user_id}
    await player_socket.close()
    presence = await dm_socket.frame()
    assert [u["user_id"] for u in presence["online_users"]] == [dm.user_id]


async def test_connection_cap_refuses_beyond_it(settings):
    server = await LiveServer(dataclasses.replace(settings, max_connections=2)).start()
    try:
        dm, _, session_id = await game_table(server, players=0)
        first, second = await dm.socket(session_id), await dm.socket(session_id)
        await first.frame()
        await second.frame()
        third = await dm.socket(session_id)
        assert (await third.frame())["error"] == "service_unavailable"
        assert await closed_with(third) == 1013
        poll = await dm.get("/api/realtime/poll.php", session_id=session_id, timeout=0)
        assert poll.status_code == 503
        await dm.aclose()
    finally:
        await server.stop()


async def test_the_hello_carries_the_music_for_late_joiners(server: LiveServer):
    dm, (player, _), session_id = await game_table(server)
    await dm.ok(
        "/api/audio/control.php",
        {
            "session_id": session_id,
            "action": "play",
            "track_url": "/sounds/tavern.ogg",
            "track_name": "Tavern",
            "volume": 70,
            "loop": True,
        },
    )
    socket = await player.socket(session_id, last_event_id=NOW)
    audio = (await socket.frame())["audio"]
    assert audio["status"] == "playing" and audio["track_url"] == "/sounds/tavern.ogg"
    assert audio["volume"] == 70 and audio["loop"] is True and audio["position"] >= 0
