"""Tokens on a battle map over real HTTP: who places and moves what, and what players are shown."""

from __future__ import annotations

from typing import Any

from tests.live import FIGHTER, Client, LiveServer, game_table, map_image, upload_map

ALL_CELLS = [[col, row] for col in range(-1, 9) for row in range(-1, 7)]  # a 400 x 300 map, 50 px squares


async def spawn_goblin(dm: Client, session_id: int) -> dict[str, Any]:
    monsters = (await dm.get("/api/monsters/list.php", search="Goblin")).json()["data"]["monsters"]
    body = {"session_id": session_id, "monster_id": monsters[0]["monster_id"], "custom_hp": 5}
    return (await dm.ok("/api/monsters/create-instance.php", body))["instances"][0]


async def battle(server: LiveServer) -> tuple[Client, list[Client], int, dict[str, Any], list[dict[str, Any]]]:
    """A DM, two players with a character each, an active 400x300 map and their two tokens."""
    dm, players, session_id = await game_table(server, players=2)
    cellar = (await upload_map(dm, session_id, map_image(400, 300))).json()["data"]
    tokens = []
    for number, player in enumerate(players):
        character = await player.ok("/api/character/create.php", {**FIGHTER, "session_id": session_id})
        body = {"map_id": cellar["map_id"], "character_id": character["character_id"], "x_position": 25 + 50 * number}
        tokens.append(await dm.ok("/api/session/maps/tokens/add.php", {**body, "y_position": 25}))
    return dm, players, session_id, cellar, tokens


async def tokens_seen(client: Client, map_id: int) -> dict[int, dict[str, Any]]:
    answer = await client.get("/api/session/maps/tokens/list.php", map_id=map_id)
    assert answer.status_code == 200, answer.text
    return {token["token_id"]: token for token in answer.json()["data"]["tokens"]}


async def test_players_see_tokens_only_in_revealed_cells_and_monsters_redacted(server: LiveServer):
    dm, (player, _), session_id, cellar, tokens = await battle(server)
    goblin = await spawn_goblin(dm, session_id)
    monster_token = await dm.ok(
        "/api/session/maps/tokens/add.php",
        {
            "map_id": cellar["map_id"],
            "monster_instance_id": goblin["instance_id"],
            "x_position": 375,
            "y_position": 275,
        },
    )
    assert monster_token["label"] == goblin["instance_name"] and monster_token["monster"]["current_hp"] == 5
    assert tokens[0]["label"] == "Aldric" and tokens[0]["color"] == "#FF0000"
    assert await tokens_seen(player, cellar["map_id"]) == {}  # all under fog
    assert len(await tokens_seen(dm, cellar["map_id"])) == 3

    await dm.ok("/api/session/maps/fog/reveal.php", {"map_id": cellar["map_id"], "cells": ALL_CELLS})
    seen = await tokens_seen(player, cellar["map_id"])
    assert set(seen) == {tokens[0]["token_id"], tokens[1]["token_id"], monster_token["token_id"]}
    monster = seen[monster_token["token_id"]]["monster"]
    assert monster == {
        "instance_id": goblin["instance_id"],
        "instance_name": goblin["instance_name"],
        "monster_name": "Goblin",
        "condition": "unhurt",
    }
    assert "hidden" not in seen[tokens[0]["token_id"]]

    await dm.send("PUT", "/api/session/maps/tokens/update.php", {"token_id": monster_token["token_id"], "hidden": True})
    assert monster_token["token_id"] not in await tokens_seen(player, cellar["map_id"])
    scene = (await player.get("/api/session/maps/get.php", map_id=cellar["map_id"])).json()["data"]
    assert {t["token_id"] for t in scene["tokens"]} == {tokens[0]["token_id"], tokens[1]["token_id"]}
    assert len(scene["revealed_cells"]) == len(ALL_CELLS) and scene["head_event_id"] > 0


async def test_a_player_moves_only_their_own_token(server: LiveServer):
    dm, (player, other), session_id, cellar, tokens = await battle(server)
    goblin = await spawn_goblin(dm, session_id)
    monster_token = await dm.ok(
        "/api/session/maps/tokens/add.php",
        {"map_id": cellar["map_id"], "monster_instance_id": goblin["instance_id"], "x_position": 5, "y_position": 5},
    )
    await dm.ok("/api/session/maps/fog/reveal.php", {"map_id": cellar["map_id"], "cells": ALL_CELLS})
    move = "/api/session/maps/tokens/move.php"
    own = await player.send("PUT", move, {"token_id": tokens[0]["token_id"], "x_position": 120, "y_position": 80})
    assert own.status_code == 200 and (own.json()["data"]["x_position"], own.json()["data"]["y_position"]) == (120, 80)

    head = await server.services.event_log.head(session_id)
    refused = [
        await player.send("PUT", move, {"token_id": tokens[1]["token_id"], "x_position": 1, "y_position": 1}),
        await player.send("PATCH", move, {"token_id": monster_token["token_id"], "x_position": 1, "y_position": 1}),
        await player.send("DELETE", f"/api/session/maps/tokens/delete.php?token_id={tokens[0]['token_id']}"),
        await player.post(
            "/api/session/maps/tokens/add.php", {"map_id": cellar["map_id"], "x_position": 1, "y_position": 1}
        ),
    ]
    assert [r.status_code for r in refused] == [403, 403, 403, 403]
    assert await server.services.event_log.head(session_id) == head  # nothing written, no event
    seen = await tokens_seen(dm, cellar["map_id"])
    assert (seen[tokens[1]["token_id"]]["x_position"], seen[monster_token["token_id"]]["x_position"]) == (75, 5)

    bad = [
        await dm.send("PUT", move, {"token_id": tokens[1]["token_id"], "x_position": 401, "y_position": 1}),
        await dm.send("PUT", move, {"token_id": tokens[1]["token_id"], "x_position": -1, "y_position": 1}),
        await dm.send("PUT", move, {"token_id": 999_999, "x_position": 1, "y_position": 1}),
        await dm.post(
            "/api/session/maps/tokens/add.php",
            {"map_id": cellar["map_id"], "x_position": 1, "y_position": 1, "color": "red"},
        ),
        await dm.post(
            "/api/session/maps/tokens/add.php",
            {"map_id": cellar["map_id"], "x_position": 1, "y_position": 1, "character_id": tokens[0]["character_id"]},
        ),
    ]
    assert [r.status_code for r in bad] == [400, 400, 404, 400, 409]
    assert (
        await dm.send("PUT", move, {"token_id": tokens[1]["token_id"], "x_position": 300, "y_position": 200})
    ).status_code == 200
    removed = await dm.send("DELETE", "/api/session/maps/tokens/delete.php", {"token_id": tokens[1]["token_id"]})
    assert removed.status_code == 200 and tokens[1]["token_id"] not in await tokens_seen(other, cellar["map_id"])
