"""The DM runs the game session from the DM screen: invite, start, remove a player, end."""

from __future__ import annotations

from tests.browser.seats import TIMEOUT, expect, open_seat, sit_at_table
from tests.live import Client, LiveServer, spawn


async def test_the_dm_invites_starts_removes_and_ends_from_the_screen(browser, server: LiveServer):
    dm = await Client(server).register()
    player = await Client(server).register()
    name = player.user["username"]
    title = "Keep on the Borderlands"
    new = {"session_title": title, "session_datetime": "2030-01-01 19:00:00"}
    created = await dm.ok("/api/session/create.php", new)
    session_id = created["session_id"]
    # A phone-width DM screen: the controls must be reachable there.
    dm_seat = await open_seat(browser, server, dm.user["username"], viewport={"width": 390, "height": 844})
    player_seat = await open_seat(browser, server, name)
    dm_page, player_page = dm_seat.page, player_seat.page
    dm_page.on("dialog", lambda dialog: dialog.accept())  # "End this game session?" and "Remove …?"

    await sit_at_table(dm_seat, session_id)
    seats = dm_page.locator(".panel-session")
    await expect(seats.locator(".session-status")).to_have_text("Status: Scheduled — not started yet", timeout=TIMEOUT)
    await expect(seats.get_by_role("button", name="End session")).to_be_hidden()
    # Nothing in the panel is wider than the phone's screen.
    assert await seats.evaluate("(el) => el.scrollWidth <= el.clientWidth")
    await seats.get_by_label("Invite a player by username").fill(name)
    await seats.get_by_role("button", name="Invite").click()
    await expect(seats.locator(".seats li", has_text=name)).to_contain_text("invited", timeout=TIMEOUT)

    # The player's side: the invitation on the sessions page, accepted, then the table.
    await player_page.reload()
    await player_page.get_by_role("button", name="Accept invitation to Keep on the Borderlands").click()
    await player_page.get_by_role("link", name="Open the table of Keep on the Borderlands").click()
    await expect(player_seat.connection).to_have_text("Live (WebSocket)", timeout=TIMEOUT)
    await expect(seats.locator(".seats li", has_text=name)).to_contain_text("player", timeout=TIMEOUT)

    await seats.get_by_role("button", name="Start session").click()
    await expect(seats.locator(".session-status")).to_have_text("Status: In play", timeout=TIMEOUT)
    await expect(seats.get_by_role("button", name="Start session")).to_be_hidden()
    await expect(player_page.locator(".table-log")).to_contain_text("The session is now active", timeout=TIMEOUT)

    await seats.get_by_role("button", name=f"Remove {name}").click()
    await expect(player_page.get_by_role("heading", name="You left this table")).to_be_visible(timeout=TIMEOUT)
    await expect(player_page.locator(".card[role=alert]")).to_contain_text("removed", timeout=TIMEOUT)
    await expect(seats.locator(".seats li", has_text=name)).to_have_count(0, timeout=TIMEOUT)
    await expect(seats.get_by_text("No players yet")).to_be_visible()

    await seats.get_by_role("button", name="End session").click()
    await expect(seats.locator(".session-status")).to_have_text("Status: Ended", timeout=TIMEOUT)
    await expect(seats.get_by_role("button", name="End session")).to_be_hidden()
    listed = (await dm.get("/api/session/list.php")).json()["data"]["sessions"]
    assert [s["status"] for s in listed] == ["completed"]
    for seat in (dm_seat, player_seat):
        assert seat.errors == [], seat.errors


async def test_the_sessions_page_starts_and_ends_a_session(browser, server: LiveServer):
    dm = await Client(server).register()
    new = {"session_title": "Isle of Dread", "session_datetime": "2030-01-01 19:00:00"}
    await dm.ok("/api/session/create.php", new)
    seat = await open_seat(browser, server, dm.user["username"], viewport={"width": 390, "height": 844})
    page = seat.page
    page.on("dialog", lambda dialog: dialog.accept())
    item = page.locator("li.session", has_text="Isle of Dread")
    await expect(item.locator(".meta")).to_contain_text("scheduled", timeout=TIMEOUT)
    await item.get_by_role("button", name="Start Isle of Dread").click()
    await expect(item.locator(".meta")).to_contain_text("active", timeout=TIMEOUT)
    await item.get_by_role("button", name="End Isle of Dread").click()
    await expect(item.locator(".meta")).to_contain_text("completed", timeout=TIMEOUT)
    await expect(item.get_by_role("button", name="End Isle of Dread")).to_have_count(0)
    assert seat.errors == [], seat.errors


async def test_the_dm_screen_shows_open_invitations_after_a_reload(browser, server: LiveServer):
    """The invitation is older than the events the page replays (the last 300): it comes from the snapshot."""
    dm = await Client(server).register()
    invitee = await Client(server).register()
    new = {"session_title": "Tomb of Horrors", "session_datetime": "2030-01-01 19:00:00"}
    session_id = (await dm.ok("/api/session/create.php", new))["session_id"]
    await dm.ok("/api/session/invite-player.php", {"session_id": session_id, "username": invitee.user["username"]})
    (goblin,) = (await spawn(dm, session_id, custom_hp=5))["instances"]
    for _ in range(301):
        await dm.ok("/api/monsters/update-hp.php", {"instance_id": goblin["instance_id"], "healing": 1})
    seat = await open_seat(browser, server, dm.user["username"])
    await sit_at_table(seat, session_id)
    seats = seat.page.locator(".panel-session .seats")
    name = invitee.user["username"]
    await expect(seats.locator("li", has_text=name)).to_contain_text("invited", timeout=TIMEOUT)
    await seat.page.reload()
    await expect(seats.locator("li", has_text=name)).to_contain_text("invited", timeout=TIMEOUT)
    await expect(seat.page.get_by_role("button", name=f"Withdraw the invitation of {name}")).to_be_visible()
    # Not at the table yet: no whisper to them.
    await expect(seat.page.locator(".panel-log .recipients")).not_to_contain_text(name)
    assert seat.errors == [], seat.errors
