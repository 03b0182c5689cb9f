"""The snapshot a joining member gets: everything they may see, nothing they may not, and the head."""

from __future__ import annotations

import dataclasses
import json

import pytest

from tests.live import FIGHTER, Client, LiveServer, game_table, map_image, upload_map

CANARY = "canary-snapshot-5e1d"


async def test_a_snapshot_holds_what_the_member_may_see_with_the_head(server: LiveServer):
    dm, (player, other), session_id = await game_table(server, players=2)
    mine = await player.ok("/api/character/create.php", {**FIGHTER, "session_id": session_id})
    theirs = await other.ok(
        "/api/character/create.php", {**FIGHTER, "character_name": "Bera", "session_id": session_id}
    )
    goblins = (await dm.get("/api/monsters/list.php", search="Goblin")).json()["data"]["monsters"]
    await dm.ok("/api/monsters/create-instance.php", {"session_id": session_id, "monster_id": goblins[0]["monster_id"]})
    await dm.ok("/api/combat/add-character.php", {"session_id": session_id, "character_id": mine["character_id"]})
    map_id = (await upload_map(dm, session_id, map_image(400, 300))).json()["data"]["map_id"]
    add = "/api/session/maps/tokens/add.php"
    await dm.ok(add, {"map_id": map_id, "character_id": mine["character_id"], "x_position": 20, "y_position": 20})
    await dm.ok(add, {"map_id": map_id, "label": CANARY, "x_position": 30, "y_position": 30, "hidden": True})
    await dm.ok("/api/session/maps/fog/reveal.php", {"map_id": map_id, "cells": [[0, 0]]})

    answer = await player.get("/api/session/snapshot.php", session_id=session_id)
    assert answer.status_code == 200, answer.text
    snap = answer.json()["data"]
    assert snap["head_event_id"] == await server.services.event_log.head(session_id)
    party = {c["character_id"]: c for c in snap["characters"]}
    assert "strength" in party[mine["character_id"]] and "strength" not in party[theirs["character_id"]]
    assert party[theirs["character_id"]]["current_hp"] == theirs["current_hp"]
    assert [set(m) for m in snap["monster_instances"]] == [
        {"instance_id", "instance_name", "monster_name", "condition"}
    ]
    assert [e["character_id"] for e in snap["initiative"]["initiatives"]] == [mine["character_id"]]
    assert snap["audio"]["status"] == "stopped" and snap["role"] == "player"
    assert snap["players"] == [
        {"user_id": p.user_id, "username": p.user["username"], "status": "accepted"}
        for p in sorted((player, other), key=lambda p: p.user_id)
    ]
    assert [t["label"] for t in snap["map"]["tokens"]] == ["Aldric"] and snap["map"]["revealed_runs"] == [[0, 0, 0]]
    assert CANARY not in json.dumps(snap)

    dm_snap = (await dm.get("/api/session/snapshot.php", session_id=session_id)).json()["data"]
    assert CANARY in json.dumps(dm_snap) and "current_hp" in dm_snap["monster_instances"][0]
    assert all("strength" in c for c in dm_snap["characters"])
    outsider = (await game_table(server, players=0))[0]
    assert (await outsider.get("/api/session/snapshot.php", session_id=session_id)).status_code == 403


async def test_the_dm_sees_open_invitations_and_players_do_not(server: LiveServer):
    dm, (player,), session_id = await game_table(server, players=1)
    invitee = await Client(server).register()
    withdrawn = await Client(server).register()
    for guest in (invitee, withdrawn):
        await dm.ok("/api/session/invite-player.php", {"session_id": session_id, "username": guest.user["username"]})
    await dm.ok("/api/session/remove-player.php", {"session_id": session_id, "user_id": withdrawn.user_id})

    dm_snap = (await dm.get("/api/session/snapshot.php", session_id=session_id)).json()["data"]
    assert sorted(dm_snap["players"], key=lambda p: p["user_id"]) == sorted(
        [
            {"user_id": player.user_id, "username": player.user["username"], "status": "accepted"},
            {"user_id": invitee.user_id, "username": invitee.user["username"], "status": "invited"},
        ],
        key=lambda p: p["user_id"],
    )
    answer = await player.get("/api/session/snapshot.php", session_id=session_id)
    assert [p["user_id"] for p in answer.json()["data"]["players"]] == [player.user_id]
    assert invitee.user["username"] not in answer.text and withdrawn.user["username"] not in answer.text


# Runs along rows with gaps, single cells, the grid's -1 column and row and its last ones (a 400 x 300
# map of 50 px squares: columns and rows -1..8 and -1..6).
FOG = [(col, -1) for col in range(-1, 9)] + [(0, 2), (1, 2), (2, 2), (5, 2), (7, 2), (8, 2), (3, 6), (-1, 4)]


async def fog_in_runs(server: LiveServer) -> None:
    dm, (player,), session_id = await game_table(server, players=1)
    map_id = (await upload_map(dm, session_id, map_image(400, 300))).json()["data"]["map_id"]
    add = "/api/session/maps/tokens/add.php"
    for x, y in ((25, 25), (125, 125), (275, 125), (175, 125), (375, 125), (5, 5)):
        await dm.ok(add, {"map_id": map_id, "x_position": x, "y_position": y})
    await dm.ok("/api/session/maps/fog/reveal.php", {"map_id": map_id, "cells": [list(cell) for cell in FOG]})

    snap = (await player.get("/api/session/snapshot.php", session_id=session_id)).json()["data"]["map"]
    scene = (await player.get("/api/session/maps/get.php", map_id=map_id)).json()["data"]
    assert "revealed_cells" not in snap and "revealed_runs" not in scene
    assert snap["revealed_runs"] == [[-1, -1, 8], [2, 0, 2], [2, 5, 5], [2, 7, 8], [4, -1, -1], [6, 3, 3]]
    cells = {(col, row) for row, first, last in snap["revealed_runs"] for col in range(first, last + 1)}
    assert cells == set(FOG) == {tuple(cell) for cell in scene["revealed_cells"]}
    # The same tokens are shown whichever way the fog was read: in cells (2, 2), (5, 2), (7, 2), not in
    # (3, 2) (a gap) or (0, 0).
    assert snap["tokens"] == scene["tokens"]
    assert sorted((t["x_position"], t["y_position"]) for t in snap["tokens"]) == [(125, 125), (275, 125), (375, 125)]


async def test_the_snapshot_sends_the_fog_in_runs_along_rows(server: LiveServer):
    await fog_in_runs(server)


@pytest.mark.postgres
async def test_the_fog_in_runs_on_postgresql(settings, postgres_url):
    server = await LiveServer(dataclasses.replace(settings, database_url=postgres_url)).start()
    try:
        await fog_in_runs(server)
    finally:
        await server.stop()
