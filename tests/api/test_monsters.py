"""The bestiary and monster instances over real HTTP against a real database file."""

from __future__ import annotations

import pytest

from server.rules import hit_dice
from tests.live import Client, LiveServer, game_table, monster, spawn

TEMPLATE_FIELDS = {
    "monster_id",
    "name",
    "armor_class",
    "hit_dice",
    "move",
    "attacks",
    "damage",
    "morale",
    "save_as",
    "alignment",
    "xp",
    "treasure_type",
    "description",
}
SECRET_KEYS = {"current_hp", "max_hp", "old_hp", "armor_class", "notes", "treasure", "equipment", "spells", "damage"}


# --- the bestiary ---------------------------------------------------------------------------------


async def test_bestiary_lists_every_template_field_with_pagination(server: LiveServer):
    user = await Client(server).register()
    response = await user.get("/api/monsters/list.php", limit=100)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["pagination"]["total"] >= 60
    assert data["pagination"] == {
        "page": 1,
        "limit": 100,
        "total": data["pagination"]["total"],
        "total_pages": -(-data["pagination"]["total"] // 100),
    }
    assert len(data["monsters"]) == 100
    for row in data["monsters"]:
        assert set(row) == TEMPLATE_FIELDS
        hit_dice.parse(row["hit_dice"])
    second = (await user.get("/api/monsters/list.php", limit=100, page=2)).json()["data"]
    assert len(second["monsters"]) == data["pagination"]["total"] - 100
    ids = {row["monster_id"] for row in data["monsters"]} | {row["monster_id"] for row in second["monsters"]}
    assert len(ids) == data["pagination"]["total"]


async def test_bestiary_search_is_case_insensitive_and_literal(server: LiveServer):
    user = await Client(server).register()
    data = (await user.get("/api/monsters/list.php", search="gOBLIN")).json()["data"]
    names = [row["name"] for row in data["monsters"]]
    assert "Goblin" in names and all("goblin" in name.lower() for name in names)
    assert data["pagination"]["total"] == len(names)
    for pattern in ("%", "_", "\\"):
        data = (await user.get("/api/monsters/list.php", search=pattern)).json()["data"]
        assert data["pagination"]["total"] == 0, pattern


async def test_bestiary_get_and_its_errors(server: LiveServer):
    user = await Client(server).register()
    goblin = await monster(user, "Goblin")
    response = await user.get("/api/monsters/get.php", monster_id=goblin["monster_id"])
    assert response.status_code == 200 and response.json()["data"] == goblin
    assert goblin["hit_dice"] == "1-1" and goblin["xp"] == 5
    assert (await user.get("/api/monsters/get.php", monster_id=999_999)).status_code == 404
    assert (await user.get("/api/monsters/get.php", monster_id="x")).status_code == 400
    assert (await user.get("/api/monsters/get.php")).status_code == 400
    assert (await user.get("/api/monsters/list.php", limit=101)).status_code == 400
    assert (await user.get("/api/monsters/list.php", search="x" * 101)).status_code == 400


async def test_bestiary_needs_a_login(server: LiveServer):
    anonymous = Client(server)
    assert (await anonymous.get("/api/monsters/list.php")).status_code == 401
    assert (await anonymous.get("/api/monsters/get.php", monster_id=1)).status_code == 401


# --- creating instances ---------------------------------------------------------------------------


async def test_spawned_goblins_are_numbered_on_and_roll_hp_in_the_hit_dice_range(server: LiveServer):
    dm, _, session_id = await game_table(server, players=0)
    first = await spawn(dm, session_id, count=3)
    assert first["count"] == 3
    assert [i["instance_name"] for i in first["instances"]] == ["Goblin #1", "Goblin #2", "Goblin #3"]
    for instance in first["instances"]:
        # Goblin: HD 1-1, so 1d8-1 with a minimum of 1.
        assert 1 <= instance["max_hp"] <= 7 and instance["current_hp"] == instance["max_hp"]
        assert instance["armor_class"] == 6 and instance["is_named_boss"] is False
    more = await spawn(dm, session_id, count=2)
    assert [i["instance_name"] for i in more["instances"]] == ["Goblin #4", "Goblin #5"]
    # Numbering is per game session.
    other_dm, _, other_session = await game_table(server, players=0)
    again = await spawn(other_dm, other_session)
    assert [i["instance_name"] for i in again["instances"]] == ["Goblin #1"]


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [("Kobold", 1, 4), ("Hobgoblin", 2, 9), ("Orc", 1, 8)],
)
async def test_hit_points_follow_every_notation(server: LiveServer, name, low, high):
    dm, _, session_id = await game_table(server, players=0)
    template = await monster(dm, name)
    assert hit_dice.parse(template["hit_dice"])  # "1/2", "1+1", "1"
    created = await spawn(dm, session_id, name, count=50)
    hps = [i["max_hp"] for i in created["instances"]]
    assert len(hps) == 50 and all(low <= hp <= high for hp in hps)
    assert len(set(hps)) > 1  # rolled, not a constant


