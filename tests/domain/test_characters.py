"""Characters through the domain functions, on a real SQLite file: creation, damage and healing with
the clamp, who may change a character, and experience with level-ups."""

from __future__ import annotations

import pytest

from server import characters
from server.characters import Abilities, NewCharacter
from server.errors import Forbidden, Invalid, NotFound
from server.event_log import EventLog
from server.hit_points import HitPointChange

SCORES = Abilities(16, 12, 14, 10, 11, 9)


def fighter(session_id: int | None = None) -> NewCharacter:
    return NewCharacter("Aldric", "fighter", "lawful", SCORES, session_id)


async def set_hp(log: EventLog, character_id: int, current: int, maximum: int) -> None:
    async with log.db.transaction() as tx:
        await tx.execute(
            "UPDATE characters SET current_hp = :c, max_hp = :m WHERE character_id = :id",
            {"c": current, "m": maximum, "id": character_id},
        )


async def test_a_new_fighter_has_a_rolled_first_hit_die_and_joins_the_session(log: EventLog, table):
    _, (player,), session_id = await table()
    head = await log.head(session_id)
    created = await characters.create(log, player, fighter(session_id))
    # d8 + 1 for CON 14, at least 1
    assert 2 <= created["max_hp"] == created["current_hp"] <= 9
    assert created["level"] == 1 and created["experience_points"] == 0
    (event,) = await log.since(session_id, head)
    assert event.event_type == "character_created" and event.event_data["character_name"] == "Aldric"


def test_ability_scores_outside_3_to_18_are_refused():
    with pytest.raises(Invalid) as refused:
        Abilities(2, 12, 14, 10, 19, 9)
    assert set(refused.value.errors) == {"strength", "wisdom"}


async def test_a_character_needs_a_session_its_owner_belongs_to(log: EventLog, table, user):
    _, _, session_id = await table(players=0)
    with pytest.raises(Forbidden):
        await characters.create(log, await user(), fighter(session_id))


async def test_damage_and_healing_stay_within_0_and_max(log: EventLog, table):
    dm, (player,), session_id = await table()
    character_id = (await characters.create(log, player, fighter(session_id)))["character_id"]
    await set_hp(log, character_id, 10, 12)
    healed = await characters.update_hp(log, player, character_id, HitPointChange(healing=50))
    assert healed == {"character_id": character_id, "current_hp": 12, "max_hp": 12, "is_dead": False}
    head = await log.head(session_id)
    dead = await characters.update_hp(log, dm, character_id, HitPointChange(damage=30, healing=1))
    assert dead["current_hp"] == 0 and dead["is_dead"] is True
    (event,) = await log.since(session_id, head)
    assert event.event_data["old_hp"] == 12 and event.event_data["damage"] == 30


async def test_a_change_of_nothing_is_refused(log: EventLog, table):
    _, (player,), session_id = await table()
    character_id = (await characters.create(log, player, fighter(session_id)))["character_id"]
    with pytest.raises(Invalid) as refused:
        await characters.update_hp(log, player, character_id, HitPointChange())
    assert refused.value.errors == {"damage": "Give damage or healing greater than 0"}


async def test_only_the_owner_and_the_sessions_dm_change_hit_points(log: EventLog, table):
    _, (player, other), session_id = await table(players=2)
    character_id = (await characters.create(log, player, fighter(session_id)))["character_id"]
    with pytest.raises(Forbidden):
        await characters.update_hp(log, other, character_id, HitPointChange(damage=1))
    with pytest.raises(NotFound):
        await characters.update_hp(log, player, 999_999, HitPointChange(damage=1))


async def test_experience_raises_the_level_and_the_hit_points(log: EventLog, table):
    dm, (player,), session_id = await table()
    character_id = (await characters.create(log, player, fighter(session_id)))["character_id"]
    granted = await characters.grant_xp(log, dm, session_id, [character_id], 4_000, "the keep")
    (result,) = granted["characters"]
    assert (result["old_level"], result["level"], result["levelled_up"]) == (1, 3, True)
    assert result["hp_gained"] >= 2 and result["max_hp"] == result["current_hp"]
    with pytest.raises(Forbidden):
        await characters.grant_xp(log, player, session_id, [character_id], 1, None)


async def test_experience_only_for_characters_of_the_session(log: EventLog, table):
    dm, (player,), session_id = await table()
    elsewhere = (await characters.create(log, player, fighter()))["character_id"]
    with pytest.raises(Invalid) as refused:
        await characters.grant_xp(log, dm, session_id, [elsewhere], 100, None)
    assert str(elsewhere) in refused.value.errors["character_ids"]
