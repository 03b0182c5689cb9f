"""The DM removes a monster from the DM screen: it leaves both screens' monster lists, the map and the
initiative tracker."""

from __future__ import annotations

from tests.browser.seats import TIMEOUT, expect, open_seat, sit_at_table
from tests.live import FIGHTER, LiveServer, game_table, map_image, spawn, upload_map


async def test_the_dm_removes_a_monster_and_it_leaves_every_screen(browser, server: LiveServer):
    dm, (player,), session_id = await game_table(server, players=1)
    character = await player.ok("/api/character/create.php", {**FIGHTER, "session_id": session_id})
    goblin, _ = (await spawn(dm, session_id, count=2))["instances"]
    map_id = (await upload_map(dm, session_id, map_image(400, 300))).json()["data"]["map_id"]
    token = await dm.ok(
        "/api/session/maps/tokens/add.php",
        {"map_id": map_id, "monster_instance_id": goblin["instance_id"], "x_position": 25, "y_position": 25},
    )
    await dm.ok("/api/session/maps/fog/reveal.php", {"map_id": map_id, "cells": [[0, 0]]})
    await dm.ok("/api/combat/add-character.php", {"session_id": session_id, "character_id": character["character_id"]})
    await dm.ok("/api/combat/add-monster.php", {"session_id": session_id, "monster_instance_id": goblin["instance_id"]})
    dm_seat = await open_seat(browser, server, dm.user["username"])
    player_seat = await open_seat(browser, server, player.user["username"])
    await sit_at_table(dm_seat, session_id)
    await sit_at_table(player_seat, session_id)
    dm_page, player_page = dm_seat.page, player_seat.page
    player_token = player_page.locator(f'.panel-map .token[data-token-id="{token["token_id"]}"]')
    await expect(player_token).to_be_visible(timeout=TIMEOUT)
    await expect(player_page.locator(".panel-monsters li", has_text="Goblin #1")).to_have_count(1, timeout=TIMEOUT)

    await expect(player_page.locator(".panel-initiative")).to_contain_text("Goblin #1", timeout=TIMEOUT)
    dialogs: list[str] = []

    async def accept(dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.accept()

    dm_page.on("dialog", accept)
    await dm_page.get_by_role("button", name="Remove Goblin #1 from the table").click()
    await expect(dm_page.locator(".panel-monsters li", has_text="Goblin #1")).to_have_count(0, timeout=TIMEOUT)
    assert dialogs and "Goblin #1" in dialogs[0]
    await expect(dm_page.locator(".panel-monsters li", has_text="Goblin #2")).to_have_count(1)
    await expect(player_page.locator(".panel-monsters li", has_text="Goblin #1")).to_have_count(0, timeout=TIMEOUT)
    await expect(player_token).to_have_count(0, timeout=TIMEOUT)
    await expect(dm_page.locator(f'.panel-map .token[data-token-id="{token["token_id"]}"]')).to_have_count(0)
    for page in (dm_page, player_page):
        await expect(page.locator(".panel-initiative")).not_to_contain_text("Goblin #1", timeout=TIMEOUT)
        await expect(page.locator(".table-log")).to_contain_text("Goblin #1 is removed from the table", timeout=TIMEOUT)
    for seat in (dm_seat, player_seat):
        assert seat.errors == [], seat.errors