async def test_starred_hit_dice_roll_d8s(server: LiveServer):
    dm, _, session_id = await game_table(server, players=0)
    user = dm
    rows = (await user.get("/api/monsters/list.php", limit=100)).json()["data"]["monsters"]
    starred = next(row for row in rows if row["hit_dice"] == "3*")
    created = await spawn(dm, session_id, starred["name"], count=20)
    assert all(3 <= i["max_hp"] <= 24 for i in created["instances"])


async def test_named_boss_keeps_its_name_and_custom_hp(server: LiveServer):
    dm, _, session_id = await game_table(server, players=0)
    boss = await spawn(
        dm,
        session_id,
        is_named_boss=True,
        instance_name="G" * 50,
        custom_hp=10_000,
        equipment={"weapon": "cleaver"},
        treasure={"gp": 120},
        spells={"level_1": ["sleep"]},
        notes="n" * 5000,
    )
    (instance,) = boss["instances"]
    assert instance["instance_name"] == "G" * 50 and instance["is_named_boss"] is True
    assert instance["max_hp"] == instance["current_hp"] == 10_000
    listed = (await dm.get("/api/monsters/list-instances.php", session_id=session_id)).json()["data"]
    (row,) = listed["instances"]
    assert row["equipment"] == {"weapon": "cleaver"} and row["treasure"] == {"gp": 120}
    assert row["spells"] == {"level_1": ["sleep"]} and row["notes"] == "n" * 5000
    # Named bosses do not take a number from the pack.
    assert [i["instance_name"] for i in (await spawn(dm, session_id))["instances"]] == ["Goblin #1"]


async def test_count_and_custom_hp_at_their_edges(server: LiveServer):
    dm, _, session_id = await game_table(server, players=0)
    assert (await spawn(dm, session_id, count=50))["count"] == 50
    assert [i["max_hp"] for i in (await spawn(dm, session_id, custom_hp=1))["instances"]] == [1]
    goblin = await monster(dm, "Goblin")
    base = {"monster_id": goblin["monster_id"], "session_id": session_id}
    for field, value in [
        ("count", 51),
        ("count", 0),
        ("count", -1),
        ("count", "many"),
        ("custom_hp", 0),
        ("custom_hp", 10_001),
        ("instance_name", "x" * 51),
        ("instance_name", ""),
        ("notes", "n" * 5001),
        ("equipment", ["not", "an", "object"]),
        ("treasure", "gold"),
        ("spells", {"big": "x" * 20_001}),
        ("monster_id", 0),
        ("session_id", "one"),
    ]:
        response = await dm.post("/api/monsters/create-instance.php", {**base, field: value})
        assert response.status_code == 400, (field, value, response.text)
        assert list(response.json()["errors"]) == [field], (field, value)


async def test_named_boss_rules(server: LiveServer):
    dm, _, session_id = await game_table(server, players=0)
    goblin = await monster(dm, "Goblin")
    base = {"monster_id": goblin["monster_id"], "session_id": session_id, "is_named_boss": True}
    response = await dm.post("/api/monsters/create-instance.php", base)
    assert response.status_code == 400 and list(response.json()["errors"]) == ["instance_name"]
    response = await dm.post("/api/monsters/create-instance.php", {**base, "instance_name": "Grik", "count": 2})
    assert response.status_code == 400 and list(response.json()["errors"]) == ["count"]


