"""The table log in Chromium: a public roll from the sheet, the DM's blind roll, a whisper by clicking a
name and one to two members ticked in "To", and chat text shown as text; on a WebSocket and a long-poll seat."""

from __future__ import annotations

import json
import re
import uuid

from tests.browser.seats import TIMEOUT, expect, open_seat, received_by, sit_at_table
from tests.live import FIGHTER, LiveServer, game_table


async def test_rolls_and_whispers_reach_only_whom_they_may(browser, server: LiveServer):
    dm, (p1, p2), session_id = await game_table(server)
    await p1.ok("/api/character/create.php", {**FIGHTER, "session_id": session_id})
    dm_seat = await open_seat(browser, server, dm.user["username"])
    p1_seat = await open_seat(browser, server, p1.user["username"])
    p2_seat = await open_seat(
        browser, server, p2.user["username"], query="?transport=longpoll", viewport={"width": 390, "height": 844}
    )
    for seat in (dm_seat, p1_seat, p2_seat):
        await sit_at_table(seat, session_id)
    await expect(p2_seat.connection).to_have_text("Live (long-poll)", timeout=TIMEOUT)
    dm_log, p1_log, p2_log = (seat.page.locator(".panel-log .table-log") for seat in (dm_seat, p1_seat, p2_seat))

    # A player rolls publicly from the sheet: the DM sees every die.
    await p1_seat.page.get_by_role("button", name="Roll STR check (1d20)").click()
    public = dm_log.locator(".entry.roll", has_text="STR check")
    await expect(public).to_have_count(1, timeout=TIMEOUT)
    await expect(public.locator(".die")).to_have_count(1)
    await expect(p2_log.locator(".entry.roll", has_text="STR check")).to_have_count(1, timeout=TIMEOUT)

    # The DM rolls blind: the DM sees the dice, the dropped one struck through; the players only that a
    # roll was made, and no number of it reaches their pages.
    await dm_seat.page.get_by_label("Dice", exact=True).fill("4d6kh3+7777")
    await dm_seat.page.get_by_label("Who sees the roll").select_option("blind")
    await dm_seat.page.get_by_role("button", name="Roll", exact=True).click()
    mine = dm_log.locator(".entry.roll", has_text="4d6kh3+7777")
    await expect(mine).to_have_count(1, timeout=TIMEOUT)
    await expect(mine.locator(".die")).to_have_count(4)
    await expect(mine.locator("s.die.dropped")).to_have_count(1)
    for log in (p1_log, p2_log):
        await expect(log.locator(".entry.roll.hidden")).to_have_count(1, timeout=TIMEOUT)
        await expect(log.locator(".entry.roll.hidden")).to_contain_text("rolled blind")
        await expect(log).not_to_contain_text("7777")

    # p2 says hello; p1 whispers to p2 by clicking p2's name in the log.
    await p2_seat.page.get_by_label("Message").fill("<img src=x onerror=alert(1)> hello")
    await p2_seat.page.get_by_role("button", name="Send").click()
    hello = p1_log.locator(".entry.chat", has_text="hello")
    await expect(hello).to_have_count(1, timeout=TIMEOUT)
    await expect(hello.locator(".text")).to_have_text("<img src=x onerror=alert(1)> hello")  # text, not HTML
    for log in (dm_log, p1_log, p2_log):
        await expect(log.locator("img")).to_have_count(0)
    await hello.get_by_role("button", name=f"Whisper to {p2.user['username']}").click()
    secret = f"whisper-{uuid.uuid4().hex[:8]}"
    await p1_seat.page.get_by_label("Message").fill(secret)
    await p1_seat.page.get_by_role("button", name="Send").click()
    for log in (p1_log, p2_log):
        await expect(log.locator(".entry.chat.whisper", has_text=secret)).to_have_count(1, timeout=TIMEOUT)
    # The DM's page never received it: a public line after it arrives, the whisper does not.
    await p1.ok("/api/chat/send.php", {"session_id": session_id, "text": "after the whisper"})
    await expect(dm_log.locator(".entry.chat", has_text="after the whisper")).to_have_count(1, timeout=TIMEOUT)
    await expect(dm_log).not_to_contain_text(secret)
    assert secret not in json.dumps(await received_by(dm_seat))
    # Whispers go to as many as "To" ticks: p1 adds the DM beside p2, and both get the next one.
    await expect(p1_seat.page.locator(".to-summary")).to_have_text(f"whisper to {p2.user['username']}")
    await p1_seat.page.get_by_role("checkbox", name=dm.user["username"]).check()
    both = f"whisper-{uuid.uuid4().hex[:8]}"
    await p1_seat.page.get_by_role("textbox", name="Message").fill(both)
    await p1_seat.page.get_by_role("button", name="Send").click()
    for log in (dm_log, p1_log, p2_log):
        await expect(log.locator(".entry.chat.whisper", has_text=both)).to_have_count(1, timeout=TIMEOUT)
    for seat in (p1_seat, p2_seat):
        # The blind roll's expression and modifier as they would be encoded (a bare "7777" can be part of a
        # poll answer's timestamp).
        received = json.dumps(await received_by(seat))
        assert "4d6kh3+7777" not in received and '"modifier": 7777' not in received
    for seat in (dm_seat, p1_seat, p2_seat):
        assert seat.errors == [], seat.errors


