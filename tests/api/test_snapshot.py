"""The snapshot a joining member gets: everything they may see, nothing they may not, and the head."""

from __future__ import annotations

import json

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
    assert [t["label"] for t in snap["map"]["tokens"]] == ["Aldric"] and snap["map"]["revealed_cells"] == [[0, 0]]
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