async def test_create_instance_access_and_unknown_ids(server: LiveServer):
    dm, (player,), session_id = await game_table(server, players=1)
    stranger = await Client(server).register()
    goblin = await monster(dm, "Goblin")
    body = {"monster_id": goblin["monster_id"], "session_id": session_id}
    assert (await Client(server).post("/api/monsters/create-instance.php", body)).status_code == 401
    assert (await player.post("/api/monsters/create-instance.php", body)).status_code == 403
    assert (await stranger.post("/api/monsters/create-instance.php", body)).status_code == 403
    response = await dm.post("/api/monsters/create-instance.php", {**body, "monster_id": 999_999})
    assert response.status_code == 404 and response.json()["message"] == "Monster not found"
    response = await dm.post("/api/monsters/create-instance.php", {**body, "session_id": 999_999})
    assert response.status_code == 404 and response.json()["message"] == "Session not found"
    # Without the CSRF header the DM is refused too.
    response = await dm.http.post("/api/monsters/create-instance.php", json=body)
    assert response.status_code == 403


# --- changing instances ---------------------------------------------------------------------------


async def test_update_instance_changes_only_the_given_fields(server: LiveServer):
    dm, _, session_id = await game_table(server, players=0)
    (goblin,) = (await spawn(dm, session_id, notes="keep me", treasure={"cp": 3}))["instances"]
    iid = goblin["instance_id"]
    data = await dm.ok("/api/monsters/update-instance.php", {"instance_id": iid, "instance_name": "Snaggletooth"})
    assert data["instance_name"] == "Snaggletooth" and data["notes"] == "keep me" and data["treasure"] == {"cp": 3}
    data = await dm.ok(
        "/api/monsters/update-instance.php",
        {"instance_id": iid, "armor_class": -10, "dexterity": 3, "equipment": {"shield": True}, "notes": ""},
    )
    assert data["armor_class"] == -10 and data["dexterity"] == 3 and data["equipment"] == {"shield": True}
    assert data["notes"] == "" and data["instance_name"] == "Snaggletooth" and data["treasure"] == {"cp": 3}
    data = await dm.ok("/api/monsters/update-instance.php", {"instance_id": iid, "armor_class": 20, "dexterity": 18})
    assert (data["armor_class"], data["dexterity"]) == (20, 18)
    data = await dm.ok("/api/monsters/update-instance.php", {"instance_id": iid, "dexterity": None})
    assert data["dexterity"] is None and data["armor_class"] == 20
    data = await dm.ok("/api/monsters/update-instance.php", {"instance_id": iid, "instance_name": "x" * 50})
    assert data["instance_name"] == "x" * 50


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("dexterity", 2),
        ("dexterity", 19),
        ("armor_class", -11),
        ("armor_class", 21),
        ("instance_name", "x" * 51),
        ("instance_name", ""),
        ("instance_name", None),
        ("notes", "n" * 5001),
        ("notes", None),
        ("treasure", [1, 2]),
    ],
)
async def test_update_instance_rejects_each_bad_field(server: LiveServer, field, value):
    dm, _, session_id = await game_table(server, players=0)
    (goblin,) = (await spawn(dm, session_id))["instances"]
    response = await dm.post("/api/monsters/update-instance.php", {"instance_id": goblin["instance_id"], field: value})
    assert response.status_code == 400, response.text
    assert list(response.json()["errors"]) == [field]


async def test_update_instance_needs_a_field_the_dm_and_a_real_instance(server: LiveServer):
    dm, (player,), session_id = await game_table(server, players=1)
    (goblin,) = (await spawn(dm, session_id))["instances"]
    iid = goblin["instance_id"]
    assert (await dm.post("/api/monsters/update-instance.php", {"instance_id": iid})).status_code == 400
    change = {"instance_id": iid, "notes": "mine"}
    assert (await Client(server).post("/api/monsters/update-instance.php", change)).status_code == 401
    assert (await player.post("/api/monsters/update-instance.php", change)).status_code == 403
    other_dm, _, _ = await game_table(server, players=0)
    assert (await other_dm.post("/api/monsters/update-instance.php", change)).status_code == 403
    missing = {"instance_id": 999_999, "notes": "x"}
    assert (await dm.post("/api/monsters/update-instance.php", missing)).status_code == 404


