"""The table in real browsers: the DM's screen and a player's, live, with fallback and recovery."""

from __future__ import annotations

import json
from typing import Any

from tests.browser.seats import TIMEOUT, Seat, expect, hp_text, monster_numbers, open_seat, received_by, sit_at_table
from tests.live import FIGHTER, Client, LiveServer, game_table


async def fight(server: LiveServer) -> tuple[Client, Client, int, dict[str, Any]]:
    dm, (player,), session_id = await game_table(server, players=1)
    # CON 18 (+3): at least 4 HP, so 3 damage never drops the fighter and the screens show plain numbers.
    body = {**FIGHTER, "constitution": 18, "session_id": session_id}
    character = await player.ok("/api/character/create.php", body)
    return dm, player, session_id, character


async def seats(browser: Any, server: LiveServer, dm: Client, player: Client, session_id: int, **player_options: Any):
    dm_seat = await open_seat(browser, server, dm.user["username"])
    player_seat = await open_seat(browser, server, player.user["username"], **player_options)
    await sit_at_table(dm_seat, session_id)
    await sit_at_table(player_seat, session_id)
    return dm_seat, player_seat


async def deal_damage(seat: Seat, name: str, amount: int, panel: str = "party") -> None:
    row = seat.page.locator(f".panel-{panel} li", has_text=name)
    await row.get_by_label(f"Amount for {name}").fill(str(amount))
    await row.get_by_role("button", name=f"Damage {name}").click()


def hello_heads(seat: Seat) -> list[int]:
    frames = [json.loads(frame) for frame in seat.frames if isinstance(frame, str)]
    return [frame["head_event_id"] for frame in frames if frame.get("type") == "hello"]


def no_errors(*seated: Seat) -> None:
    for seat in seated:
        assert seat.errors == [], seat.errors


async def test_dm_damage_shows_on_the_player_screen_over_websocket(browser, server):
    dm, player, session_id, character = await fight(server)
    dm_seat, player_seat = await seats(browser, server, dm, player, session_id)
    for seat in (dm_seat, player_seat):
        await expect(seat.connection).to_have_text("Live (WebSocket)", timeout=TIMEOUT)
    full = f"{character['max_hp']} / {character['max_hp']} HP"
    await expect(hp_text(player_seat, "party", "Aldric")).to_have_text(full, timeout=TIMEOUT)
    await expect(hp_text(player_seat, "character", "Aldric")).to_have_text(full, timeout=TIMEOUT)

    await deal_damage(dm_seat, "Aldric", 3)
    expected = f"{max(0, character['max_hp'] - 3)} / {character['max_hp']} HP"
    await expect(hp_text(dm_seat, "party", "Aldric")).to_have_text(expected, timeout=TIMEOUT)
    await expect(hp_text(player_seat, "party", "Aldric")).to_have_text(expected, timeout=TIMEOUT)
    await expect(hp_text(player_seat, "character", "Aldric")).to_have_text(expected, timeout=TIMEOUT)
    assert await player_seat.page.evaluate("() => performance.getEntriesByType('navigation').length") == 1
    assert any("character_hp_updated" in str(frame) for frame in player_seat.frames)
    no_errors(dm_seat, player_seat)


async def test_long_poll_takes_over_when_websockets_are_blocked(browser, server):
    dm, player, session_id, character = await fight(server)
    dm_seat, player_seat = await seats(browser, server, dm, player, session_id, block_websocket=True)
    await expect(dm_seat.connection).to_have_text("Live (WebSocket)", timeout=TIMEOUT)
    await expect(player_seat.connection).to_have_text("Live (long-poll)", timeout=TIMEOUT)

    await deal_damage(dm_seat, "Aldric", 2)
    expected = f"{max(0, character['max_hp'] - 2)} / {character['max_hp']} HP"
    await expect(hp_text(player_seat, "party", "Aldric")).to_have_text(expected, timeout=TIMEOUT)
    await player_seat.settle()
    polls = [body for url, body in player_seat.responses if "/api/realtime/poll.php" in url]
    assert any(event["event_type"] == "character_hp_updated" for body in polls for event in body["data"]["events"]), (
        "the damage arrived by long-poll"
    )
    assert not any(isinstance(frame, str) and '"hello"' in frame for frame in player_seat.frames)
    no_errors(dm_seat, player_seat)


async def test_both_screens_reconnect_after_a_server_restart_and_see_the_missed_event_once(browser, server):
    dm, player, session_id, character = await fight(server)
    dm_seat, player_seat = await seats(browser, server, dm, player, session_id)
    for seat in (dm_seat, player_seat):
        await expect(seat.connection).to_have_text("Live (WebSocket)", timeout=TIMEOUT)

    heads = {id(seat): hello_heads(seat) for seat in (dm_seat, player_seat)}

    await server.stop()
    # Both pages notice, and back off a few times; the event below is made while they are away.
    for seat in (dm_seat, player_seat):
        await expect(seat.connection).to_have_text("Offline", timeout=TIMEOUT)
        await seat.page.wait_for_function("() => window.vttTable.game._failures >= 3", timeout=TIMEOUT)
    # The damage is dealt through a second server on the same database and another port, which the pages do
    # not know: so they cannot reconnect in time to receive it live, however the back-off falls.
    elsewhere = await LiveServer(server.settings).start()
    try:
        dm_again = Client(elsewhere)
        assert (await dm_again.login(dm.user["username"])).status_code == 200
        await dm_again.ok("/api/character/update-hp.php", {"character_id": character["character_id"], "damage": 4})
    finally:
        await elsewhere.stop()
    await server.start()
    expected = f"{max(0, character['max_hp'] - 4)} / {character['max_hp']} HP"
    for seat in (dm_seat, player_seat):
        await expect(seat.connection).to_have_text("Live (WebSocket)", timeout=TIMEOUT)
        await expect(hp_text(seat, "party", "Aldric")).to_have_text(expected, timeout=TIMEOUT)
        dealt = f"takes {min(4, character['max_hp'])} damage"
        log_line = seat.page.locator(".panel-log li", has_text=dealt)
        await expect(log_line).to_have_count(1, timeout=TIMEOUT)
        delivered = await seat.page.evaluate(
            "(text) => window.vttTable.state.log.filter((entry) => entry.text.includes(text)).length", dealt
        )
        assert delivered == 1
        # The new hello already counted the event: it was replayed from the resume point, not sent live.
        before, after = heads[id(seat)], hello_heads(seat)
        assert len(after) == len(before) + 1 and after[-1] == before[-1] + 1
    # Same document throughout: nobody reloaded.
    for seat in (dm_seat, player_seat):
        assert await seat.page.evaluate("() => performance.getEntriesByType('navigation').length") == 1


