"""The DM's music controls and the state late joiners pick up."""

from __future__ import annotations

import pytest

from tests.live import LiveServer, game_table

AUDIO = "/api/audio/control.php"


async def test_play_pause_stop_cycle_is_published_and_kept(server: LiveServer):
    dm, (player, _), session_id = await game_table(server)
    socket = await player.socket(session_id, last_event_id=10**9)
    await socket.frame()
    playing = await dm.ok(
        AUDIO,
        {
            "session_id": session_id,
            "action": "play",
            "track_url": "https://cdn.example.com/battle.ogg",
            "track_name": "Battle",
            "volume": 60,
        },
    )
    assert playing["status"] == "playing" and playing["position"] == 0 and playing["volume"] == 60
    event = await socket.event("audio_control")
    assert event["event_data"]["action"] == "play" and event["event_data"]["track_name"] == "Battle"
    paused = await dm.ok(AUDIO, {"session_id": session_id, "action": "pause", "position": 42.5})
    assert paused["status"] == "paused" and paused["position"] == 42.5
    resumed = await dm.ok(AUDIO, {"session_id": session_id, "action": "play"})
    assert resumed["track_url"] == "https://cdn.example.com/battle.ogg" and resumed["position"] >= 42.5
    stopped = await dm.ok(AUDIO, {"session_id": session_id, "action": "stop"})
    assert stopped["status"] == "stopped" and stopped["position"] == 0
    looped = await dm.ok(AUDIO, {"session_id": session_id, "action": "loop", "loop": True})
    assert looped["loop"] is True and looped["track_url"] == "https://cdn.example.com/battle.ogg"


async def test_a_new_track_starts_from_the_beginning(server: LiveServer):
    dm, _, session_id = await game_table(server, players=0)
    await dm.ok(AUDIO, {"session_id": session_id, "action": "play", "track_url": "/a.ogg", "position": 30})
    second = await dm.ok(AUDIO, {"session_id": session_id, "action": "play", "track_url": "/b.ogg"})
    assert second["track_url"] == "/b.ogg" and second["position"] < 1 and second["track_name"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "dance"}, "action"),
        ({"action": "play"}, "track_url"),
        ({"action": "play", "track_url": "javascript:alert(1)"}, "track_url"),
        ({"action": "volume"}, "volume"),
        ({"action": "volume", "volume": -1}, "volume"),
        ({"action": "volume", "volume": 101}, "volume"),
        ({"action": "loop"}, "loop"),
        ({"action": "pause", "position": -1}, "position"),
        ({"action": "play", "track_url": "/x.ogg", "track_name": "n" * 201}, "track_name"),
    ],
)
async def test_invalid_controls_are_rejected_and_change_nothing(server: LiveServer, body, field):
    dm, _, session_id = await game_table(server, players=0)
    response = await dm.post(AUDIO, {"session_id": session_id, **body})
    assert response.status_code == 400 and field in response.json()["errors"]
    state = await server.services.db.fetch_val("SELECT audio_state FROM game_sessions")
    assert state is None


@pytest.mark.parametrize("volume", [0, 100])
async def test_volume_edges_are_accepted(server: LiveServer, volume):
    dm, _, session_id = await game_table(server, players=0)
    assert (await dm.ok(AUDIO, {"session_id": session_id, "action": "volume", "volume": volume}))["volume"] == volume


async def test_only_the_dm_controls_the_music(server: LiveServer, clients):
    dm, (player, _), session_id = await game_table(server)
    body = {"session_id": session_id, "action": "volume", "volume": 5}
    assert (await player.post(AUDIO, body)).status_code == 403
    assert (await (await clients().register()).post(AUDIO, body)).status_code == 403
    assert (await clients().post(AUDIO, body)).status_code == 401
    assert (await dm.post(AUDIO, {**body, "session_id": 999_999})).status_code == 404
