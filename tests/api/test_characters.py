"""Characters over real HTTP: creation, the sheet and the party view, the list, XP grants with level-ups,
hit point changes under concurrency; and who may call each endpoint."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from tests.live import FIGHTER, ROLES, Client, LiveServer, cast, game_table

NOW = 10**9
SHEET_ONLY = {"alignment", "experience_points", "strength", "charisma", "created_at"}


async def create(client: Client, session_id: int | None = None, **fields: object) -> dict:
    body = {**FIGHTER, **fields}
    if session_id is not None:
        body["session_id"] = session_id
    return await client.ok("/api/character/create.php", body)


async def grant(client: Client, session_id: int, ids: list[int], xp: int, reason: str | None = None):
    return await client.post(
        "/api/character/grant-xp.php",
        {"session_id": session_id, "character_ids": ids, "xp_amount": xp, "reason": reason},
    )


# -- creation -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "status"),
    [
        ("character_name", "n" * 50, 200),
        ("character_name", "n" * 51, 400),
        ("character_name", "", 400),
        ("strength", 2, 400),
        ("strength", 3, 200),
        ("constitution", 18, 200),
        ("constitution", 19, 400),
        ("charisma", "ten", 400),
        ("class", "paladin", 400),
        ("class", "magic_user", 200),
        ("alignment", "evil", 400),
    ],
)
async def test_create_validates_each_field_at_its_edges(server: LiveServer, field, value, status):
    player = await Client(server).register()
    response = await player.post("/api/character/create.php", {**FIGHTER, field: value})
    assert response.status_code == status, response.text
    if status == 400:
        assert list(response.json()["errors"]) == [field]
    else:
        data = response.json()["data"]
        assert data["level"] == 1 and data["experience_points"] == 0
        assert 1 <= data["max_hp"] == data["current_hp"]


# -- get and list ---------------------------------------------------------------------------------------


async def test_get_gives_the_sheet_to_owner_and_dm_and_the_party_view_to_the_party(server: LiveServer):
    c = await cast(server)
    character = await create(c.player, c.session_id)
    cid = character["character_id"]
    for client in (c.player, c.dm):
        sheet = (await client.get("/api/character/get.php", character_id=cid)).json()["data"]
        assert sheet["view"] == "full" and SHEET_ONLY <= set(sheet)
        assert sheet["strength"] == FIGHTER["strength"] and sheet["session_id"] == c.session_id
    party = (await c.party.get("/api/character/get.php", character_id=cid)).json()["data"]
    assert party["view"] == "party" and not SHEET_ONLY & set(party)
    assert party["character_name"] == FIGHTER["character_name"] and party["max_hp"] == character["max_hp"]
    for client, status in ((c.other, 403), (c.moderator, 403), (c.anonymous, 401)):
        assert (await client.get("/api/character/get.php", character_id=cid)).status_code == status
    assert (await c.player.get("/api/character/get.php", character_id=999_999)).status_code == 404
    assert (await c.player.get("/api/character/get.php", character_id="x")).status_code == 400
    assert (await c.player.get("/api/character/get.php")).status_code == 400


async def test_list_holds_mine_and_for_a_dm_those_of_their_sessions(server: LiveServer):
    c = await cast(server)
    loner = await create(c.player, character_name="Loner")
    mine = [(await create(c.player, c.session_id, character_name=f"Hero {n}"))["character_id"] for n in range(3)]
    theirs = (await create(c.party, c.session_id, character_name="Party"))["character_id"]
    elsewhere = (await create(c.other, character_name="Elsewhere"))["character_id"]

    async def listed(client: Client, **params) -> tuple[list[int], dict]:
        data = (await client.get("/api/character/list.php", **params)).json()["data"]
        return [row["character_id"] for row in data["characters"]], data["pagination"]

    ids, page = await listed(c.player)
    assert ids == [loner["character_id"], *mine] and page["total"] == 4
    ids, page = await listed(c.player, limit=3, page=2)
    assert ids == [mine[2]] and page == {"page": 2, "limit": 3, "total": 4, "total_pages": 2}
    assert (await listed(c.player, session_id=c.session_id))[0] == mine
    assert (await listed(c.dm))[0] == [*mine, theirs]
    assert (await listed(c.other))[0] == [elsewhere]
    assert (await listed(c.moderator))[0] == []
    assert (await c.other.get("/api/character/list.php", session_id=c.session_id)).status_code == 403
    assert (await c.other.get("/api/character/list.php", session_id=999_999)).status_code == 404
    assert (await c.anonymous.get("/api/character/list.php")).status_code == 401
    sheet = (await c.dm.get("/api/character/list.php")).json()["data"]["characters"][0]
    assert SHEET_ONLY <= set(sheet)


# -- XP -------------------------------------------------------------------------------------------------


async def test_grant_xp_levels_up_several_levels_at_once_and_tells_everyone(server: LiveServer):
    dm, (player, party), session_id = await game_table(server, players=2)
    fighter = await create(player, session_id)
    cleric = await create(party, session_id, **{"class": "cleric", "character_name": "Brother Tuck"})
    sockets = [await client.socket(session_id, last_event_id=NOW) for client in (dm, player, party)]

    response = await grant(dm, session_id, [fighter["character_id"], cleric["character_id"]], 16_000, "Goblin cave")
    assert response.status_code == 200, response.text
    result = {row["character_id"]: row for row in response.json()["data"]["characters"]}
    # Fighter: 2,000 / 4,000 / 8,000 / 16,000 -> 5th level; cleric: 12,000 -> 5th, 25,000 -> 6th.
    f, k = result[fighter["character_id"]], result[cleric["character_id"]]
    assert (f["old_level"], f["level"], f["levelled_up"], f["experience_points"]) == (1, 5, True, 16_000)
    assert (k["old_level"], k["level"]) == (1, 5)
    # four d8 with CON 14 (+1), each at least 2 and at most 9
    assert 8 <= f["hp_gained"] <= 36
    assert f["max_hp"] == fighter["max_hp"] + f["hp_gained"]
    assert f["current_hp"] == fighter["current_hp"] + f["hp_gained"]

    for socket in sockets:
        seen = {}
        for _ in range(2):
            event = await socket.event("character_xp_updated")
            seen[event["event_data"]["character_id"]] = event["event_data"]
        full = {**f, "reason": "Goblin cave"}
        assert set(full) == {
            "character_id", "character_name", "user_id", "old_xp", "experience_points", "old_level", "level",
            "levelled_up", "hp_gained", "current_hp", "max_hp", "reason",
        }  # fmt: skip
        # The DM and the owner see the experience points; the rest of the party does not (the party view).
        if socket is sockets[2]:
            full = {key: value for key, value in full.items() if key not in ("old_xp", "experience_points")}
        assert seen[fighter["character_id"]] == full

    sheet = (await player.get("/api/character/get.php", character_id=fighter["character_id"])).json()["data"]
    assert (sheet["level"], sheet["experience_points"], sheet["max_hp"]) == (5, 16_000, f["max_hp"])

    one = (await grant(dm, session_id, [fighter["character_id"]], 1)).json()["data"]
    assert one["reason"] is None and one["xp_amount"] == 1
    small = one["characters"][0]
    assert (small["old_xp"], small["experience_points"], small["levelled_up"], small["hp_gained"]) == (
        16_000,
        16_001,
        False,
        0,
    )


async def test_levels_past_name_level_add_fixed_hit_points_and_stop_at_the_class_cap(server: LiveServer):
    dm, (player,), session_id = await game_table(server, players=1)
    fighter = await create(player, session_id)
    halfling = await create(player, session_id, **{"class": "halfling", "character_name": "Pip"})
    dwarf = await create(player, session_id, **{"class": "dwarf", "character_name": "Thorin"})
    ids = [fighter["character_id"], halfling["character_id"], dwarf["character_id"]]

    rows = {r["character_id"]: r for r in (await grant(dm, session_id, ids, 1_000_000)).json()["data"]["characters"]}
    f = rows[fighter["character_id"]]
    # Fighter: 240,000 at 9th, +120,000 a level: 960,000 -> 15th. Levels 2-9 roll d8+1 (2..9), 10-15 add 2 each.
    assert f["level"] == 15 and 8 * 2 + 12 <= f["hp_gained"] <= 8 * 9 + 12
    assert rows[halfling["character_id"]]["level"] == 8  # halfling cap
    assert rows[dwarf["character_id"]]["level"] == 12  # dwarf cap: 660,000
    # Levels 2-9 are d8+1, 10-12 add 3 each.
    assert 8 * 2 + 9 <= rows[dwarf["character_id"]]["hp_gained"] <= 8 * 9 + 9

    more = {r["character_id"]: r for r in (await grant(dm, session_id, ids, 1_000_000)).json()["data"]["characters"]}
    assert (more[halfling["character_id"]]["level"], more[halfling["character_id"]]["hp_gained"]) == (8, 0)
    assert more[halfling["character_id"]]["levelled_up"] is False
    assert more[halfling["character_id"]]["experience_points"] == 2_000_000
    # 2,000,000 -> 23rd: (2,000,000 - 240,000) / 120,000 = 14.67 levels past 9th; +2 hp for each of 16..24
    assert more[fighter["character_id"]]["level"] == 23
    assert more[fighter["character_id"]]["hp_gained"] == 2 * (23 - 15)


@pytest.mark.parametrize(("xp", "status"), [(0, 400), (1, 200), (1_000_000, 200), (1_000_001, 400), (-5, 400)])
async def test_grant_xp_amount_edges(server: LiveServer, xp, status):
    dm, (player,), session_id = await game_table(server, players=1)
    character = await create(player, session_id)
    response = await grant(dm, session_id, [character["character_id"]], xp)
    assert response.status_code == status, response.text
    if status == 400:
        assert list(response.json()["errors"]) == ["xp_amount"]


async def test_grant_xp_validates_reason_and_the_list(server: LiveServer):
    dm, (player,), session_id = await game_table(server, players=1)
    cid = (await create(player, session_id))["character_id"]
    assert (await grant(dm, session_id, [cid], 10, "r" * 200)).status_code == 200
    response = await grant(dm, session_id, [cid], 10, "r" * 201)
    assert response.status_code == 400 and list(response.json()["errors"]) == ["reason"]
    for ids in ([], [0], ["abc"], list(range(1, 102))):
        response = await grant(dm, session_id, ids, 10)
        assert response.status_code == 400 and list(response.json()["errors"]) == ["character_ids"], ids
    twice = (await grant(dm, session_id, [cid, cid], 10)).json()["data"]["characters"]
    assert len(twice) == 1 and twice[0]["experience_points"] == 10 + 10


async def test_grant_xp_to_a_character_outside_the_session_changes_nothing(server: LiveServer):
    dm, (player,), session_id = await game_table(server, players=1)
    inside = (await create(player, session_id))["character_id"]
    outside = (await create(player))["character_id"]
    for ids in ([inside, outside], [inside, 999_999]):
        response = await grant(dm, session_id, ids, 5_000)
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["character_ids"] and str(ids[1]) in response.text
    sheet = (await player.get("/api/character/get.php", character_id=inside)).json()["data"]
    assert (sheet["experience_points"], sheet["level"]) == (0, 1)
    assert (await grant(dm, 999_999, [inside], 10)).status_code == 404


# -- hit points -----------------------------------------------------------------------------------------


async def test_fifty_concurrent_damage_calls_from_different_clients_end_at_the_exact_hp(settings):
    # 50 logins: more than the login rate limit allows one address.
    server = await LiveServer(dataclasses.replace(settings, rate_limit_attempts=1000)).start()
    try:
        await _fifty_concurrent_damage_calls(server)
    finally:
        await server.stop()


async def _fifty_concurrent_damage_calls(server: LiveServer) -> None:
    dm, (player,), session_id = await game_table(server, players=1)
    character = await create(player, session_id)
    cid = character["character_id"]
    # 4,000,000 XP: 36th level, at least 2 hp for each of 8 rolled levels and 27 levels at +2 besides.
    for _ in range(4):
        assert (await grant(dm, session_id, [cid], 1_000_000)).status_code == 200
    sheet = (await player.get("/api/character/get.php", character_id=cid)).json()["data"]
    assert sheet["level"] == 36 and sheet["max_hp"] >= 2 + 16 + 54
    start = sheet["current_hp"]

    clients = [Client(server) for _ in range(50)]
    logins = await asyncio.gather(
        *(client.login((player if n % 2 else dm).user["username"]) for n, client in enumerate(clients))
    )
    assert [r.status_code for r in logins] == [200] * 50
    responses = await asyncio.gather(
        *(client.post("/api/character/update-hp.php", {"character_id": cid, "damage": 1}) for client in clients)
    )
    assert [r.status_code for r in responses] == [200] * 50
    # Every call saw a different HP: none was lost to a race.
    assert sorted(r.json()["data"]["current_hp"] for r in responses) == list(range(start - 50, start))
    final = (await player.get("/api/character/get.php", character_id=cid)).json()["data"]
    assert final["current_hp"] == start - 50


async def test_hp_stays_between_zero_and_max(server: LiveServer):
    dm, (player,), session_id = await game_table(server, players=1)
    character = await create(player, session_id)
    cid, max_hp = character["character_id"], character["max_hp"]
    down = await player.ok("/api/character/update-hp.php", {"character_id": cid, "damage": 10_000})
    assert (down["current_hp"], down["is_dead"]) == (0, True)
    up = await dm.ok("/api/character/update-hp.php", {"character_id": cid, "healing": 10_000})
    assert (up["current_hp"], up["max_hp"], up["is_dead"]) == (max_hp, max_hp, False)
    for body in ({"damage": 10_001}, {"healing": -1}, {"damage": 0, "healing": 0}):
        response = await player.post("/api/character/update-hp.php", {"character_id": cid, **body})
        assert response.status_code == 400, body
    assert (
        await player.post("/api/character/update-hp.php", {"character_id": 999_999, "damage": 1})
    ).status_code == 404


# -- access control -------------------------------------------------------------------------------------

# anonymous, player (the owner; for get also the party member), other player, DM, moderator
CHARACTER_ACCESS = {
    "create": (401, 200, 403, 200, 403),
    "get": (401, 200, 403, 200, 403),
    "list": (401, 200, 200, 200, 200),
    "update-hp": (401, 200, 403, 200, 403),
    "grant-xp": (401, 403, 403, 200, 403),
}


@pytest.mark.parametrize("endpoint", list(CHARACTER_ACCESS))
async def test_character_endpoints_by_role(server: LiveServer, endpoint):
    c = await cast(server)
    character = await create(c.player, c.session_id)
    cid = character["character_id"]
    for role, expected in zip(ROLES, CHARACTER_ACCESS[endpoint], strict=True):
        client = c.by_role(role)
        if endpoint == "create":
            response = await client.post("/api/character/create.php", {**FIGHTER, "session_id": c.session_id})
        elif endpoint == "get":
            response = await client.get("/api/character/get.php", character_id=cid)
        elif endpoint == "list":
            response = await client.get("/api/character/list.php")
        elif endpoint == "update-hp":
            response = await client.post("/api/character/update-hp.php", {"character_id": cid, "damage": 1})
        else:
            response = await grant(client, c.session_id, [cid], 100)
        assert response.status_code == expected, (role, response.text)
    # A party member is a player of the session too, but changes only their own characters.
    response = await c.party.post("/api/character/update-hp.php", {"character_id": cid, "damage": 1})
    assert response.status_code == 403
    assert (await c.party.get("/api/character/get.php", character_id=cid)).json()["data"]["view"] == "party"
