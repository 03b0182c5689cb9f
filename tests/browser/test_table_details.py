"""Small things a new user trips over: an error toast that outlives the next success, an empty party
panel that says nothing, classes and alignments in lower case, an XP line without amount or reason, and
"0 / 8 HP — down!" cut off in the character panel."""

from __future__ import annotations

from tests.browser.seats import TIMEOUT, expect, open_seat, sit_at_table
from tests.live import FIGHTER, game_table, map_image, upload_map


async def test_an_error_goes_once_the_next_action_succeeds_and_the_party_panel_says_when_empty(browser, server):
    dm, (player,), session_id = await game_table(server, players=1)
    await upload_map(dm, session_id, map_image(400, 300))
    player_seat = await open_seat(browser, server, player.user["username"])
    await sit_at_table(player_seat, session_id)
    await expect(player_seat.page.locator(".panel-party")).to_contain_text("No characters yet.", timeout=TIMEOUT)
    character = await player.ok("/api/character/create.php", {**FIGHTER, "session_id": session_id})
    await expect(player_seat.page.locator(".panel-party")).to_contain_text("Fighter 1", timeout=TIMEOUT)
    await expect(player_seat.page.locator(".panel-party p.muted")).to_be_hidden()
    await dm.ok("/api/character/update-hp.php", {"character_id": character["character_id"], "damage": 100})
    down = player_seat.page.locator(".panel-character .hp-text")
    await expect(down).to_contain_text("down!", timeout=TIMEOUT)
    assert await down.evaluate("(el) => el.scrollWidth <= el.clientWidth")  # the whole line shows, not cut
    grant = {"session_id": session_id, "character_ids": [character["character_id"]], "xp_amount": 150}
    await dm.ok("/api/character/grant-xp.php", {**grant, "reason": "the goblin cave"})
    await expect(player_seat.page.locator(".table-log")).to_contain_text(
        "Aldric gains 150 XP (the goblin cave)", timeout=TIMEOUT
    )

    dm_seat = await open_seat(browser, server, dm.user["username"])
    await sit_at_table(dm_seat, session_id)
    page = dm_seat.page
    await expect(page.locator(".map-title")).to_have_text("Cellar", timeout=TIMEOUT)
    grid = page.locator(".map-dm-actions input[name=grid_size]")
    await grid.fill("5")
    await page.get_by_role("button", name="Set grid").click()
    await expect(page.locator("#status.error")).to_be_visible(timeout=TIMEOUT)
    await grid.fill("40")
    await page.get_by_role("button", name="Set grid").click()
    await expect(page.locator("#status")).to_be_hidden(timeout=TIMEOUT)
    for seat in (dm_seat, player_seat):
        await seat.close()
