"""A player on a phone (390 x 844, touch): the battle map fits the screen, pans under a finger and their
token moves by touch; and the table log shows its newest line whole after many lines."""

from __future__ import annotations

from tests.browser.battle_map_story import screen_point, token_at
from tests.browser.seats import TIMEOUT, Seat, expect, open_seat, sit_at_table
from tests.live import FIGHTER, LiveServer, game_table, map_image, spawn, upload_map

PHONE = {"width": 390, "height": 844}


async def touch_drag(seat: Seat, start: tuple[float, float], end: tuple[float, float], steps: int = 10) -> None:
    """One finger from `start` to `end` (page coordinates), as the phone's touch screen sends it."""
    cdp = await seat.context.new_cdp_session(seat.page)
    (x0, y0), (x1, y1) = start, end
    await cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y0}]})
    for step in range(1, steps + 1):
        x, y = x0 + (x1 - x0) * step / steps, y0 + (y1 - y0) * step / steps
        await cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    await cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    await cdp.detach()


async def test_the_players_map_on_a_phone_fits_pans_and_moves_their_token(browser, server: LiveServer):
    dm, (player,), session_id = await game_table(server, players=1)
    character = await player.ok("/api/character/create.php", {**FIGHTER, "session_id": session_id})
    map_id = (await upload_map(dm, session_id, map_image(800, 600))).json()["data"]["map_id"]
    token = await dm.ok(
        "/api/session/maps/tokens/add.php",
        {"map_id": map_id, "character_id": character["character_id"], "x_position": 225, "y_position": 225},
    )
    cells = [[col, row] for col in range(-1, 17) for row in range(-1, 13)]
    await dm.ok("/api/session/maps/fog/reveal.php", {"map_id": map_id, "cells": cells})
    seat = await open_seat(browser, server, player.user["username"], viewport=PHONE, touch=True)
    await sit_at_table(seat, session_id)
    page = seat.page
    board = page.locator(".panel-map .board")
    mine = page.locator(f'.panel-map .token[data-token-id="{token["token_id"]}"]')
    await expect(mine).to_be_visible(timeout=TIMEOUT)
    await board.scroll_into_view_if_needed()
    box = await board.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert box["height"] >= 200  # a map one can play on, not a sliver
    # The whole map fits the board's width when the table opens.
    left, _ = await screen_point(seat, 0, 0)
    right, _ = await screen_point(seat, 800, 0)
    assert box["x"] - 1 <= left < right <= box["x"] + box["width"] + 1
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    toolbar = page.locator(".map-toolbar")
    assert await toolbar.evaluate("(el) => el.scrollWidth <= el.clientWidth")

    # Pan: a finger on the map's background drags the view.
    before = await page.evaluate("() => ({...window.vttTable.battleMap.camera})")
    start = await screen_point(seat, 600, 450)
    await touch_drag(seat, start, (start[0] - 60, start[1] - 40))
    after = await page.evaluate("() => ({...window.vttTable.battleMap.camera})")
    assert round(after["x"] - before["x"]) == -60 and round(after["y"] - before["y"]) == -40

    # Move: a finger on their own token drags it; the drop is saved.
    start = await screen_point(seat, 225, 225)
    end = await screen_point(seat, 425, 325)
    await touch_drag(seat, start, end)
    await page.wait_for_function(
        """(id) => { const t = window.vttTable.battleMap.scene.tokens.get(id);
                     return t && Math.abs(t.x_position - 425) < 2 && Math.abs(t.y_position - 325) < 2; }""",
        arg=token["token_id"],
        timeout=TIMEOUT,
    )
    moved = (await dm.get("/api/session/maps/tokens/list.php", map_id=map_id)).json()["data"]["tokens"][0]
    assert abs(moved["x_position"] - 425) < 2 and abs(moved["y_position"] - 325) < 2
    assert await token_at(seat, token["token_id"]) is not None
    assert seat.errors == [], seat.errors


async def test_the_newest_log_line_is_shown_whole_after_many_lines(browser, server: LiveServer):
    dm, (player,), session_id = await game_table(server, players=1)
    (goblin,) = (await spawn(dm, session_id, custom_hp=50))["instances"]
    seat = await open_seat(browser, server, player.user["username"], viewport=PHONE)
    await sit_at_table(seat, session_id)
    log = seat.page.locator(".panel-log .table-log")
    for _ in range(40):
        await dm.ok("/api/monsters/update-hp.php", {"instance_id": goblin["instance_id"], "damage": 1})
    text = "A long last word from the phone, long enough to wrap over several lines of the log. " * 3
    await seat.page.get_by_label("Message").fill(text.strip())
    await seat.page.get_by_role("button", name="Send").click()
    last = log.locator("li").last
    await expect(last).to_contain_text("A long last word", timeout=TIMEOUT)
    await expect(log.locator("li", has_text="looks")).to_have_count(40, timeout=TIMEOUT)
    # The list is scrolled to its end, and the last line lies wholly inside the list's visible box.
    await seat.page.wait_for_function(
        """() => { const list = document.querySelector('.panel-log .table-log');
                   return list.scrollHeight - list.scrollTop - list.clientHeight <= 1; }""",
        timeout=TIMEOUT,
    )
    inside = await log.evaluate(
        """(list) => {
            const box = list.getBoundingClientRect();
            const line = list.lastElementChild.getBoundingClientRect();
            return [line.top >= box.top - 0.5, line.bottom <= box.top + list.clientHeight + 0.5, line.height];
        }"""
    )
    assert inside[:2] == [True, True] and inside[2] > 20, inside
    assert seat.errors == [], seat.errors
