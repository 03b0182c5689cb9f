"""The DM removes a monster instance: it leaves the monster list, the initiative tracker and every map,
and players hear only of what they could see."""

from __future__ import annotations

import json

from tests.live import FIGHTER, LiveServer, game_table, map_image, spawn, upload_map

CANARY = "canary-removal-4b7e"
DELETE = "/api/monsters/delete-instance.php"


async def test_removing_a_monster_takes_its_tokens_and_its_turn_and_players_see_only_their_part(server: LiveServer):
    dm, (player,), session_id = await game_table(server, players=1)
    character = await player.ok("/api/character/create.php", {**FIGHTER, "session_id": session_id})
    goblin, other = (await spawn(dm, session_id, count=2))["instances"]
    map_id = (await upload_map(dm, session_id, map_image(400, 300))).json()["data"]["map_id"]
    add = "/api/session/maps/tokens/add.php"
    seen = await dm.ok(
        add, {"map_id": map_id, "monster_instance_id": goblin["instance_id"], "x_position": 25, "y_position": 25}
    )
    unseen = await dm.ok(
        add,
        {
            "map_id": map_id,
            "monster_instance_id": goblin["instance_id"],
            "x_position": 30,
            "y_position": 30,
            "label": CANARY,
            "hidden": True,
        },
    )
    kept = await dm.ok(
        add, {"map_id": map_id, "monster_instance_id": other["instance_id"], "x_position": 75, "y_position": 25}
    )
    await dm.ok("/api/session/maps/fog/reveal.php", {"map_id": map_id, "cells": [[0, 0], [1, 0]]})
    await dm.ok("/api/combat/add-character.php", {"session_id": session_id, "character_id": character["character_id"]})
    entry = await dm.ok(
        "/api/combat/add-monster.php", {"session_id": session_id, "monster_instance_id": goblin["instance_id"]}
    )
    await dm.ok("/api/combat/roll-initiative.php", {"session_id": session_id, "mode": "group"})
    await dm.ok("/api/combat/next-turn.php", {"session_id": session_id})
    head = await server.services.event_log.head(session_id)
    dm_socket = await dm.socket(session_id, last_event_id=head)
    player_socket = await player.socket(session_id, last_event_id=head)

    refused = await player.post(DELETE, {"instance_id": goblin["instance_id"]})
    assert refused.status_code == 403 and refused.json()["error"] == "insufficient_permissions"
    assert await server.services.event_log.head(session_id) == head

    removed = await dm.ok(DELETE, {"instance_id": goblin["instance_id"]})
    assert removed == {
        "instance_id": goblin["instance_id"],
        "instance_name": "Goblin #1",
        "session_id": session_id,
        "token_ids": [seen["token_id"], unseen["token_id"]],
        "initiative_id": entry["initiative_id"],
        "deleted": True,
    }
    dm_events = [await dm_socket.event() for _ in range(4)]
    assert [e["event_type"] for e in dm_events] == [
        "map_token_removed",
        "map_token_removed",
        "initiative_updated",
        "monster_removed",
    ]
    player_events = [await player_socket.event() for _ in range(3)]
    assert [e["event_type"] for e in player_events] == ["map_token_removed", "initiative_updated", "monster_removed"]
    assert player_events[0]["event_data"] == {"token_id": seen["token_id"], "map_id": map_id}
    assert player_events[2]["event_data"] == {"instance_id": goblin["instance_id"], "instance_name": "Goblin #1"}
    tracker = player_events[1]["event_data"]
    assert [e["character_id"] for e in tracker["initiatives"]] == [character["character_id"]]
    assert tracker["initiatives"][0]["is_current_turn"] is True  # the turn passed on, not lost
    frames = json.dumps(player_socket.frames)
    assert CANARY not in frames and f'"token_id": {unseen["token_id"]}' not in frames

    instances = (await dm.get("/api/monsters/list-instances.php", session_id=session_id)).json()["data"]["instances"]
    assert [i["instance_id"] for i in instances] == [other["instance_id"]]
    tokens = (await dm.get("/api/session/maps/tokens/list.php", map_id=map_id)).json()["data"]["tokens"]
    assert [t["token_id"] for t in tokens] == [kept["token_id"]]
    snap = (await player.get("/api/session/snapshot.php", session_id=session_id)).json()["data"]
    assert [m["instance_id"] for m in snap["monster_instances"]] == [other["instance_id"]]

    again = await dm.post(DELETE, {"instance_id": goblin["instance_id"]})
    assert again.status_code == 404 and again.json()["error"] == "resource_not_found"
    bad = await dm.post(DELETE, {"instance_id": "x"})
    assert bad.status_code == 400 and "instance_id" in bad.json()["errors"]


async def test_a_monster_on_no_map_and_in_no_tracker_is_simply_removed(server: LiveServer):
    dm, (player,), session_id = await game_table(server, players=1)
    (goblin,) = (await spawn(dm, session_id))["instances"]
    removed = await dm.ok(DELETE, {"instance_id": goblin["instance_id"]})
    assert removed["token_ids"] == [] and removed["initiative_id"] is None
    listed = (await player.get("/api/monsters/list-instances.php", session_id=session_id)).json()["data"]
    assert listed["instances"] == []
