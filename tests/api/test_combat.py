"""The initiative tracker and the DM dashboard over real HTTP and WebSockets, and one whole fight."""

from __future__ import annotations

import dataclasses
import itertools
import json

import pytest

from tests.live import FIGHTER, Client, LiveServer, Socket, game_table, spawn

ENTRY_KEYS = {
    "initiative_id",
    "entity_type",
    "entity_name",
    "character_id",
    "monster_instance_id",
    "initiative_roll",
    "is_current_turn",
}
# What a player's copy of any event must never carry about monsters.
SECRET_KEYS = {"current_hp", "max_hp", "old_hp", "notes", "treasure", "equipment", "spells", "armor_class"}


def order_is_valid(tracker: dict) -> None:
    entries = tracker["initiatives"]
    assert all(set(entry) == ENTRY_KEYS for entry in entries)
    rolls = [entry["initiative_roll"] for entry in entries]
    assert rolls == sorted(rolls, reverse=True)
    # On equal rolls the party acts first.
    for before, after in itertools.pairwise(entries):
        if before["initiative_roll"] == after["initiative_roll"]:
            assert (before["entity_type"], after["entity_type"]) != ("monster", "character")
    assert sum(entry["is_current_turn"] for entry in entries) <= 1


def current(tracker: dict) -> int | None:
    return next((e["initiative_id"] for e in tracker["initiatives"] if e["is_current_turn"]), None)


async def table_with_party(server: LiveServer, goblins: int = 2):
    dm, players, session_id = await game_table(server, players=2)
    heroes = [await player.ok("/api/character/create.php", {**FIGHTER, "session_id": session_id}) for player in players]
    monsters = (await spawn(dm, session_id, count=goblins))["instances"] if goblins else []
    return dm, players, session_id, heroes, monsters


async def fill_tracker(dm: Client, session_id: int, heroes: list, monsters: list) -> dict:
    tracker: dict = {}
    for hero in heroes:
        tracker = await dm.ok(
            "/api/combat/add-character.php", {"session_id": session_id, "character_id": hero["character_id"]}
        )
    for instance in monsters:
        tracker = await dm.ok(
            "/api/combat/add-monster.php", {"session_id": session_id, "monster_instance_id": instance["instance_id"]}
        )
    return tracker


async def test_individual_rolls_are_1d6_plus_dex_and_ordered(server: LiveServer):
    dm, (player, _), session_id, heroes, goblins = await table_with_party(server, goblins=3)
    added = await fill_tracker(dm, session_id, heroes, goblins)
    assert [e["initiative_roll"] for e in added["initiatives"]] == [None] * 5 and added["round_number"] == 0
    await dm.ok("/api/monsters/update-instance.php", {"instance_id": goblins[0]["instance_id"], "dexterity": 18})
    seen_goblin_rolls = set()
    for _ in range(30):
        tracker = await dm.ok("/api/combat/roll-initiative.php", {"session_id": session_id, "mode": "individual"})
        order_is_valid(tracker)
        assert len(tracker["initiatives"]) == 5 and current(tracker) is None and tracker["round_number"] == 0
        for entry in tracker["initiatives"]:
            if entry["monster_instance_id"] == goblins[0]["instance_id"]:
                assert 3 <= entry["initiative_roll"] <= 8  # 1d6 + 2 for DEX 18
                seen_goblin_rolls.add(entry["initiative_roll"])
            else:
                assert 1 <= entry["initiative_roll"] <= 6  # DEX 12 and no DEX: +0
    assert len(seen_goblin_rolls) > 1
    # Members read the same object; the DM's write answer equals it.
    read = await player.get("/api/combat/get-initiative.php", session_id=session_id)
    assert read.status_code == 200 and read.json()["data"] == tracker


async def test_group_rolls_give_each_side_one_different_number(server: LiveServer):
    dm, _, session_id, heroes, goblins = await table_with_party(server, goblins=3)
    await fill_tracker(dm, session_id, heroes, goblins)
    for _ in range(20):
        tracker = await dm.ok("/api/combat/roll-initiative.php", {"session_id": session_id, "mode": "group"})
        order_is_valid(tracker)
        party = {e["initiative_roll"] for e in tracker["initiatives"] if e["entity_type"] == "character"}
        monsters = {e["initiative_roll"] for e in tracker["initiatives"] if e["entity_type"] == "monster"}
        assert len(party) == len(monsters) == 1 and party != monsters
        assert all(1 <= roll <= 6 for roll in party | monsters)
        sides = [e["entity_type"] for e in tracker["initiatives"]]
        assert sides in (["character"] * 2 + ["monster"] * 3, ["monster"] * 3 + ["character"] * 2)


