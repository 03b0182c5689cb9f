"""Different kinds of change racing each other in one game session, on PostgreSQL where row locks are
real: nobody waits on anybody in opposite orders (no deadlock, no 500), and the log stays gapless."""

from __future__ import annotations

import asyncio
import dataclasses

from server.settings import Settings
from tests.live import FIGHTER, LiveServer, game_table, spawn


async def test_mixed_concurrent_changes_never_deadlock(settings: Settings, postgres_url: str):
    server = await LiveServer(dataclasses.replace(settings, database_url=postgres_url)).start()
    try:
        dm, players, session_id = await game_table(server, players=2)
        heroes = [await p.ok("/api/character/create.php", {**FIGHTER, "session_id": session_id}) for p in players]
        goblins = (await spawn(dm, session_id, count=3))["instances"]
        socket = await dm.socket(session_id, last_event_id=10**9)
        head = (await socket.frame())["head_event_id"]

        def calls(round_: int):
            hero, goblin = heroes[round_ % 2], goblins[round_ % 3]
            owner = players[round_ % 2]
            yield owner.post("/api/character/update-hp.php", {"character_id": hero["character_id"], "healing": 1})
            yield dm.post(
                "/api/combat/add-character.php", {"session_id": session_id, "character_id": hero["character_id"]}
            )
            yield dm.post("/api/monsters/update-hp.php", {"instance_id": goblin["instance_id"], "healing": 1})
            yield dm.post(
                "/api/combat/add-monster.php", {"session_id": session_id, "monster_instance_id": goblin["instance_id"]}
            )
            yield dm.post("/api/combat/next-turn.php", {"session_id": session_id})
            yield dm.post(
                "/api/character/grant-xp.php",
                {"session_id": session_id, "character_ids": [h["character_id"] for h in heroes], "xp_amount": 10},
            )
            yield dm.post("/api/audio/control.php", {"session_id": session_id, "action": "volume", "volume": round_})

        answers = await asyncio.gather(*(call for round_ in range(8) for call in calls(round_)))
        statuses = [answer.status_code for answer in answers]
        # Adding a combatant that is already in the tracker is a 400; everything else succeeds.
        assert set(statuses) <= {200, 400}, [a.text for a in answers if a.status_code not in (200, 400)]
        assert statuses.count(200) >= 7 * 8 - 2 * 8
        events = await socket.events(statuses.count(200), timeout=30)  # each change records one event or more
        ids = [event["event_id"] for event in events]
        assert ids == list(range(head + 1, head + 1 + len(ids)))
    finally:
        await server.stop()
