"""Bad input found when the server was tried from outside (issue 9, part 4): NUL characters, impossible
dates, huge ids in a form field, numbers that are not JSON numbers. Each is a 400 with a field error on
SQLite and on PostgreSQL, never a 500, and writes nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from server.settings import Settings
from tests.live import FIGHTER, Client, LiveServer, game_table

NUL = "a\u0000b"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, settings: Settings) -> str:
    """SQLite, then a real PostgreSQL (where a NUL byte in text is refused by the database itself)."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return settings.database_url


@pytest.fixture
async def any_server(settings: Settings, database_url: str) -> AsyncIterator[LiveServer]:
    live = await LiveServer(dataclasses.replace(settings, database_url=database_url)).start()
    yield live
    await live.stop()


def assert_field_error(response, field: str) -> str:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["status"] == "error" and body["error"] == "validation_failed", body
    assert field in body["errors"], body
    return str(body["errors"][field])


async def test_a_nul_character_in_any_text_field_is_a_field_error(any_server: LiveServer):
    dm, (player,), session_id = await game_table(any_server, players=1)
    character = await player.ok("/api/character/create.php", {**FIGHTER, "session_id": session_id})
    goblin = (await dm.get("/api/monsters/list.php", search="Goblin")).json()["data"]["monsters"][0]
    anonymous = Client(any_server)

    login = await anonymous.http.post("/api/auth/login.php", json={"username": NUL, "password": "x"})
    assert "NUL" in assert_field_error(login, "username")
    register = await anonymous.http.post(
        "/api/auth/register.php", json={"username": "nulled", "email": f"x{NUL}@example.com", "password": "p" * 12}
    )
    assert_field_error(register, "email")
    posts = [
        ("/api/session/create.php", {"session_title": NUL, "session_datetime": "2099-01-01 19:00:00"}, "session_title"),
        ("/api/character/create.php", {**FIGHTER, "character_name": NUL}, "character_name"),
        (
            "/api/monsters/create-instance.php",
            {"monster_id": goblin["monster_id"], "session_id": session_id, "notes": NUL},
            "notes",
        ),
        (
            "/api/monsters/create-instance.php",
            {"monster_id": goblin["monster_id"], "session_id": session_id, "equipment": {"sword": NUL}},
            "equipment",
        ),
        (
            "/api/monsters/create-instance.php",
            {"monster_id": goblin["monster_id"], "session_id": session_id, "treasure": {NUL: 1}},
            "treasure",
        ),
        (
            "/api/character/grant-xp.php",
            {"session_id": session_id, "character_ids": [character["character_id"]], "xp_amount": 5, "reason": NUL},
            "reason",
        ),
    ]
    for path, body, field in posts:
        assert_field_error(await dm.post(path, body), field)
    assert_field_error(await dm.get("/api/monsters/list.php", search=NUL), "search")
    assert_field_error(await dm.get("/api/items/list.php", category=NUL), "category")
    # Nothing was written by the refused changes.
    listed = (await dm.get("/api/monsters/list-instances.php", session_id=session_id)).json()["data"]
    assert listed["instances"] == []
    sessions = (await dm.get("/api/session/list.php")).json()["data"]["sessions"]
    assert len(sessions) == 1


@pytest.mark.parametrize(
    "when",
    ["2030-02-30 20:00:00", "2030-13-01 20:00:00", "2030-01-01 25:00:00", "0000-01-01 20:00:00", "2030-01-01 20:61:00"],
)
async def test_an_impossible_session_datetime_is_a_field_error(server: LiveServer, when: str):
    dm = await Client(server).register()
    response = await dm.post("/api/session/create.php", {"session_title": "Night", "session_datetime": when})
    assert "date" in assert_field_error(response, "session_datetime")


@pytest.mark.parametrize("post_id", ["99999999999999999999", "2147483648", "\u00b2", "0", "-1"])
async def test_a_forum_post_id_beyond_the_database_integer_is_a_field_error(server: LiveServer, post_id: str):
    user = await Client(server).register()
    response = await user.post(
        "/api/forum/posts/upload-image.php", files={"file": ("a.png", PNG, "image/png")}, data={"post_id": post_id}
    )
    assert_field_error(response, "post_id")