async def test_turns_advance_wrap_and_count_rounds(server: LiveServer):
    dm, _, session_id, heroes, goblins = await table_with_party(server, goblins=1)
    await fill_tracker(dm, session_id, heroes, goblins)
    rolled = await dm.ok("/api/combat/roll-initiative.php", {"session_id": session_id})
    order = [e["initiative_id"] for e in rolled["initiatives"]]
    expected = [(order[0], 1), (order[1], 1), (order[2], 1), (order[0], 2), (order[1], 2)]
    for initiative_id, round_number in expected:
        tracker = await dm.ok("/api/combat/next-turn.php", {"session_id": session_id})
        assert (current(tracker), tracker["round_number"]) == (initiative_id, round_number)
    # A re-roll during a round starts it over in the new order; the round number stays.
    tracker = await dm.ok("/api/combat/roll-initiative.php", {"session_id": session_id})
    assert tracker["round_number"] == 2 and current(tracker) == tracker["initiatives"][0]["initiative_id"]
    # A late joiner rolls on arrival and slots into the order.
    (late,) = (await spawn(dm, session_id))["instances"]
    tracker = await dm.ok(
        "/api/combat/add-monster.php", {"session_id": session_id, "monster_instance_id": late["instance_id"]}
    )
    joined = next(e for e in tracker["initiatives"] if e["monster_instance_id"] == late["instance_id"])
    assert 1 <= joined["initiative_roll"] <= 6
    order_is_valid(tracker)
    cleared = await dm.ok("/api/combat/clear-initiative.php", {"session_id": session_id})
    assert cleared == {"initiatives": [], "round_number": 0}
    response = await dm.post("/api/combat/next-turn.php", {"session_id": session_id})
    assert response.status_code == 400
    assert (await dm.post("/api/combat/roll-initiative.php", {"session_id": session_id})).status_code == 400


async def test_next_turn_before_any_roll_starts_round_one(server: LiveServer):
    dm, _, session_id, heroes, _ = await table_with_party(server, goblins=0)
    added = await fill_tracker(dm, session_id, heroes, [])
    tracker = await dm.ok("/api/combat/next-turn.php", {"session_id": session_id})
    assert tracker["round_number"] == 1 and current(tracker) == added["initiatives"][0]["initiative_id"]


async def test_removing_the_current_combatant_passes_the_turn(server: LiveServer):
    dm, _, session_id, heroes, goblins = await table_with_party(server, goblins=2)
    await fill_tracker(dm, session_id, heroes, goblins)
    tracker = await dm.ok("/api/combat/roll-initiative.php", {"session_id": session_id})
    order = [(e["initiative_id"], e["entity_type"]) for e in tracker["initiatives"]]
    await dm.ok("/api/combat/next-turn.php", {"session_id": session_id})
    tracker = await dm.ok("/api/combat/next-turn.php", {"session_id": session_id})
    assert current(tracker) == order[1][0]
    path = {"character": "/api/combat/remove-character.php", "monster": "/api/combat/remove-monster.php"}
    # Removing the current one: the next in order takes the turn, same round.
    answer = await dm.ok(path[order[1][1]], {"session_id": session_id, "initiative_id": order[1][0]})
    assert answer["initiative_id"] == order[1][0]
    assert current(answer) == order[2][0] and answer["round_number"] == 1
    # Removing someone else leaves the turn where it is.
    answer = await dm.ok(path[order[0][1]], {"session_id": session_id, "initiative_id": order[0][0]})
    assert current(answer) == order[2][0] and answer["round_number"] == 1
    # Removing the last in order while it has the turn: back to the top, next round.
    answer = await dm.ok("/api/combat/next-turn.php", {"session_id": session_id})
    assert current(answer) == order[3][0]
    answer = await dm.ok(path[order[3][1]], {"session_id": session_id, "initiative_id": order[3][0]})
    assert current(answer) == order[2][0] and answer["round_number"] == 2
    # The last one out ends the combat.
    answer = await dm.ok(path[order[2][1]], {"session_id": session_id, "initiative_id": order[2][0]})
    assert answer == {"initiative_id": order[2][0], "initiatives": [], "round_number": 0}