async def test_the_log_fills_in_from_the_event_log_after_a_reload(browser, server: LiveServer):
    dm, (player, _), session_id = await game_table(server)
    await player.ok("/api/chat/send.php", {"session_id": session_id, "text": "first words"})
    await dm.ok("/api/dice/roll.php", {"session_id": session_id, "expression": "2d20kl1", "label": "Ambush"})
    seat = await open_seat(browser, server, player.user["username"])
    await sit_at_table(seat, session_id)
    log = seat.page.locator(".panel-log .table-log")
    await expect(log.locator(".entry")).to_have_count(4, timeout=TIMEOUT)  # two joins, the message, the roll
    await expect(log.locator(".entry").last).to_contain_text("Ambush")  # newest at the bottom
    await expect(log.locator(".entry.roll s.die.dropped")).to_have_count(1)
    await seat.page.reload()
    await expect(log.locator(".entry")).to_have_count(4, timeout=TIMEOUT)
    await expect(log.locator(".entry").first).to_contain_text("joined the table")


async def test_the_dm_rolls_damage_and_it_is_applied_in_one_action(browser, server: LiveServer):
    dm, (player, _), session_id = await game_table(server)
    monsters = (await dm.get("/api/monsters/list.php", search="Goblin")).json()["data"]["monsters"]
    await dm.ok(
        "/api/monsters/create-instance.php",
        {"monster_id": monsters[0]["monster_id"], "session_id": session_id, "custom_hp": 500, "count": 1},
    )
    dm_seat = await open_seat(browser, server, dm.user["username"])
    player_seat = await open_seat(browser, server, player.user["username"])
    for seat in (dm_seat, player_seat):
        await sit_at_table(seat, session_id)
    name = "Goblin #1"
    await dm_seat.page.get_by_label(f"Damage dice for {name}").fill("2d6+100")
    await dm_seat.page.get_by_role("button", name=f"Roll damage against {name}").click()
    roll = dm_seat.page.locator(".table-log .entry.roll", has_text=f"Damage to {name}")
    await expect(roll).to_have_count(1, timeout=TIMEOUT)
    total = int(await roll.locator(".total").text_content())
    assert 102 <= total <= 112
    hp = dm_seat.page.locator(".panel-monsters li", has_text=name).locator(".hp-text")
    await expect(hp).to_have_text(f"{500 - total} / 500 HP", timeout=TIMEOUT)
    # The roll was for the DM's eyes: the player learns that it was made, and how the goblin looks.
    await expect(player_seat.page.locator(".table-log .entry.roll.hidden")).to_have_count(1, timeout=TIMEOUT)
    await expect(player_seat.page.locator(".table-log")).to_contain_text(f"{name} looks wounded")
    assert not re.search(rf"(?<!\d){total}(?!\d)", json.dumps(await received_by(player_seat)))
