"""The initiative tracker through the domain functions: adding combatants, group rolls, turns and
rounds, removal of the combatant whose turn it is, and clearing."""

from __future__ import annotations

import pytest

from server import characters, initiative, monster_instances
from server.characters import Abilities, NewCharacter
from server.errors import Forbidden, Invalid
from server.event_log import EventLog
from server.monster_instances import NewMonsters


async def fight(log: EventLog, table) -> tuple:
    """A DM, a player's fighter and two goblins, all in the tracker."""
    dm, (player,), session_id = await table()
    new = NewCharacter("Aldric", "fighter", "lawful", Abilities(16, 12, 14, 10, 11, 9), session_id)
    character_id = (await characters.create(log, player, new))["character_id"]
    goblin = int(await log.db.fetch_val("SELECT monster_id FROM monsters WHERE name = 'Goblin'"))
    spawned = await monster_instances.create(log, dm, session_id, goblin, NewMonsters(count=2, custom_hp=4))
    await initiative.add_character(log, dm, session_id, character_id)
    for instance in spawned["instances"]:
        await initiative.add_monster(log, dm, session_id, instance["instance_id"])
    return dm, player, session_id, character_id


def current(tracker: initiative.Tracker) -> str | None:
    return next((c["entity_name"] for c in tracker["initiatives"] if c["is_current_turn"]), None)


async def test_group_initiative_then_turns_wrap_into_the_next_round(log: EventLog, table):
    dm, _, session_id, _ = await fight(log, table)
    rolled = await initiative.roll(log, dm, session_id, "group")
    rolls = {c["entity_type"]: c["initiative_roll"] for c in rolled["initiatives"]}
    assert rolls["character"] != rolls["monster"] and rolled["round_number"] == 0
    order = [c["entity_name"] for c in rolled["initiatives"]]
    seen = []
    for _ in range(4):
        tracker = await initiative.next_turn(log, dm, session_id)
        seen.append((current(tracker), tracker["round_number"]))
    assert seen == [(order[0], 1), (order[1], 1), (order[2], 1), (order[0], 2)]


async def test_a_combatant_joins_the_tracker_once(log: EventLog, table):
    dm, _, session_id, character_id = await fight(log, table)
    with pytest.raises(Invalid):
        await initiative.add_character(log, dm, session_id, character_id)


async def test_removing_the_current_combatant_passes_the_turn(log: EventLog, table):
    dm, _, session_id, _ = await fight(log, table)
    await initiative.roll(log, dm, session_id, "individual")
    first = await initiative.next_turn(log, dm, session_id)
    top = first["initiatives"][0]
    after = await initiative.remove(log, dm, session_id, top["initiative_id"], top["entity_type"])
    assert after["initiative_id"] == top["initiative_id"]
    assert current(after) == first["initiatives"][1]["entity_name"] and after["round_number"] == 1


async def test_clearing_ends_the_combat(log: EventLog, table):
    dm, player, session_id, _ = await fight(log, table)
    with pytest.raises(Forbidden):
        await initiative.clear(log, player, session_id)
    cleared = await initiative.clear(log, dm, session_id)
    assert cleared == {"initiatives": [], "round_number": 0}
    assert await initiative.get(log, player, session_id) == cleared
