"""Screenshots of the DM screen and a player's screen in the middle of a fight, for the docs.

    python -m tests.browser.screenshots [--out docs/screenshots]

Starts its own server on a temporary database, seats a DM and two players, spawns monsters, rolls
initiative, deals some damage, starts the music, and writes dm.png, player.png and player-phone.png."""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from playwright.async_api import async_playwright

from server.settings import Settings
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.browser.seats import TIMEOUT, expect, open_seat, sit_at_table
from tests.live import Client, LiveServer

PARTY = [
    ("dm_morgana", None),
    ("brannoc", {"character_name": "Brannoc", "class": "fighter", "alignment": "lawful", "constitution": 16}),
    ("sister_ilse", {"character_name": "Sister Ilse", "class": "cleric", "alignment": "lawful", "constitution": 13}),
]
ABILITIES = {"strength": 13, "dexterity": 11, "constitution": 12, "intelligence": 10, "wisdom": 14, "charisma": 9}


async def table(server: LiveServer) -> tuple[Client, list[Client], int, list[dict]]:
    dm = await Client(server).register(PARTY[0][0])
    session = await dm.ok(
        "/api/session/create.php",
        {"session_title": "The Caves of Chaos", "session_datetime": "2099-01-01 19:00:00"},
    )
    sid = session["session_id"]
    players, characters = [], []
    for username, sheet in PARTY[1:]:
        player = await Client(server).register(username)
        await dm.ok("/api/session/invite-player.php", {"session_id": sid, "username": username})
        await player.ok("/api/session/accept-invitation.php", {"session_id": sid})
        characters.append(await player.ok("/api/character/create.php", {**ABILITIES, **sheet, "session_id": sid}))
        players.append(player)
    return dm, players, sid, characters


async def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        server = await LiveServer(Settings(database_url=f"sqlite:///{folder}/vtt.db", upload_dir=Path(folder))).start()
        try:
            dm, players, sid, characters = await table(server)
            goblins = await dm.ok(
                "/api/monsters/create-instance.php",
                {"monster_id": await monster(dm, "Goblin"), "session_id": sid, "count": 3},
            )
            ogre = await dm.ok(
                "/api/monsters/create-instance.php",
                {"monster_id": await monster(dm, "Ogre"), "session_id": sid, "count": 1},
            )
            for character in characters:
                await dm.ok(
                    "/api/combat/add-character.php", {"session_id": sid, "character_id": character["character_id"]}
                )
            for instance in goblins["instances"][:2] + ogre["instances"]:
                await dm.ok(
                    "/api/combat/add-monster.php", {"session_id": sid, "monster_instance_id": instance["instance_id"]}
                )
            await dm.ok("/api/combat/roll-initiative.php", {"session_id": sid, "mode": "individual"})
            await dm.ok("/api/combat/next-turn.php", {"session_id": sid})
            await dm.ok(
                "/api/monsters/update-hp.php", {"instance_id": goblins["instances"][0]["instance_id"], "damage": 1}
            )
            await dm.ok(
                "/api/monsters/update-hp.php", {"instance_id": goblins["instances"][2]["instance_id"], "damage": 50}
            )
            await dm.ok("/api/character/update-hp.php", {"character_id": characters[0]["character_id"], "damage": 4})
            await dm.ok(
                "/api/audio/control.php",
                {
                    "session_id": sid,
                    "action": "play",
                    "track_url": "/sounds/test-tone.wav",
                    "track_name": "Test tone",
                    "loop": True,
                    "volume": 60,
                },
            )

            brannoc, ilse = players
            await brannoc.ok("/api/chat/send.php", {"session_id": sid, "text": "I charge the big one!"})
            await brannoc.ok(
                "/api/dice/roll.php", {"session_id": sid, "expression": "1d20+2", "label": "Attack on the ogre"}
            )
            await dm.ok("/api/dice/roll.php", {"session_id": sid, "expression": "1d6", "visibility": "blind"})
            await ilse.ok(
                "/api/chat/send.php", {"session_id": sid, "text": "Careful, it looks hungry", "to": [brannoc.user_id]}
            )
            await ilse.ok("/api/dice/roll.php", {"session_id": sid, "expression": "4d6kh3", "label": "Strength"})

            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                dm_seat = await open_seat(browser, server, PARTY[0][0], viewport={"width": 1360, "height": 1000})
                await sit_at_table(dm_seat, sid)
                await expect(dm_seat.connection).to_have_text("Live (WebSocket)", timeout=TIMEOUT)
                await expect(dm_seat.page.locator(".panel-log li").first).to_be_visible(timeout=TIMEOUT)
                await dm_seat.page.locator(".panel-monsters").get_by_label("Search the bestiary").fill("gob")
                await dm_seat.page.get_by_role("button", name="Search").click()
                await expect(dm_seat.page.locator(".bestiary-results li").first).to_be_visible(timeout=TIMEOUT)
                await dm_seat.page.screenshot(path=str(out / "dm.png"), full_page=True)

                for name, viewport, full in (
                    ("player.png", {"width": 1360, "height": 900}, True),
                    ("player-phone.png", {"width": 390, "height": 844}, False),
                ):
                    seat = await open_seat(browser, server, PARTY[1][0], viewport=viewport)
                    await sit_at_table(seat, sid)
                    await expect(seat.connection).to_have_text("Live (WebSocket)", timeout=TIMEOUT)
                    await seat.page.get_by_role("button", name="Enable sound").click()
                    await expect(seat.page.locator(".now-playing")).to_have_text("Playing: Test tone", timeout=TIMEOUT)
                    await seat.page.evaluate("() => window.scrollTo(0, 0)")
                    await seat.page.screenshot(path=str(out / name), full_page=full)
                    await seat.close()
                await browser.close()
        finally:
            await server.stop()


async def monster(client: Client, name: str) -> int:
    response = await client.get("/api/monsters/list.php", search=name, limit=20)
    monsters = response.json()["data"]["monsters"]
    return next(m["monster_id"] for m in monsters if m["name"].lower() == name.lower())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    asyncio.run(main(parser.parse_args().out))