async def test_tracker_rejects_bad_combatants(server: LiveServer):
    dm, _, session_id, heroes, goblins = await table_with_party(server, goblins=2)
    other_dm, (other_player, _), other_session = await game_table(server)
    outsider = await other_player.ok("/api/character/create.php", {**FIGHTER, "session_id": other_session})
    (foreign_goblin,) = (await spawn(other_dm, other_session))["instances"]
    await fill_tracker(dm, session_id, heroes[:1], goblins[:1])
    cases = [
        ("/api/combat/add-character.php", {"character_id": heroes[0]["character_id"]}, 400),  # twice
        ("/api/combat/add-monster.php", {"monster_instance_id": goblins[0]["instance_id"]}, 400),  # twice
        ("/api/combat/add-character.php", {"character_id": outsider["character_id"]}, 400),
        ("/api/combat/add-monster.php", {"monster_instance_id": foreign_goblin["instance_id"]}, 400),
        ("/api/combat/add-character.php", {"character_id": 999_999}, 404),
        ("/api/combat/add-monster.php", {"monster_instance_id": 999_999}, 404),
        ("/api/combat/add-character.php", {"character_id": 0}, 400),
        ("/api/combat/roll-initiative.php", {"mode": "everyone"}, 400),
    ]
    for path, body, status in cases:
        response = await dm.post(path, {"session_id": session_id, **body})
        assert response.status_code == status, (path, body, response.text)
    await dm.ok("/api/monsters/update-hp.php", {"instance_id": goblins[1]["instance_id"], "damage": 100})
    dead = {"session_id": session_id, "monster_instance_id": goblins[1]["instance_id"]}
    assert (await dm.post("/api/combat/add-monster.php", dead)).status_code == 400
    tracker = (await dm.get("/api/combat/get-initiative.php", session_id=session_id)).json()["data"]
    character_entry, monster_entry = (
        next(e["initiative_id"] for e in tracker["initiatives"] if e["entity_type"] == kind)
        for kind in ("character", "monster")
    )
    wrong_kind = await dm.post(
        "/api/combat/remove-monster.php", {"session_id": session_id, "initiative_id": character_entry}
    )
    assert wrong_kind.status_code == 400
    wrong_kind = await dm.post(
        "/api/combat/remove-character.php", {"session_id": session_id, "initiative_id": monster_entry}
    )
    assert wrong_kind.status_code == 400
    unknown = await dm.post("/api/combat/remove-monster.php", {"session_id": session_id, "initiative_id": 999_999})
    assert unknown.status_code == 404
    # An entry of another session is unknown here, even to that session's DM.
    elsewhere = await other_dm.post(
        "/api/combat/remove-monster.php", {"session_id": other_session, "initiative_id": monster_entry}
    )
    assert elsewhere.status_code == 404


async def test_tracker_access(server: LiveServer):
    dm, (player, _), session_id, heroes, goblins = await table_with_party(server, goblins=1)
    tracker = await fill_tracker(dm, session_id, heroes, goblins)
    entry = tracker["initiatives"][-1]["initiative_id"]
    stranger = await Client(server).register()
    anonymous = Client(server)
    mutations = [
        ("/api/combat/add-character.php", {"character_id": heroes[0]["character_id"]}),
        ("/api/combat/add-monster.php", {"monster_instance_id": goblins[0]["instance_id"]}),
        ("/api/combat/roll-initiative.php", {}),
        ("/api/combat/next-turn.php", {}),
        ("/api/combat/remove-character.php", {"initiative_id": entry}),
        ("/api/combat/remove-monster.php", {"initiative_id": entry}),
        ("/api/combat/clear-initiative.php", {}),
    ]
    for path, body in mutations:
        body = {"session_id": session_id, **body}
        assert (await anonymous.post(path, body)).status_code == 401, path
        assert (await player.post(path, body)).status_code == 403, path
        assert (await stranger.post(path, body)).status_code == 403, path
        assert (await dm.post(path, {**body, "session_id": 999_999})).status_code == 404, path
    assert (await anonymous.get("/api/combat/get-initiative.php", session_id=session_id)).status_code == 401
    assert (await stranger.get("/api/combat/get-initiative.php", session_id=session_id)).status_code == 403
    assert (await player.get("/api/combat/get-initiative.php", session_id=session_id)).status_code == 200
    assert (await dm.get("/api/combat/get-initiative.php", session_id=999_999)).status_code == 404
    # Nothing changed.
    still = (await dm.get("/api/combat/get-initiative.php", session_id=session_id)).json()["data"]
    assert still == {"initiatives": tracker["initiatives"], "round_number": 0}


