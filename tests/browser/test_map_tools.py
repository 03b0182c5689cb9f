"""The map's drawing tools and the DM's map management in Chromium: a coloured stroke, an erase that
cuts it on every screen, renaming a map, moving its grid, deleting it."""

from __future__ import annotations

import io

from PIL import Image

from tests.browser.battle_map_story import drag, screen_point
from tests.browser.seats import TIMEOUT, Seat, expect, open_seat, sit_at_table
from tests.live import LiveServer, game_table, map_image, upload_map

MAGENTA = (255, 0, 255)


async def seated_with_map(browser, server: LiveServer) -> tuple[Seat, Seat, int]:
    dm, (player,), session_id = await game_table(server, players=1)
    map_id = (await upload_map(dm, session_id, map_image(400, 300))).json()["data"]["map_id"]
    cells = [[col, row] for col in range(-1, 9) for row in range(-1, 7)]
    await dm.ok("/api/session/maps/fog/reveal.php", {"map_id": map_id, "cells": cells})
    seats = []
    for client in (dm, player):
        seat = await open_seat(browser, server, client.user["username"])
        await sit_at_table(seat, session_id)
        await expect(seat.page.locator(".map-title")).to_have_text("Cellar", timeout=TIMEOUT)
        seats.append(seat)
    return seats[0], seats[1], map_id


async def pixel(seat: Seat, x: float, y: float) -> tuple[int, int, int]:
    """The colour on screen at map point (x, y)."""
    sx, sy = await screen_point(seat, x, y)
    shot = Image.open(io.BytesIO(await seat.page.screenshot())).convert("RGB")
    return shot.getpixel((round(sx), round(sy)))


async def drawings_count(seat: Seat, count: int) -> None:
    await seat.page.wait_for_function(
        "(n) => window.vttTable.battleMap.scene.drawings.length === n", arg=count, timeout=TIMEOUT
    )


async def test_a_coloured_stroke_and_an_erase_across_it_show_on_both_screens(browser, server: LiveServer):
    dm_seat, player_seat, _ = await seated_with_map(browser, server)
    toolbar = player_seat.page.locator(".map-toolbar")  # a player draws too
    await expect(toolbar.locator(".brush-options")).to_be_hidden()
    await toolbar.get_by_role("button", name="Draw", exact=True).click()
    await toolbar.get_by_label("Brush colour").fill("#ff00ff")
    await toolbar.get_by_label("Brush size").fill("20")
    await drag(player_seat, (20, 130), (380, 130))
    for seat in (player_seat, dm_seat):
        await drawings_count(seat, 1)
    stroke = await dm_seat.page.evaluate("() => window.vttTable.battleMap.scene.drawings[0]")
    assert (stroke["drawing_type"], stroke["color"], stroke["brush_size"]) == ("stroke", "#FF00FF", 20)

    await toolbar.get_by_role("button", name="Erase", exact=True).click()
    await expect(toolbar.get_by_label("Brush colour")).to_be_disabled()
    await toolbar.get_by_label("Brush size").fill("30")
    await drag(player_seat, (210, 20), (210, 280))
    for seat in (player_seat, dm_seat):
        await drawings_count(seat, 2)
        await seat.page.locator(".panel-map .board").scroll_into_view_if_needed()
        assert await pixel(seat, 110, 130) == MAGENTA  # the stroke where nothing erased it
        assert await pixel(seat, 210, 130) != MAGENTA  # cut through by the erase
    erase = await dm_seat.page.evaluate("() => window.vttTable.battleMap.scene.drawings[1]")
    assert (erase["drawing_type"], erase["brush_size"]) == ("erase", 30)
    for seat in (dm_seat, player_seat):
        assert seat.errors == [], seat.errors


async def test_the_dm_renames_moves_the_grid_of_and_deletes_a_map(browser, server: LiveServer):
    dm_seat, player_seat, map_id = await seated_with_map(browser, server)
    page = dm_seat.page
    page.on("dialog", lambda dialog: dialog.accept())
    tools = page.locator(".map-dm-tools")
    await tools.get_by_label("Rename the map to").fill("Lower cellar")
    await tools.get_by_role("button", name="Rename").click()
    await expect(player_seat.page.locator(".map-title")).to_have_text("Lower cellar", timeout=TIMEOUT)
    await expect(tools.locator("select[name=map_id]")).to_contain_text("Lower cellar")

    await tools.locator("input[name=grid_offset_x]").fill("10")
    await tools.locator("input[name=grid_offset_y]").fill("20")
    await tools.get_by_role("button", name="Set grid").click()
    await player_seat.page.wait_for_function(
        "() => { const m = window.vttTable.battleMap.scene.map; return m.grid_offset_x + m.grid_offset_y === 30; }",
        timeout=TIMEOUT,
    )
    grid = await player_seat.page.evaluate(
        "() => [...document.querySelectorAll('.panel-map pattern')]"
        ".map((p) => [p.getAttribute('x'), p.getAttribute('y')])"
    )
    assert grid == [["10", "20"]]

    await tools.get_by_role("button", name="Delete map").click()
    # The empty-map line is always there, hidden while a map shows: wait for it to show, not for its text.
    await expect(page.locator(".map-empty")).to_be_visible(timeout=TIMEOUT)
    await expect(page.locator(".map-empty")).to_have_text("No map yet: upload one.")
    await expect(player_seat.page.locator(".map-empty")).to_be_visible(timeout=TIMEOUT)
    await expect(player_seat.page.locator(".map-empty")).to_have_text("The DM has not shown a map yet.")
    maps = (
        await dm_seat.page.evaluate(
            "() => window.vttTable.vtt.get('session/maps/list.php', {session_id: window.vttTable.sessionId})"
        )
    )["maps"]
    assert maps == [] and map_id
    for seat in (dm_seat, player_seat):
        assert seat.errors == [], seat.errors
