"""Getting to the table through the screens: registration errors, sessions, invitations, characters, turns."""

from __future__ import annotations

from tests.browser.seats import TIMEOUT, expect, open_seat
from tests.live import Client, LiveServer


async def test_registration_shows_the_api_message_and_each_field_error(browser, server: LiveServer):
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{server.url}/#/register")
    await page.get_by_label("Username").fill("x")
    await page.get_by_label("Email").fill("not-an-email")
    await page.get_by_label("Password").fill("short")
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_role("alert")).to_contain_text("Validation failed", timeout=TIMEOUT)
    username = page.get_by_label("Username")
    await expect(username).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#" + await username.get_attribute("id") + "-error")).to_contain_text("3-50")
    await expect(page.get_by_text("Email must be a valid email address")).to_be_visible()
    await expect(page.get_by_text("Password must be between 8 and 1024 characters")).to_be_visible()


async def test_from_a_new_session_to_your_turn(browser, server: LiveServer):
    dm = await Client(server).register()
    player = await Client(server).register()
    dm_seat = await open_seat(browser, server, dm.user["username"])
    player_seat = await open_seat(browser, server, player.user["username"], query="?transport=longpoll")
    dm_page, player_page = dm_seat.page, player_seat.page

    await dm_page.get_by_label("Title").fill("The Lost City")
    await dm_page.get_by_role("button", name="Create session").click()
    await expect(dm_page.get_by_role("heading", name="The Lost City")).to_be_visible(timeout=TIMEOUT)
    await expect(dm_page.get_by_label("Max players")).to_have_value("6")  # the form is reset, not blanked
    await dm_page.get_by_label("Invite a player to The Lost City").fill(player.user["username"])
    await dm_page.get_by_role("button", name="Invite").click()
    await expect(dm_page.locator("#status")).to_contain_text(f"Invited {player.user['username']}", timeout=TIMEOUT)

    await player_page.reload()
    await player_page.get_by_role("button", name="Accept invitation to The Lost City").click()
    await player_page.get_by_role("link", name="Open the table of The Lost City").click()
    await expect(player_seat.connection).to_have_text("Live (long-poll)", timeout=TIMEOUT)
    await dm_page.get_by_role("link", name="Open the table of The Lost City").click()
    await expect(dm_seat.connection).to_have_text("Live (WebSocket)", timeout=TIMEOUT)

    sheet = player_page.locator(".panel-character")
    await sheet.get_by_label("Name").fill("Morwen")
    await sheet.get_by_label("Class").select_option("elf")
    await sheet.get_by_label("STR").fill("19")
    await sheet.get_by_role("button", name="Create character").click()
    await expect(sheet.get_by_text("Strength must be between 3 and 18")).to_be_visible(timeout=TIMEOUT)
    await sheet.get_by_role("button", name="Roll 3d6 for each").click()
    await sheet.get_by_role("button", name="Create character").click()
    await expect(sheet.get_by_role("heading", name="Morwen")).to_be_visible(timeout=TIMEOUT)
    await expect(sheet).to_contain_text("Level 1 Elf")

    # The DM sees the new character without a reload, puts it in the fight and gives it the turn.
    await expect(dm_page.locator(".panel-party li", has_text="Morwen")).to_be_visible(timeout=TIMEOUT)
    await dm_page.get_by_label("Add to the fight").select_option(label="Morwen")
    await dm_page.get_by_role("button", name="Add", exact=True).click()
    await expect(dm_page.locator(".panel-initiative li", has_text="Morwen")).to_be_visible(timeout=TIMEOUT)
    await dm_page.get_by_role("button", name="Next turn").click()
    await expect(player_page.locator(".turn-banner")).to_have_text("Your turn, Morwen!", timeout=TIMEOUT)
    await expect(player_page.locator(".panel-initiative li[aria-current=step]")).to_contain_text("Morwen")
    await expect(player_page.locator(".panel-initiative .round")).to_have_text("Round 1")

    # XP: the award reaches the player's sheet.
    await dm_page.get_by_label("XP each").fill("250")
    await dm_page.get_by_role("button", name="Award XP").click()
    await expect(sheet).to_contain_text("250 XP", timeout=TIMEOUT)
    # The only console errors are the browser's note of the one refused (400) character creation.
    for seat in (dm_seat, player_seat):
        assert all("status of 400" in error for error in seat.errors), seat.errors