async def test_dm_dashboard(server: LiveServer):
    dm, (player, _), session_id, heroes, goblins = await table_with_party(server, goblins=2)
    await dm.ok("/api/monsters/update-instance.php", {"instance_id": goblins[0]["instance_id"], "notes": "leader"})
    tracker = await fill_tracker(dm, session_id, heroes[:1], goblins[:1])
    response = await dm.get("/api/session/get-dm-dashboard.php", session_id=session_id)
    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data) == {"session", "characters", "monster_instances", "initiative"}
    assert data["session"]["session_id"] == session_id and data["session"]["round_number"] == 0
    assert data["session"]["dm_user_id"] == dm.user_id
    assert [c["character_id"] for c in data["characters"]] == [h["character_id"] for h in heroes]
    assert all(c["strength"] == FIGHTER["strength"] and "max_hp" in c for c in data["characters"])
    assert [m["instance_name"] for m in data["monster_instances"]] == ["Goblin #1", "Goblin #2"]
    assert data["monster_instances"][0]["notes"] == "leader" and "current_hp" in data["monster_instances"][0]
    assert data["initiative"] == tracker["initiatives"]
    assert (await player.get("/api/session/get-dm-dashboard.php", session_id=session_id)).status_code == 403
    stranger = await Client(server).register()
    assert (await stranger.get("/api/session/get-dm-dashboard.php", session_id=session_id)).status_code == 403
    assert (await Client(server).get("/api/session/get-dm-dashboard.php", session_id=session_id)).status_code == 401
    assert (await dm.get("/api/session/get-dm-dashboard.php", session_id=999_999)).status_code == 404
    assert (await dm.get("/api/session/get-dm-dashboard.php")).status_code == 400


# --- the fight ------------------------------------------------------------------------------------


def assert_no_monster_secrets(frames: list[dict]) -> None:
    """A player's raw frames: no monster HP numbers, notes, treasure, equipment or spells."""
    for frame in frames:
        if frame.get("type") != "event":
            continue
        raw = json.dumps(frame)
        assert "NOTE-" not in raw and "TREASURE-" not in raw and "EQUIP-" not in raw and "SPELL-" not in raw, raw

        def walk(value, monster_event: bool) -> None:
            if isinstance(value, dict):
                if monster_event:
                    assert not SECRET_KEYS & set(value), value
                    # The only numbers a player learns of a monster are identifiers and counts.
                    numbers = {k for k, v in value.items() if isinstance(v, int | float) and not isinstance(v, bool)}
                    assert numbers <= {
                        "instance_id",
                        "count",
                        "initiative_id",
                        "monster_instance_id",
                        "initiative_roll",
                        "character_id",
                        "round_number",
                    }, value
                for item in value.values():
                    walk(item, monster_event)
            elif isinstance(value, list):
                for item in value:
                    walk(item, monster_event)

        walk(
            frame["event_data"],
            frame["event_type"].startswith("monster") or frame["event_type"] == "initiative_updated",
        )


async def both(dm_socket: Socket, player_socket: Socket, event_type: str) -> tuple[dict, dict]:
    return await dm_socket.event(event_type), await player_socket.event(event_type)


async def test_the_fight(server: LiveServer):
    await fight(server)


@pytest.mark.postgres
async def test_the_fight_on_postgresql(settings, postgres_url):
    server = await LiveServer(dataclasses.replace(settings, database_url=postgres_url)).start()
    try:
        await fight(server)
    finally:
        await server.stop()