async def test_the_player_never_receives_monster_hit_points(browser, server):
    dm, player, session_id, _ = await fight(server)
    dm_seat, player_seat = await seats(browser, server, dm, player, session_id)
    await expect(player_seat.connection).to_have_text("Live (WebSocket)", timeout=TIMEOUT)
    spawn = dm_seat.page.locator(".panel-monsters form.spawn")
    # An ogre (4+1 hit dice: at least 5 HP), so that 1 HP left is always "badly wounded".
    await spawn.get_by_label("Search the bestiary").fill("ogre")
    await spawn.get_by_role("button", name="Search").click()
    await spawn.get_by_role("button", name="Spawn Ogre", exact=True).click()
    await expect(dm_seat.page.locator(".panel-monsters li", has_text="Ogre #1")).to_be_visible(timeout=TIMEOUT)
    await expect(player_seat.page.locator(".panel-monsters li", has_text="Ogre #1")).to_contain_text(
        "unhurt", timeout=TIMEOUT
    )
    monster_hp = await dm_seat.page.locator(".panel-monsters li", has_text="Ogre #1").locator(".hp-text").inner_text()
    max_hp = int(monster_hp.split("/")[1].split()[0])
    await deal_damage(dm_seat, "Ogre #1", max_hp - 1, panel="monsters")
    await expect(hp_text(dm_seat, "monsters", "Ogre #1")).to_have_text(f"1 / {max_hp} HP", timeout=TIMEOUT)
    await expect(player_seat.page.locator(".panel-monsters li", has_text="Ogre #1")).to_contain_text(
        "badly wounded", timeout=TIMEOUT
    )
    # The DM adds it to the tracker: the player sees its name in the order, not its numbers.
    await dm_seat.page.get_by_role("button", name="Add Ogre #1 to initiative").click()
    await expect(player_seat.page.locator(".panel-initiative li", has_text="Ogre #1")).to_be_visible(timeout=TIMEOUT)

    received = await received_by(player_seat)
    assert any("monster_hp_updated" in str(body) for _, body in received)
    leaks = [(source, path) for source, body in received for path in monster_numbers(body)]
    assert leaks == [], leaks
    foes = await player_seat.page.locator(".panel-monsters").inner_text()
    assert "HP" not in foes and "/" not in foes, foes
    dm_only = [url for url, _ in player_seat.responses if "get-dm-dashboard" in url]
    assert dm_only == []
    no_errors(dm_seat, player_seat)


async def test_music_plays_on_the_player_screen_and_late_joiners_pick_it_up(browser, server):
    dm, player, session_id, _ = await fight(server)
    late = await Client(server).register()
    await dm.ok("/api/session/invite-player.php", {"session_id": session_id, "username": late.user["username"]})
    await late.ok("/api/session/accept-invitation.php", {"session_id": session_id})
    dm_seat, player_seat = await seats(browser, server, dm, player, session_id)
    await expect(player_seat.connection).to_have_text("Live (WebSocket)", timeout=TIMEOUT)
    await player_seat.page.get_by_role("button", name="Enable sound").click()

    await dm_seat.page.get_by_label("Loop").check()
    await dm_seat.page.get_by_role("button", name="▶ Play").click()
    await expect(player_seat.page.locator(".now-playing")).to_have_text("Playing: Test tone", timeout=TIMEOUT)
    playing = "() => { const el = document.querySelector('audio.music'); return !el.paused && el.currentTime > 0.2 }"
    await player_seat.page.wait_for_function(playing, timeout=TIMEOUT)

    late_seat = await open_seat(browser, server, late.user["username"])
    await sit_at_table(late_seat, session_id)
    await expect(late_seat.page.locator(".now-playing")).to_have_text("Playing: Test tone", timeout=TIMEOUT)
    await late_seat.page.get_by_role("button", name="Enable sound").click()
    await late_seat.page.wait_for_function(playing, timeout=TIMEOUT)
    hello = next(frame for frame in await received_by(late_seat) if frame[1].get("type") == "hello")[1]
    assert hello["audio"]["status"] == "playing" and hello["audio"]["position"] > 0

    await dm_seat.page.get_by_role("button", name="❚❚ Pause").click()
    paused = "() => document.querySelector('audio.music').paused"
    await player_seat.page.wait_for_function(paused, timeout=TIMEOUT)
    await late_seat.page.wait_for_function(paused, timeout=TIMEOUT)
    no_errors(dm_seat, player_seat, late_seat)
