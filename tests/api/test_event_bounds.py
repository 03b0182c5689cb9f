"""One request cannot make a huge event or multiply its long texts without bound (issue 9, part 4: a
62 KB create-instance request used to make a 3.1 MB event). Monster events list the instances without
their equipment, treasure, spells and notes; a spawn stores count x those texts up to a bound."""

from __future__ import annotations

import json

from server.event_log import MAX_EVENT_BYTES
from server.initiative import MAX_COMBATANTS
from server.monster_instances import MAX_SPAWN_TEXT_BYTES
from tests.live import Client, LiveServer, game_table

POLL = "/api/realtime/poll.php"
CANARY = "canary-7f3a9c-hoard"
COUNT = 32
PER_INSTANCE = MAX_SPAWN_TEXT_BYTES // COUNT  # 8,192 bytes of texts per instance: exactly at the bound
NOTES = "N" * 4000
DRAGONS = "\U0001f409" * 50


def equipment_filling(total: int) -> dict[str, str]:
    """An equipment object that, with "{}" treasure and spells and NOTES, stores `total` bytes."""
    rest = total - len(NOTES) - 2 * len("{}") - len(json.dumps({"c": ""}, separators=(",", ":")))
    return {"c": CANARY + "e" * (rest - len(CANARY))}


async def events_after(client: Client, session_id: int, after: int) -> list[dict]:
    return (await client.get(POLL, session_id=session_id, last_event_id=after, timeout=0)).json()["data"]["events"]


async def head(client: Client, session_id: int) -> int:
    socket = await client.socket(session_id, last_event_id=2**31 - 1)  # beyond the head: from now on
    hello = await socket.frame()
    await socket.close()
    return int(hello["head_event_id"])


async def goblin_id(client: Client) -> int:
    return int(
        (await client.get("/api/monsters/list.php", search="Goblin")).json()["data"]["monsters"][0]["monster_id"]
    )


async def test_a_bulk_spawn_at_the_bound_records_one_compact_event(server: LiveServer):
    dm, (player,), session_id = await game_table(server, players=1)
    before = await head(dm, session_id)
    body = {
        "monster_id": await goblin_id(dm),
        "session_id": session_id,
        "count": COUNT,
        "equipment": equipment_filling(PER_INSTANCE),
        "notes": NOTES,
    }
    created = await dm.ok("/api/monsters/create-instance.php", body)
    assert created["count"] == COUNT

    for client in (dm, player):
        (event,) = await events_after(client, session_id, before)
        assert event["event_type"] == "monster_spawned" and event["event_data"]["count"] == COUNT
        assert len(event["event_data"]["instances"]) == COUNT
        encoded = json.dumps(event)
        assert CANARY not in encoded and NOTES not in encoded and len(encoded) < MAX_EVENT_BYTES
    # The texts are stored with every instance, for the DM to read.
    listed = (await dm.get("/api/monsters/list-instances.php", session_id=session_id, limit=100)).json()["data"]
    assert {i["equipment"]["c"][: len(CANARY)] for i in listed["instances"]} == {CANARY}
    assert {i["notes"] for i in listed["instances"]} == {NOTES}


async def test_a_bulk_spawn_one_byte_over_the_bound_is_refused_and_writes_nothing(server: LiveServer):
    dm, _, session_id = await game_table(server, players=0)
    before = await head(dm, session_id)
    monster_id = await goblin_id(dm)
    over = {
        "monster_id": monster_id,
        "session_id": session_id,
        "count": COUNT,
        "equipment": equipment_filling(PER_INSTANCE + 1),
        "notes": NOTES,
    }
    response = await dm.post("/api/monsters/create-instance.php", over)
    assert response.status_code == 400 and str(MAX_SPAWN_TEXT_BYTES) in response.json()["errors"]["count"]
    # What was measured from outside: count 50 with about 19 KB of equipment, treasure and spells.
    thick = {"c": "x" * 6_300}
    abuse = {**over, "count": 50, "equipment": thick, "treasure": thick, "spells": thick}
    response = await dm.post("/api/monsters/create-instance.php", abuse)
    assert response.status_code == 400 and "count" in response.json()["errors"]
    assert await head(dm, session_id) == before
    listed = (await dm.get("/api/monsters/list-instances.php", session_id=session_id)).json()["data"]
    assert listed["instances"] == []


async def test_an_update_with_every_text_at_its_limit_records_a_compact_event(server: LiveServer):
    dm, (player,), session_id = await game_table(server, players=1)
    (instance,) = (
        await dm.ok("/api/monsters/create-instance.php", {"monster_id": await goblin_id(dm), "session_id": session_id})
    )["instances"]
    before = await head(dm, session_id)
    # 20,000 characters of JSON each, two bytes apiece in UTF-8: about 120 KB of texts in one update.
    widest = {"c": CANARY + "é" * (20_000 - len(json.dumps({"c": ""}, separators=(",", ":"))) - len(CANARY))}
    change = {
        "instance_id": instance["instance_id"],
        "equipment": widest,
        "treasure": widest,
        "spells": widest,
        "notes": CANARY + "é" * (5_000 - len(CANARY)),
    }
    updated = await dm.ok("/api/monsters/update-instance.php", change)
    assert updated["equipment"] == widest and updated["notes"] == change["notes"]
    for client in (dm, player):
        (event,) = await events_after(client, session_id, before)
        assert event["event_type"] == "monster_instance_updated"
        assert event["event_data"]["instance_id"] == instance["instance_id"]
        encoded = json.dumps(event, ensure_ascii=False)
        assert CANARY not in encoded and len(encoded.encode()) < MAX_EVENT_BYTES
    (dm_event,) = await events_after(dm, session_id, before)
    assert dm_event["event_data"]["changed_fields"] == ["equipment", "notes", "spells", "treasure"]


async def test_the_initiative_tracker_holds_at_most_its_bound_and_its_event_fits(server: LiveServer):
    dm, _, session_id = await game_table(server, players=0)
    monster_id = await goblin_id(dm)
    ids = []
    for _ in range(MAX_COMBATANTS // 50 + 1):
        spawned = await dm.ok(
            "/api/monsters/create-instance.php", {"monster_id": monster_id, "session_id": session_id, "count": 50}
        )
        ids += [instance["instance_id"] for instance in spawned["instances"]]
    for instance_id in ids[:MAX_COMBATANTS]:
        # The longest names, four bytes a character in UTF-8: the largest tracker event there can be.
        await dm.ok("/api/monsters/update-instance.php", {"instance_id": instance_id, "instance_name": DRAGONS})
        tracker = await dm.ok(
            "/api/combat/add-monster.php", {"session_id": session_id, "monster_instance_id": instance_id}
        )
    assert len(tracker["initiatives"]) == MAX_COMBATANTS
    before = await head(dm, session_id)
    response = await dm.post(
        "/api/combat/add-monster.php", {"session_id": session_id, "monster_instance_id": ids[MAX_COMBATANTS]}
    )
    assert response.status_code == 400, response.text
    assert str(MAX_COMBATANTS) in response.json()["errors"]["monster_instance_id"]
    assert await head(dm, session_id) == before
    (event,) = await events_after(dm, session_id, before - 1)
    assert (
        event["event_type"] == "initiative_updated" and DRAGONS in event["event_data"]["initiatives"][0]["entity_name"]
    )
    assert len(json.dumps(event, ensure_ascii=False).encode()) < MAX_EVENT_BYTES  # about 37 KB