async def test_the_largest_forum_post_id_is_accepted(server: LiveServer):
    user = await Client(server).register()
    response = await user.post(
        "/api/forum/posts/upload-image.php", files={"file": ("a.png", PNG, "image/png")}, data={"post_id": "2147483647"}
    )
    assert response.status_code != 500 and "post_id" not in response.json().get("errors", {}), response.text


@pytest.mark.parametrize("value", [True, False, "1", "5", 1.5, [1], None])
async def test_a_whole_number_in_a_json_body_must_be_a_json_number(server: LiveServer, value: object):
    dm, (player,), session_id = await game_table(server, players=1)
    character = await player.ok("/api/character/create.php", {**FIGHTER, "session_id": session_id})
    cid = character["character_id"]
    cases = [
        ("/api/character/update-hp.php", {"character_id": cid, "damage": value}, "damage"),
        ("/api/character/update-hp.php", {"character_id": value, "damage": 1}, "character_id"),
        (
            "/api/character/grant-xp.php",
            {"session_id": session_id, "character_ids": [cid], "xp_amount": value},
            "xp_amount",
        ),
        (
            "/api/character/grant-xp.php",
            {"session_id": session_id, "character_ids": [value], "xp_amount": 5},
            "character_ids",
        ),
        ("/api/combat/next-turn.php", {"session_id": value}, "session_id"),
    ]
    for path, body, field in cases:
        assert "whole number" in assert_field_error(await dm.post(path, body), field), (path, body)
    sheet = (await dm.get("/api/character/get.php", character_id=cid)).json()["data"]
    assert sheet["current_hp"] == character["current_hp"] and sheet["experience_points"] == 0


async def test_a_float_with_no_fraction_is_a_whole_number(server: LiveServer):
    """JSON Schema's `integer` includes 3.0 (and generators of the API document send it): taken as 3."""
    dm, (player,), session_id = await game_table(server, players=1)
    character = await player.ok("/api/character/create.php", {**FIGHTER, "session_id": session_id})
    hurt = await dm.ok(
        "/api/character/update-hp.php", {"character_id": float(character["character_id"]), "damage": 1.0}
    )
    assert hurt["current_hp"] == character["current_hp"] - 1


@pytest.mark.parametrize("value", ["1.5", "true", "1e3", " 1", "+1", "1_0", "\u0661", "99999999999999999999999"])
async def test_a_whole_number_in_a_query_is_digits_only(server: LiveServer, value: str):
    dm, _, session_id = await game_table(server, players=0)
    response = await dm.get("/api/monsters/list-instances.php", session_id=session_id, page=value)
    assert_field_error(response, "page")


async def test_get_answers_match_the_documented_envelope(server: LiveServer):
    """The README's envelope: a change answers with `message`; a read (GET) answers status and data only,
    as the API spec shows for its GET endpoints."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert "A read (GET) answers" in " ".join(readme.split())
    dm, _, session_id = await game_table(server, players=0)
    for path, params in [
        ("/api/session/list.php", {}),
        ("/api/items/list.php", {}),
        ("/api/auth/verify.php", {}),
        ("/api/health", {}),
        ("/api/monsters/list.php", {}),
        ("/api/combat/get-initiative.php", {"session_id": session_id}),
    ]:
        body = (await dm.get(path, **params)).json()
        assert body["status"] == "success" and set(body) == {"status", "data"}, (path, body)
    created = (await dm.post("/api/character/create.php", FIGHTER)).json()
    assert set(created) == {"status", "message", "data"} and created["message"]


async def test_equipment_nested_past_its_bound_is_a_field_error(server: LiveServer):
    dm, _, session_id = await game_table(server, players=0)
    goblin = (await dm.get("/api/monsters/list.php", search="Goblin")).json()["data"]["monsters"][0]

    def nested(levels: int) -> dict:
        value: dict = {}
        for _ in range(levels - 1):
            value = {"a": value}
        return value

    body = {"monster_id": goblin["monster_id"], "session_id": session_id}
    assert (await dm.post("/api/monsters/create-instance.php", {**body, "equipment": nested(32)})).status_code == 200
    for levels in (33, 300):
        response = await dm.post("/api/monsters/create-instance.php", {**body, "treasure": nested(levels)})
        assert "32 levels" in assert_field_error(response, "treasure")
