"""The DM's polygon fog tool in Chromium: corners clicked on the map, the cells inside revealed, and the
player's screen shows the token standing there."""

from __future__ import annotations

from tests.browser.battle_map_story import screen_point
from tests.browser.seats import TIMEOUT, expect, open_seat, sit_at_table
from tests.live import FIGHTER, LiveServer, game_table, map_image, upload_map


async def test_the_dm_reveals_a_polygon_and_the_player_sees_inside_it(browser, server: LiveServer):
    dm, (player,), session_id = await game_table(server, players=1)
    character = await player.ok("/api/character/create.php", {**FIGHTER, "session_id": session_id})
    map_id = (await upload_map(dm, session_id, map_image(400, 300))).json()["data"]["map_id"]
    add = "/api/session/maps/tokens/add.php"
    mine = await dm.ok(
        add, {"map_id": map_id, "character_id": character["character_id"], "x_position": 60, "y_position": 60}
    )
    dm_seat = await open_seat(browser, server, dm.user["username"])
    player_seat = await open_seat(browser, server, player.user["username"])
    await sit_at_table(dm_seat, session_id)
    await sit_at_table(player_seat, session_id)
    page = dm_seat.page
    await expect(page.locator(".panel-map .token")).to_have_count(1, timeout=TIMEOUT)

    toolbar = page.locator(".map-toolbar")
    await toolbar.get_by_role("button", name="Polygon").click()
    await expect(toolbar.locator(".polygon-count")).to_have_text("Click the map to set corners")
    await expect(toolbar.get_by_role("button", name="Reveal polygon")).to_be_disabled()
    # A triangle: the cells whose centre lies inside (x + y < 210) are rows 0-3 of columns 0-3, 0-2, 0-1, 0.
    await page.locator(".panel-map .board").scroll_into_view_if_needed()
    for x, y in ((5, 5), (205, 5), (5, 205)):
        await page.mouse.click(*await screen_point(dm_seat, x, y))
    await expect(toolbar.locator(".polygon-count")).to_have_text("3 corners")
    await toolbar.get_by_role("button", name="Reveal polygon").click()
    await expect(toolbar.locator(".polygon-count")).to_have_text("Click the map to set corners", timeout=TIMEOUT)

    token = player_seat.page.locator(f'.panel-map .token[data-token-id="{mine["token_id"]}"]')
    await expect(token).to_be_visible(timeout=TIMEOUT)
    revealed = await player_seat.page.evaluate("() => [...window.vttTable.battleMap.scene.revealed].sort()")
    assert revealed == sorted(f"{col},{row}" for row, cols in enumerate((4, 3, 2, 1)) for col in range(cols))
    await toolbar.get_by_role("button", name="Move", exact=True).click()
    await expect(toolbar.locator(".polygon-options")).to_be_hidden()
    for seat in (dm_seat, player_seat):
        assert seat.errors == [], seat.errors
