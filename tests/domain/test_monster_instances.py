"""Monster instances through the domain functions: spawning with numbering, named bosses, the DM's
edits, damage and healing with what players are told, and who sees what."""

from __future__ import annotations

import pytest

from server import monster_instances
from server.errors import Forbidden, Invalid
from server.event_log import EventLog
from server.hit_points import HitPointChange
from server.monster_instances import NewMonsters


async def goblin_id(log: EventLog) -> int:
    return int(await log.db.fetch_val("SELECT monster_id FROM monsters WHERE name = 'Goblin'"))


async def test_auto_names_continue_the_numbering(log: EventLog, table):
    dm, _, session_id = await table(players=0)
    goblin = await goblin_id(log)
    first = await monster_instances.create(log, dm, session_id, goblin, NewMonsters(count=2, custom_hp=5))
    second = await monster_instances.create(log, dm, session_id, goblin, NewMonsters(custom_hp=5))
    names = [i["instance_name"] for i in first["instances"] + second["instances"]]
    assert names == ["Goblin #1", "Goblin #2", "Goblin #3"]
    assert all(i["current_hp"] == i["max_hp"] == 5 for i in first["instances"])


def test_a_named_boss_is_one_monster_with_a_name():
    with pytest.raises(Invalid) as unnamed:
        NewMonsters(is_named_boss=True)
    assert list(unnamed.value.errors) == ["instance_name"]
    with pytest.raises(Invalid) as many:
        NewMonsters(count=2, is_named_boss=True, instance_name="Grik")
    assert list(many.value.errors) == ["count"]


async def test_only_the_dm_spawns(log: EventLog, table):
    _, (player,), session_id = await table()
    with pytest.raises(Forbidden):
        await monster_instances.create(log, player, session_id, await goblin_id(log), NewMonsters())


async def test_edits_change_only_the_given_fields_and_refuse_nulls(log: EventLog, table):
    dm, _, session_id = await table(players=0)
    spawned = await monster_instances.create(log, dm, session_id, await goblin_id(log), NewMonsters(notes="n"))
    instance_id = spawned["instances"][0]["instance_id"]
    edited = await monster_instances.update(log, dm, instance_id, {"armor_class": 4, "dexterity": 15})
    assert (edited["armor_class"], edited["dexterity"], edited["notes"]) == (4, 15, "n")
    cleared = await monster_instances.update(log, dm, instance_id, {"dexterity": None})
    assert cleared["dexterity"] is None and cleared["armor_class"] == 4
    with pytest.raises(Invalid) as nulls:
        await monster_instances.update(log, dm, instance_id, {"notes": None})  # type: ignore[typeddict-item]
    assert nulls.value.errors == {"notes": "May not be null"}
    with pytest.raises(Invalid):
        await monster_instances.update(log, dm, instance_id, {})


async def test_damage_is_clamped_and_players_hear_only_the_condition(log: EventLog, table):
    dm, (player,), session_id = await table()
    spawned = await monster_instances.create(log, dm, session_id, await goblin_id(log), NewMonsters(custom_hp=8))
    instance_id = spawned["instances"][0]["instance_id"]
    head = await log.head(session_id)
    hurt = await monster_instances.update_hp(log, dm, instance_id, HitPointChange(damage=5))
    assert (hurt["current_hp"], hurt["condition"]) == (3, "badly wounded")
    dead = await monster_instances.update_hp(log, dm, instance_id, HitPointChange(damage=50, healing=2))
    assert dead["current_hp"] == 0 and dead["is_dead"] and dead["condition"] == "dead"
    events = await log.since(session_id, head)
    assert [e.player_data for e in events] == [
        {"instance_id": instance_id, "instance_name": "Goblin #1", "condition": "badly wounded"},
        {"instance_id": instance_id, "instance_name": "Goblin #1", "condition": "dead"},
    ]
    assert "condition" not in events[0].event_data and events[0].event_data["current_hp"] == 3
    as_player, _, is_dm = await monster_instances.for_session(log.db, player, session_id)
    assert not is_dm and as_player == [
        {"instance_id": instance_id, "instance_name": "Goblin #1", "monster_name": "Goblin", "condition": "dead"}
    ]
