"""POST /api/dice/roll.php and GET /api/dice/history.php over real HTTP and WebSockets."""

from __future__ import annotations

import dataclasses

import pytest

from server.settings import Settings
from tests.live import FIGHTER, LiveServer, game_table

ROLL = "/api/dice/roll.php"
HISTORY = "/api/dice/history.php"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """These tests roll faster than a person; the rate's edges are tested in test_chat.py."""
    return dataclasses.replace(settings, chat_per_second=1000, chat_per_minute=1000)


async def test_a_public_roll_reaches_the_dm_with_every_die(server: LiveServer):
    dm, (player, _), session_id = await game_table(server)
    socket = await dm.socket(session_id)
    result = await player.ok(ROLL, {"session_id": session_id, "expression": "4d6kh3+2", "label": "Strength"})
    dice = result["terms"][0]["dice"]
    assert len(dice) == 4 and sum(not d["kept"] for d in dice) == 1
    assert result["total"] == sum(d["value"] for d in dice if d["kept"]) + 2
    assert (result["modifier"], result["label"], result["visibility"]) == (2, "Strength", "public")
    event = await socket.event("dice_rolled")
    assert event["event_id"] == result["roll_id"]
    assert event["event_data"]["terms"] == result["terms"] and event["event_data"]["total"] == result["total"]
    assert event["event_data"]["roller_user_id"] == player.user_id


async def test_a_bad_expression_is_a_400_that_says_where(server: LiveServer):
    dm, _players, session_id = await game_table(server, players=0)
    response = await dm.post(ROLL, {"session_id": session_id, "expression": "2d6+"})
    body = response.json()
    assert response.status_code == 400 and body["error"] == "validation_failed"
    assert "At column 5" in body["message"] and body["errors"]["expression"].endswith("2d6+\n    ^")
    response = await dm.post(ROLL, {"session_id": session_id, "expression": "d1001"})
    assert response.status_code == 400 and "not 1001" in response.json()["errors"]["expression"]


async def test_bounds_and_access(server: LiveServer, clients):
    dm, (player, _), session_id = await game_table(server)
    stranger = await clients().register()
    cases = [
        (stranger, {"session_id": session_id, "expression": "d20"}, 403),
        (player, {"session_id": 999_999, "expression": "d20"}, 404),
        (player, {"session_id": session_id, "expression": "d20", "label": "x" * 101}, 400),
        (player, {"session_id": session_id, "expression": "d20", "visibility": "everyone"}, 400),
        (player, {"session_id": session_id, "expression": "d20", "visibility": {"whisper_to": []}}, 400),
        (
            player,
            {"session_id": session_id, "expression": "d20", "visibility": {"whisper_to": [stranger.user_id]}},
            400,
        ),
        (
            player,
            {"session_id": session_id, "expression": "d20", "visibility": {"whisper_to": list(range(1, 22))}},
            400,
        ),
        (player, {"session_id": session_id, "expression": "d20", "apply_damage_to": {"monster_instance_id": 1}}, 403),
        (dm, {"session_id": session_id, "expression": "d20", "apply_damage_to": {}}, 400),
        (player, {"session_id": session_id, "expression": "1" * 201}, 400),
    ]
    for who, body, status in cases:
        response = await who.post(ROLL, body)
        assert response.status_code == status, (body, response.text)
    assert (await stranger.get(HISTORY, session_id=session_id)).status_code == 403
    assert (await player.get(HISTORY, session_id=session_id, limit=101)).status_code == 400
    rolls = (await dm.get(HISTORY, session_id=session_id)).json()["data"]["rolls"]
    assert rolls == []  # no refused request left a roll behind


async def test_history_pages_back_in_time_per_viewer(server: LiveServer):
    _dm, (player, other), session_id = await game_table(server)
    public = [await player.ok(ROLL, {"session_id": session_id, "expression": f"1d6+{n}"}) for n in range(5)]
    mine = await player.ok(ROLL, {"session_id": session_id, "expression": "1d6", "visibility": "self"})
    page = (await player.get(HISTORY, session_id=session_id, limit=4)).json()["data"]
    assert [r["event_id"] for r in page["rolls"]] == [p["roll_id"] for p in public[2:]] + [mine["roll_id"]]
    older = (await player.get(HISTORY, session_id=session_id, limit=4, before_id=page["next_before_id"])).json()
    assert [r["event_id"] for r in older["data"]["rolls"]] == [p["roll_id"] for p in public[:2]]
    assert older["data"]["next_before_id"] is None
    seen_by_other = (await other.get(HISTORY, session_id=session_id)).json()["data"]["rolls"]
    assert [r["event_id"] for r in seen_by_other] == [p["roll_id"] for p in public]


@pytest.fixture(params=["sqlite", "postgresql"])
def either_database(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    url = settings.database_url if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    return dataclasses.replace(settings, database_url=url)


async def test_roll_and_apply_damage_to_a_monster_is_one_transaction(either_database: Settings):
    server = await LiveServer(either_database).start()
    try:
        await roll_and_apply(server)
    finally:
        await server.stop()


async def roll_and_apply(server: LiveServer) -> None:
    dm, (player, _), session_id = await game_table(server)
    ogre = await dm.ok(
        "/api/monsters/create-instance.php", {"monster_id": 1, "session_id": session_id, "custom_hp": 500}
    )
    instance_id = ogre["instances"][0]["instance_id"]
    socket = await player.socket(session_id)
    result = await dm.ok(
        ROLL,
        {"session_id": session_id, "expression": "2d8+3", "apply_damage_to": {"monster_instance_id": instance_id}},
    )
    assert result["applied"]["current_hp"] == 500 - result["total"] and result["applied"]["damage"] == result["total"]
    rolled = await socket.event("dice_rolled")
    hurt = await socket.event("monster_hp_updated")
    assert hurt["event_id"] == rolled["event_id"] + 1
    assert "current_hp" not in hurt["event_data"]  # the player's form still hides the monster's HP

    # A target that is not in this game session fails the apply: the roll is rolled back with it.
    _dm2, _p, other_session = await game_table(server, players=0)
    head = await server.services.event_log.head(session_id)
    elsewhere = await _dm2.ok(
        "/api/monsters/create-instance.php", {"monster_id": 1, "session_id": other_session, "custom_hp": 50}
    )
    for target in ({"monster_instance_id": elsewhere["instances"][0]["instance_id"]}, {"character_id": 999_999}):
        response = await dm.post(ROLL, {"session_id": session_id, "expression": "d6", "apply_damage_to": target})
        assert response.status_code == 404, response.text
    assert await server.services.event_log.head(session_id) == head
    assert len((await dm.get(HISTORY, session_id=session_id)).json()["data"]["rolls"]) == 1


async def test_roll_and_apply_damage_to_a_character(server: LiveServer):
    dm, (player, _), session_id = await game_table(server)
    hero = await player.ok("/api/character/create.php", {**FIGHTER, "constitution": 18, "session_id": session_id})
    result = await dm.ok(
        ROLL,
        {"session_id": session_id, "expression": "1", "apply_damage_to": {"character_id": hero["character_id"]}},
    )
    assert result["applied"]["current_hp"] == result["applied"]["max_hp"] - 1