async def fight(server: LiveServer) -> None:
    dm, (player,), session_id = await game_table(server, players=1)
    dm_socket = await dm.socket(session_id, last_event_id=10_000)  # past the head: no replay
    head = (await dm_socket.frame())["head_event_id"]
    player_socket = await player.socket(session_id, last_event_id=head)
    assert (await player_socket.frame())["role"] == "player"

    hero = await player.ok("/api/character/create.php", {**FIGHTER, "session_id": session_id})
    await both(dm_socket, player_socket, "character_created")

    spawned = await spawn(
        dm,
        session_id,
        count=3,
        notes="NOTE-ambush",
        treasure={"gp": "TREASURE-40"},
        equipment={"weapon": "EQUIP-spear"},
        spells={"none": "SPELL-none"},
    )
    goblins = spawned["instances"]
    assert [g["instance_name"] for g in goblins] == ["Goblin #1", "Goblin #2", "Goblin #3"]
    assert all(1 <= g["max_hp"] <= 7 for g in goblins)
    dm_event, player_event = await both(dm_socket, player_socket, "monster_spawned")
    assert [i["current_hp"] for i in dm_event["event_data"]["instances"]] == [g["max_hp"] for g in goblins]
    # The DM's event carries the numbers, not the long texts (list-instances has them).
    assert "notes" not in dm_event["event_data"]["instances"][0]
    assert [i["instance_name"] for i in player_event["event_data"]["instances"]] == [
        "Goblin #1",
        "Goblin #2",
        "Goblin #3",
    ]

    await dm.ok("/api/combat/add-character.php", {"session_id": session_id, "character_id": hero["character_id"]})
    await both(dm_socket, player_socket, "initiative_updated")
    for goblin in goblins:
        await dm.ok(
            "/api/combat/add-monster.php", {"session_id": session_id, "monster_instance_id": goblin["instance_id"]}
        )
        await both(dm_socket, player_socket, "initiative_updated")

    rolled = await dm.ok("/api/combat/roll-initiative.php", {"session_id": session_id, "mode": "individual"})
    dm_event, player_event = await both(dm_socket, player_socket, "initiative_updated")
    assert dm_event["event_data"] == player_event["event_data"] == rolled
    order_is_valid(rolled)
    assert len(rolled["initiatives"]) == 4

    for expected in rolled["initiatives"][:2]:
        tracker = await dm.ok("/api/combat/next-turn.php", {"session_id": session_id})
        dm_event, player_event = await both(dm_socket, player_socket, "initiative_updated")
        assert dm_event["event_data"] == player_event["event_data"] == tracker
        assert current(tracker) == expected["initiative_id"] and tracker["round_number"] == 1

    victim = goblins[0]
    hit = await dm.ok("/api/monsters/update-hp.php", {"instance_id": victim["instance_id"], "damage": 8})
    assert hit["current_hp"] == 0 and hit["is_dead"] is True
    dm_event, player_event = await both(dm_socket, player_socket, "monster_hp_updated")
    assert dm_event["event_data"]["old_hp"] == victim["max_hp"] and dm_event["event_data"]["current_hp"] == 0
    assert player_event["event_data"] == {
        "instance_id": victim["instance_id"],
        "instance_name": "Goblin #1",
        "condition": "dead",
    }

    wounded = await dm.ok("/api/character/update-hp.php", {"character_id": hero["character_id"], "damage": 2})
    dm_event, player_event = await both(dm_socket, player_socket, "character_hp_updated")
    assert dm_event["event_data"]["current_hp"] == player_event["event_data"]["current_hp"] == wounded["current_hp"]

    entry = next(e for e in rolled["initiatives"] if e["monster_instance_id"] == victim["instance_id"])
    removed = await dm.ok(
        "/api/combat/remove-monster.php", {"session_id": session_id, "initiative_id": entry["initiative_id"]}
    )
    assert removed["initiative_id"] == entry["initiative_id"]
    assert entry["initiative_id"] not in {e["initiative_id"] for e in removed["initiatives"]}
    assert len(removed["initiatives"]) == 3 and sum(e["is_current_turn"] for e in removed["initiatives"]) == 1
    dm_event, player_event = await both(dm_socket, player_socket, "initiative_updated")
    assert (
        dm_event["event_data"]
        == player_event["event_data"]
        == {key: removed[key] for key in ("initiatives", "round_number")}
    )

    xp = await dm.post(
        "/api/character/grant-xp.php",
        {"session_id": session_id, "character_ids": [hero["character_id"]], "xp_amount": 5, "reason": "Goblin #1"},
    )
    assert xp.status_code == 200, xp.text
    dm_event, player_event = await both(dm_socket, player_socket, "character_xp_updated")
    assert dm_event["event_data"] == player_event["event_data"]
    assert player_event["event_data"]["character_id"] == hero["character_id"]
    assert player_event["event_data"]["experience_points"] == 5

    # Both sockets saw the same events, in the same order, gaplessly.
    dm_ids = [f["event_id"] for f in dm_socket.frames if f["type"] == "event"]
    player_ids = [f["event_id"] for f in player_socket.frames if f["type"] == "event"]
    assert dm_ids == player_ids == list(range(head + 1, head + 1 + len(dm_ids)))
    assert_no_monster_secrets(player_socket.frames)
    # The DM reads the long texts from list-instances (events leave them out).
    dm_raw = json.dumps((await dm.get("/api/monsters/list-instances.php", session_id=session_id)).json())
    assert "NOTE-ambush" in dm_raw and "TREASURE-40" in dm_raw and "EQUIP-spear" in dm_raw and "SPELL-none" in dm_raw
