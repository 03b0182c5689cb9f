"""Joining a table with a battle map: the snapshot carries the active map, so neither screen asks for it
again, and the fog (sent in runs) is drawn as the DM revealed it."""

from __future__ import annotations

from tests.browser.seats import TIMEOUT, expect, open_seat, sit_at_table
from tests.live import FIGHTER, LiveServer, game_table, map_image, upload_map


async def test_joining_shows_the_snapshots_map_without_asking_again(browser, server: LiveServer):
    dm, (player,), session_id = await game_table(server, players=1)
    character = await player.ok("/api/character/create.php", {**FIGHTER, "session_id": session_id})
    map_id = (await upload_map(dm, session_id, map_image(400, 300))).json()["data"]["map_id"]
    add = "/api/session/maps/tokens/add.php"
    mine = await dm.ok(
        add, {"map_id": map_id, "character_id": character["character_id"], "x_position": 125, "y_position": 125}
    )
    fogged = await dm.ok(add, {"map_id": map_id, "label": "Lurker", "x_position": 175, "y_position": 125})
    # Row 2: columns 0-2 and 4-5 (a gap at 3, where the lurker stands); row 3: column 1.
    cells = [[0, 2], [1, 2], [2, 2], [4, 2], [5, 2], [1, 3]]
    await dm.ok("/api/session/maps/fog/reveal.php", {"map_id": map_id, "cells": cells})

    for name, role in ((player.user["username"], "player"), (dm.user["username"], "dm")):
        seat = await open_seat(browser, server, name)
        await sit_at_table(seat, session_id)
        page = seat.page
        await expect(page.locator(f'.panel-map .token[data-token-id="{mine["token_id"]}"]')).to_be_visible(
            timeout=TIMEOUT
        )
        lurker = page.locator(f'.panel-map .token[data-token-id="{fogged["token_id"]}"]')
        await expect(lurker).to_have_count(0 if role == "player" else 1)
        revealed = await page.evaluate("() => [...window.vttTable.battleMap.scene.revealed].sort()")
        assert revealed == sorted(f"{col},{row}" for col, row in cells)
        # The fog's holes: one per run along a row.
        holes = await page.evaluate(
            """() => [...document.querySelectorAll('.panel-map mask rect[fill=black]')]
                .map((r) => [r.getAttribute('x'), r.getAttribute('y'), r.getAttribute('width')].map(Number))"""
        )
        assert sorted(holes) == [[0, 100, 150], [50, 150, 50], [200, 100, 100]]
        await seat.settle()
        asked = [url.split("?")[0].rsplit("/", 1)[1] for url, _ in seat.responses if "/api/session/maps/" in url]
        # Besides the image (which may still be on its way, or come from the cache), the player asks nothing
        # of the maps; the DM only lists them (for the DM tools).
        assert sorted(set(asked) - {"image.php"}) == ([] if role == "player" else ["list.php"])
        assert seat.errors == [], seat.errors
