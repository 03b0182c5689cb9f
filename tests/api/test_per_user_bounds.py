"""One user cannot grow the database without bound through the legacy API: characters per player, game
sessions per DM and monsters per game session are capped; the request past a cap is a 409 that writes
nothing (no row, no event)."""

from __future__ import annotations

from server.characters import MAX_CHARACTERS_PER_USER
from server.game_sessions import MAX_SESSIONS_PER_DM
from server.monster_instances import MAX_COUNT, MAX_INSTANCES_PER_SESSION
from tests.live import FIGHTER, Client, LiveServer, game_table, monster

POLL = "/api/realtime/poll.php"
SESSION = {"session_title": "Against the Giants", "session_datetime": "2099-01-01 19:00:00"}


async def copies(server: LiveServer, table: str, key: str, row_id: int, times: int) -> None:
    """`times` copies of one row the API made, so a test reaches a cap without thousands of requests."""
    db = server.services.db
    columns = [
        name for name in (await db.fetch_one(f"SELECT * FROM {table} WHERE {key} = :id", {"id": row_id})) if name != key
    ]
    listed = ", ".join(columns)
    async with db.transaction() as tx:
        for _ in range(times):
            await tx.execute(
                f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {table} WHERE {key} = :id", {"id": row_id}
            )


async def count(server: LiveServer, sql: str, **params: int) -> int:
    return int(await server.services.db.fetch_val(sql, params))


async def events(client: Client, session_id: int) -> list:
    return (await client.get(POLL, session_id=session_id, last_event_id=0, timeout=0)).json()["data"]["events"]


async def test_a_player_has_at_most_the_cap_of_characters(server: LiveServer):
    player = await Client(server).register()
    first = await player.ok("/api/character/create.php", FIGHTER)
    await copies(server, "characters", "character_id", first["character_id"], MAX_CHARACTERS_PER_USER - 2)
    await player.ok("/api/character/create.php", FIGHTER)  # the last one the cap allows

    response = await player.post("/api/character/create.php", FIGHTER)
    assert response.status_code == 409, response.text
    assert response.json()["error"] == "conflict" and str(MAX_CHARACTERS_PER_USER) in response.json()["message"]
    assert await count(server, "SELECT count(*) FROM characters WHERE user_id = :u", u=player.user_id) == (
        MAX_CHARACTERS_PER_USER
    )
    # The cap is per player: another one creates theirs.
    await (await Client(server).register()).ok("/api/character/create.php", FIGHTER)


async def test_a_dm_runs_at_most_the_cap_of_game_sessions(server: LiveServer):
    dm = await Client(server).register()
    first = await dm.ok("/api/session/create.php", SESSION)
    await copies(server, "game_sessions", "session_id", first["session_id"], MAX_SESSIONS_PER_DM - 2)
    await dm.ok("/api/session/create.php", SESSION)

    response = await dm.post("/api/session/create.php", SESSION)
    assert response.status_code == 409, response.text
    assert str(MAX_SESSIONS_PER_DM) in response.json()["message"]
    assert await count(server, "SELECT count(*) FROM game_sessions WHERE dm_user_id = :u", u=dm.user_id) == (
        MAX_SESSIONS_PER_DM
    )


async def test_a_game_session_holds_at_most_the_cap_of_monsters(server: LiveServer):
    dm, (player,), session_id = await game_table(server, players=1)
    goblin = (await monster(dm, "Goblin"))["monster_id"]
    for _ in range(MAX_INSTANCES_PER_SESSION // MAX_COUNT - 1):
        await dm.ok(
            "/api/monsters/create-instance.php", {"monster_id": goblin, "session_id": session_id, "count": MAX_COUNT}
        )
    await dm.ok(
        "/api/monsters/create-instance.php", {"monster_id": goblin, "session_id": session_id, "count": MAX_COUNT - 1}
    )
    before = await events(player, session_id)

    too_many = {"monster_id": goblin, "session_id": session_id, "count": 2}
    response = await dm.post("/api/monsters/create-instance.php", too_many)
    assert response.status_code == 409, response.text
    assert str(MAX_INSTANCES_PER_SESSION) in response.json()["message"]
    assert await events(player, session_id) == before  # no event for the refused spawn

    await dm.ok("/api/monsters/create-instance.php", {**too_many, "count": 1})  # the last place
    assert await count(server, "SELECT count(*) FROM monster_instances WHERE session_id = :s", s=session_id) == (
        MAX_INSTANCES_PER_SESSION
    )
