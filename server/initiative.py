"""The initiative tracker of a game session: who fights, in which order, whose turn it is, which round.

Every mutation is the DM's, runs in one transaction that first holds the game session's row (so the
tracker of one session changes one writer at a time), and publishes `initiative_updated` whose
event_data is the whole tracker, the same object get-initiative.php answers:
    {"initiatives": [{initiative_id, entity_type, entity_name, character_id, monster_instance_id,
                      initiative_roll, is_current_turn}], "round_number"}
Order: highest roll first; on equal rolls characters act before monsters, then the earlier-added first;
combatants not yet rolled come last. round_number 0 means no round has started.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Literal, NotRequired

from typing_extensions import TypedDict

from server import clock
from server.accounts import User
from server.database import Database, Row, Transaction
from server.errors import Invalid, NotFound
from server.event_log import Change, EventLog
from server.game_sessions import require_dm, require_member
from server.rules import initiative as initiative_rules

EntityType = Literal["character", "monster"]
Mode = Literal["individual", "group"]
_rng = random.SystemRandom()
# Every initiative_updated event carries the whole tracker: at this bound, with the longest names, it is
# about 37 KB, inside the event log's MAX_EVENT_BYTES (BECMI's mass battles use other rules anyway).
MAX_COMBATANTS = 100


class Combatant(TypedDict):
    initiative_id: int
    entity_type: EntityType
    entity_name: str
    character_id: int | None
    monster_instance_id: int | None
    initiative_roll: int | None
    is_current_turn: bool


class Tracker(TypedDict):
    initiatives: list[Combatant]
    round_number: int


class TrackerChange(TypedDict):
    """The tracker after a change; `initiative_id` names the combatant added or removed."""

    initiative_id: NotRequired[int]
    initiatives: list[Combatant]
    round_number: int


def order_key(entry: Row) -> tuple[int, int, int, int]:
    roll = entry["initiative_roll"]
    return (roll is None, -(roll or 0), entry["entity_type"] == "monster", entry["initiative_id"])


async def _entries(tx: Database | Transaction, session_id: int) -> list[Row]:
    """The tracker's rows in turn order, with each combatant's name and Dexterity."""
    rows = await tx.fetch_all(
        "SELECT e.initiative_id, e.entity_type, e.character_id, e.monster_instance_id, e.initiative_roll, "
        "e.is_current_turn, COALESCE(c.character_name, m.instance_name) AS entity_name, "
        "COALESCE(c.dexterity, m.dexterity) AS dexterity FROM initiative_entries e "
        "LEFT JOIN characters c ON c.character_id = e.character_id "
        "LEFT JOIN monster_instances m ON m.instance_id = e.monster_instance_id WHERE e.session_id = :sid",
        {"sid": session_id},
    )
    return sorted(rows, key=order_key)


async def tracker(tx: Database | Transaction, session_id: int) -> Tracker:
    round_number = await tx.fetch_val(
        "SELECT round_number FROM game_sessions WHERE session_id = :sid", {"sid": session_id}
    )
    return {
        "initiatives": [
            {
                "initiative_id": row["initiative_id"],
                "entity_type": row["entity_type"],
                "entity_name": row["entity_name"],
                "character_id": row["character_id"],
                "monster_instance_id": row["monster_instance_id"],
                "initiative_roll": row["initiative_roll"],
                "is_current_turn": bool(row["is_current_turn"]),
            }
            for row in await _entries(tx, session_id)
        ],
        "round_number": int(round_number or 0),
    }


async def get(log: EventLog, user: User, session_id: int) -> Tracker:
    await require_member(log.db, session_id, user)
    return await tracker(log.db, session_id)


# A step answers the id of the combatant it added or removed, if any.
Step = Callable[[Transaction, int], Awaitable[int | None]]


async def _change(log: EventLog, dm: User, session_id: int, step: Step) -> TrackerChange:
    """Run `step` as the DM in one transaction holding the game session's row; publish the new tracker.
    Answers the tracker plus whatever `step` returned."""
    await require_dm(log.db, session_id, dm)
    async with log.change(session_id) as change:
        initiative_id = await step(change.tx, session_id)
        state = await tracker(change.tx, session_id)
        await change.record(session_id, "initiative_updated", state)
    if initiative_id is None:
        return {"initiatives": state["initiatives"], "round_number": state["round_number"]}
    return {"initiative_id": initiative_id, "initiatives": state["initiatives"], "round_number": state["round_number"]}


async def _set_turn(tx: Transaction, session_id: int, initiative_id: int | None, round_number: int) -> None:
    await tx.execute(
        "UPDATE initiative_entries SET is_current_turn = CASE WHEN initiative_id = :iid THEN 1 ELSE 0 END "
        "WHERE session_id = :sid",
        {"sid": session_id, "iid": initiative_id if initiative_id is not None else 0},
    )
    await tx.execute(
        "UPDATE game_sessions SET round_number = :round WHERE session_id = :sid",
        {"sid": session_id, "round": round_number},
    )


async def _round(tx: Transaction, session_id: int) -> int:
    value = await tx.fetch_val("SELECT round_number FROM game_sessions WHERE session_id = :sid", {"sid": session_id})
    return int(value or 0)


def _roll_one(dexterity: int | None) -> int:
    return initiative_rules.roll_individual(dexterity, _rng) if dexterity is not None else _rng.randint(1, 6)


async def _add(tx: Transaction, session_id: int, entity_type: EntityType, entity_id: int, dexterity: int | None) -> int:
    column = "character_id" if entity_type == "character" else "monster_instance_id"
    present = await tx.fetch_val(
        f"SELECT initiative_id FROM initiative_entries WHERE session_id = :sid AND {column} = :eid",
        {"sid": session_id, "eid": entity_id},
    )
    if present is not None:
        raise Invalid({column: f"This {entity_type} is already in the initiative tracker"})
    size = await tx.fetch_val("SELECT count(*) FROM initiative_entries WHERE session_id = :sid", {"sid": session_id})
    if size >= MAX_COMBATANTS:
        raise Invalid({column: f"The initiative tracker holds at most {MAX_COMBATANTS} combatants"})
    # Joining a fight already rolled: the newcomer rolls individually and slots into the order.
    rolled = await tx.fetch_val(
        "SELECT count(*) FROM initiative_entries WHERE session_id = :sid AND initiative_roll IS NOT NULL",
        {"sid": session_id},
    )
    initiative_id = await tx.fetch_val(
        f"INSERT INTO initiative_entries (session_id, entity_type, {column}, initiative_roll, is_current_turn, "
        "created_at) VALUES (:sid, :type, :eid, :roll, 0, :now) RETURNING initiative_id",
        {
            "sid": session_id,
            "type": entity_type,
            "eid": entity_id,
            "roll": _roll_one(dexterity) if rolled else None,
            "now": clock.now_text(),
        },
    )
    return int(initiative_id)


async def add_character(log: EventLog, dm: User, session_id: int, character_id: int) -> TrackerChange:
    async def step(tx: Transaction, sid: int) -> int:
        row = await tx.fetch_one(
            "SELECT session_id, dexterity FROM characters WHERE character_id = :cid", {"cid": character_id}
        )
        if row is None:
            raise NotFound("Character not found")
        if row["session_id"] != sid:
            raise Invalid({"character_id": "This character is not in this session"})
        return await _add(tx, sid, "character", character_id, row["dexterity"])

    return await _change(log, dm, session_id, step)


async def add_monster(log: EventLog, dm: User, session_id: int, instance_id: int) -> TrackerChange:
    async def step(tx: Transaction, sid: int) -> int:
        row = await tx.fetch_one(
            "SELECT session_id, dexterity, current_hp FROM monster_instances WHERE instance_id = :iid",
            {"iid": instance_id},
        )
        if row is None:
            raise NotFound("Monster instance not found")
        if row["session_id"] != sid:
            raise Invalid({"monster_instance_id": "This monster instance is not in this session"})
        if row["current_hp"] <= 0:
            raise Invalid({"monster_instance_id": "This monster is dead"})
        return await _add(tx, sid, "monster", instance_id, row["dexterity"])

    return await _change(log, dm, session_id, step)


async def roll(log: EventLog, dm: User, session_id: int, mode: Mode) -> TrackerChange:
    """Roll for everyone. individual: 1d6 + DEX adjustment each (monsters without Dexterity: +0).
    group: one 1d6 for the party, one for the monsters, re-rolled until they differ (BECMI allows a
    re-roll on a tie, and a tracker cannot show "both sides at once"). If a round is running, the new
    order starts it over: the turn goes to the top, the round number stays."""

    async def step(tx: Transaction, sid: int) -> None:
        entries = await _entries(tx, sid)
        if not entries:
            raise Invalid({"session_id": "The initiative tracker is empty"})
        party = monsters = initiative_rules.roll_group(_rng)
        while mode == "group" and party == monsters:
            party, monsters = initiative_rules.roll_group(_rng), initiative_rules.roll_group(_rng)
        for entry in entries:
            if mode == "group":
                value = party if entry["entity_type"] == "character" else monsters
            else:
                value = _roll_one(entry["dexterity"])
            await tx.execute(
                "UPDATE initiative_entries SET initiative_roll = :roll WHERE initiative_id = :iid",
                {"roll": value, "iid": entry["initiative_id"]},
            )
        round_number = await _round(tx, sid)
        top = (await _entries(tx, sid))[0]["initiative_id"] if round_number > 0 else None
        await _set_turn(tx, sid, top, round_number)

    return await _change(log, dm, session_id, step)


async def next_turn(log: EventLog, dm: User, session_id: int) -> TrackerChange:
    """The turn passes down the order; past the last combatant it wraps to the top and the round number
    goes up. With no round running, the first call starts round 1 at the top."""

    async def step(tx: Transaction, sid: int) -> None:
        entries = await _entries(tx, sid)
        if not entries:
            raise Invalid({"session_id": "The initiative tracker is empty"})
        round_number = await _round(tx, sid)
        current = next((i for i, entry in enumerate(entries) if entry["is_current_turn"]), None)
        if current is None:
            target, round_number = 0, max(round_number, 1)
        elif current + 1 < len(entries):
            target = current + 1
        else:
            target, round_number = 0, round_number + 1
        await _set_turn(tx, sid, entries[target]["initiative_id"], round_number)

    return await _change(log, dm, session_id, step)


async def remove(
    log: EventLog, dm: User, session_id: int, initiative_id: int, entity_type: EntityType
) -> TrackerChange:
    """Take one combatant out. If it had the turn, the turn passes to the next in order (wrapping to the top,
    and a new round, if it was last). An empty tracker ends the combat: round_number goes back to 0."""

    async def step(tx: Transaction, sid: int) -> int:
        entries = await _entries(tx, sid)
        index = next((i for i, entry in enumerate(entries) if entry["initiative_id"] == initiative_id), None)
        if index is None:
            raise NotFound("Initiative entry not found")
        if entries[index]["entity_type"] != entity_type:
            raise Invalid({"initiative_id": f"This entry is a {entries[index]['entity_type']}, not a {entity_type}"})
        await _take_out(tx, sid, entries, index)
        return initiative_id

    return await _change(log, dm, session_id, step)


async def _take_out(tx: Transaction, sid: int, entries: list[Row], index: int) -> None:
    """Delete `entries[index]`; the turn passes on if it had it; an emptied tracker ends the combat."""
    await tx.execute(
        "DELETE FROM initiative_entries WHERE initiative_id = :iid", {"iid": entries[index]["initiative_id"]}
    )
    rest = entries[:index] + entries[index + 1 :]
    round_number = await _round(tx, sid)
    if not rest:
        await _set_turn(tx, sid, None, 0)
    elif entries[index]["is_current_turn"]:
        if index < len(rest):
            await _set_turn(tx, sid, rest[index]["initiative_id"], round_number)
        else:
            await _set_turn(tx, sid, rest[0]["initiative_id"], round_number + 1)


async def withdraw_monster(change: Change, session_id: int, instance_id: int) -> int | None:
    """Within `change` (the DM's), take a monster instance out of the tracker as `remove` would, and
    record `initiative_updated`; its initiative_id, or None when it was not in the tracker."""
    entries = await _entries(change.tx, session_id)
    index = next((i for i, entry in enumerate(entries) if entry["monster_instance_id"] == instance_id), None)
    if index is None:
        return None
    await _take_out(change.tx, session_id, entries, index)
    await change.record(session_id, "initiative_updated", await tracker(change.tx, session_id))
    return int(entries[index]["initiative_id"])


async def clear(log: EventLog, dm: User, session_id: int) -> TrackerChange:
    async def step(tx: Transaction, sid: int) -> None:
        await tx.execute("DELETE FROM initiative_entries WHERE session_id = :sid", {"sid": sid})
        await _set_turn(tx, sid, None, 0)

    return await _change(log, dm, session_id, step)