async def test_update_hp_clamps_and_reports_the_condition(server: LiveServer):
    dm, (player,), session_id = await game_table(server, players=1)
    (ogre,) = (await spawn(dm, session_id, custom_hp=20))["instances"]
    iid = ogre["instance_id"]
    steps = [
        ({"damage": 1}, 19, "wounded"),
        ({"damage": 9}, 10, "wounded"),
        ({"damage": 1}, 9, "badly wounded"),
        ({"healing": 10_000}, 20, "unhurt"),
        ({"damage": 5, "healing": 5}, 20, "unhurt"),
        ({"damage": 10_000}, 0, "dead"),
        ({"damage": 1}, 0, "dead"),
        ({"healing": 3}, 3, "badly wounded"),
    ]
    for change, hp, condition in steps:
        data = await dm.ok("/api/monsters/update-hp.php", {"instance_id": iid, **change})
        assert (data["current_hp"], data["max_hp"], data["condition"]) == (hp, 20, condition), change
        assert data["is_dead"] is (hp == 0)
    for change in ({"damage": 0}, {}, {"damage": -1}, {"damage": 10_001}, {"healing": 10_001}):
        response = await dm.post("/api/monsters/update-hp.php", {"instance_id": iid, **change})
        assert response.status_code == 400, change
    assert (await dm.post("/api/monsters/update-hp.php", {"instance_id": 999_999, "damage": 1})).status_code == 404
    assert (await player.post("/api/monsters/update-hp.php", {"instance_id": iid, "damage": 1})).status_code == 403
    assert (
        await Client(server).post("/api/monsters/update-hp.php", {"instance_id": iid, "damage": 1})
    ).status_code == 401


async def test_list_instances_full_for_the_dm_redacted_for_players(server: LiveServer):
    dm, (player,), session_id = await game_table(server, players=1)
    await spawn(dm, session_id, count=3, notes="ambush at the bridge", treasure={"gp": 50})
    dm_view = (await dm.get("/api/monsters/list-instances.php", session_id=session_id, limit=2)).json()["data"]
    assert dm_view["pagination"] == {"page": 1, "limit": 2, "total": 3, "total_pages": 2}
    assert [i["instance_name"] for i in dm_view["instances"]] == ["Goblin #1", "Goblin #2"]
    assert all(i["notes"] == "ambush at the bridge" and "current_hp" in i for i in dm_view["instances"])
    response = await player.get("/api/monsters/list-instances.php", session_id=session_id)
    assert response.status_code == 200
    instances = response.json()["data"]["instances"]
    assert len(instances) == 3
    for instance in instances:
        assert set(instance) == {"instance_id", "instance_name", "monster_name", "condition"}
        assert instance["condition"] == "unhurt" and instance["monster_name"] == "Goblin"
    assert "ambush" not in response.text and '"gp"' not in response.text
    stranger = await Client(server).register()
    assert (await stranger.get("/api/monsters/list-instances.php", session_id=session_id)).status_code == 403
    assert (await Client(server).get("/api/monsters/list-instances.php", session_id=session_id)).status_code == 401
    assert (await dm.get("/api/monsters/list-instances.php", session_id=999_999)).status_code == 404


async def test_spawn_hp_and_edit_events_are_redacted_for_players(server: LiveServer):
    dm, (player,), session_id = await game_table(server, players=1)
    dm_socket = await dm.socket(session_id)
    hello = await dm_socket.frame()
    player_socket = await player.socket(session_id, last_event_id=hello["head_event_id"])
    await player_socket.frame()
    (goblin,) = (await spawn(dm, session_id, notes="secret plan", spells={"x": 1}))["instances"]
    await dm.ok("/api/monsters/update-hp.php", {"instance_id": goblin["instance_id"], "damage": 100})
    await dm.ok("/api/monsters/update-instance.php", {"instance_id": goblin["instance_id"], "treasure": {"gp": 9}})
    kinds = ("monster_spawned", "monster_hp_updated", "monster_instance_updated")
    dm_events = [await dm_socket.event(kind) for kind in kinds]
    player_events = [await player_socket.event(kind) for kind in kinds]
    # The DM's events carry the numbers; the long texts (notes, treasure, ...) stay in list-instances.
    assert dm_events[0]["event_data"]["instances"][0]["max_hp"] == goblin["max_hp"]
    assert dm_events[1]["event_data"]["current_hp"] == 0 and dm_events[1]["event_data"]["old_hp"] == goblin["max_hp"]
    assert dm_events[2]["event_data"]["changed_fields"] == ["treasure"]
    assert player_events[0]["event_data"] == {
        "instances": [
            {
                "instance_id": goblin["instance_id"],
                "instance_name": "Goblin #1",
                "monster_name": "Goblin",
                "condition": "unhurt",
            }
        ],
        "count": 1,
    }
    assert player_events[1]["event_data"] == {
        "instance_id": goblin["instance_id"],
        "instance_name": "Goblin #1",
        "condition": "dead",
    }
    assert player_events[2]["event_data"]["condition"] == "dead"
    for event in player_events:
        assert "secret" not in str(event) and "hp" not in str(event["event_data"]).lower()
