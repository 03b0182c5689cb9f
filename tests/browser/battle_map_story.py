"""The battle map in two real browsers, as a table uses it: the DM uploads a map, places tokens and
reveals a room; the player's screen shows their token appear (the goblin under fog never does); the
player drags their token and the DM's screen follows. Used by tests/browser/test_battle_map.py, and to
regenerate the docs' screenshots:

    python -m tests.browser.battle_map_story [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import tempfile
from pathlib import Path
from typing import Any

from tests.browser.seats import TIMEOUT, Seat, expect, open_seat, sit_at_table
from tests.live import FIGHTER, LiveServer, game_table

ROOM_A = (450, 300, 750, 600)  # the map's middle room, where new tokens land
ROOM_B = (900, 100, 1150, 350)


def dungeon_png() -> bytes:
    """A 1200 x 900 dungeon: two rooms and a corridor on rock, drawn with Pillow."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1200, 900), (58, 52, 46))
    draw = ImageDraw.Draw(image)
    for left, top, right, bottom in (ROOM_A, ROOM_B, (100, 600, 350, 850)):
        draw.rectangle((left - 10, top - 10, right + 10, bottom + 10), fill=(30, 27, 24))
        draw.rectangle((left, top, right, bottom), fill=(176, 160, 128))
    draw.rectangle((750, 420, 1025, 470), fill=(150, 136, 110))  # corridor from A towards B
    draw.rectangle((1000, 350, 1050, 470), fill=(150, 136, 110))
    draw.rectangle((200, 560, 250, 600), fill=(150, 136, 110))
    draw.rectangle((200, 450, 450, 500), fill=(150, 136, 110))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


async def screen_point(seat: Seat, x: float, y: float) -> tuple[float, float]:
    """Where map point (x, y) is on the page."""
    point = await seat.page.evaluate(
        """([x, y]) => {
            const camera = document.querySelector('.panel-map .camera');
            const p = new DOMPoint(x, y).matrixTransform(camera.getScreenCTM());
            return [p.x, p.y];
        }""",
        [x, y],
    )
    return point[0], point[1]


async def drag(seat: Seat, start: tuple[float, float], end: tuple[float, float], steps: int = 12) -> None:
    page = seat.page
    await page.locator(".panel-map .board").scroll_into_view_if_needed()
    await page.mouse.move(*await screen_point(seat, *start))
    await page.mouse.down()
    await page.mouse.move(*await screen_point(seat, *end), steps=steps)
    await page.mouse.up()


async def token_at(seat: Seat, token_id: int) -> tuple[float, float] | None:
    return await seat.page.evaluate(
        """(id) => {
            const token = window.vttTable.battleMap.scene.tokens.get(id);
            return token ? [token.x_position, token.y_position] : null;
        }""",
        token_id,
    )


async def wait_token_at(seat: Seat, token_id: int, x: float, y: float) -> None:
    await seat.page.wait_for_function(
        """([id, x, y]) => {
            const token = window.vttTable.battleMap.scene.tokens.get(id);
            return token && Math.abs(token.x_position - x) < 1 && Math.abs(token.y_position - y) < 1;
        }""",
        arg=[token_id, x, y],
        timeout=TIMEOUT,
    )


async def tokens_by_label(seat: Seat) -> dict[str, int]:
    return await seat.page.evaluate(
        "() => Object.fromEntries([...window.vttTable.battleMap.scene.tokens.values()].map(t => [t.label, t.token_id]))"
    )


async def story(browser: Any, server: LiveServer, out: Path | None = None) -> dict[str, Any]:
    dm, (player,), session_id = await game_table(server, players=1)
    await player.ok("/api/character/create.php", {**FIGHTER, "constitution": 16, "session_id": session_id})
    goblin_id = (await dm.get("/api/monsters/list.php", search="Goblin")).json()["data"]["monsters"][0]["monster_id"]
    await dm.ok("/api/monsters/create-instance.php", {"session_id": session_id, "monster_id": goblin_id})
    dm_seat = await open_seat(browser, server, dm.user["username"])
    player_seat = await open_seat(browser, server, player.user["username"])
    await sit_at_table(dm_seat, session_id)
    await sit_at_table(player_seat, session_id)
    await expect(player_seat.page.locator(".map-empty")).to_have_text("The DM has not shown a map yet.")

    page = dm_seat.page
    await page.locator(".map-upload input[name=image]").set_input_files(
        {"name": "caves.png", "mimeType": "image/png", "buffer": dungeon_png()}
    )
    await page.get_by_label("Map name").fill("Caves of Chaos")
    await page.get_by_role("button", name="Upload map").click()
    await expect(page.locator(".map-title")).to_have_text("Caves of Chaos", timeout=TIMEOUT)
    await expect(player_seat.page.locator(".map-title")).to_have_text("Caves of Chaos", timeout=TIMEOUT)

    source = page.locator(".map-dm-actions select[name=source]")
    await source.select_option(label="Aldric")
    await page.get_by_role("button", name="Place token").click()
    await source.select_option(label="Goblin #1")
    await page.get_by_role("button", name="Place token").click()
    await expect(page.locator(".panel-map .token")).to_have_count(2, timeout=TIMEOUT)
    tokens = await tokens_by_label(dm_seat)
    middle = await token_at(dm_seat, tokens["Goblin #1"])
    assert middle is not None
    await drag(dm_seat, middle, (1025, 225))  # the DM moves the goblin into the far room, under fog
    await wait_token_at(dm_seat, tokens["Goblin #1"], 1025, 225)

    await page.get_by_role("button", name="Reveal", exact=True).click()
    await drag(dm_seat, (ROOM_A[0] + 5, ROOM_A[1] + 5), (ROOM_A[2] - 5, ROOM_A[3] - 5))
    aldric = player_seat.page.locator(f'.panel-map .token[data-token-id="{tokens["Aldric"]}"]')
    await expect(aldric).to_be_visible(timeout=TIMEOUT)  # the room is revealed: the token appears
    assert await player_seat.page.locator(".panel-map .token").count() == 1  # the goblin stays under fog

    start = await token_at(player_seat, tokens["Aldric"])
    assert start is not None
    await drag(player_seat, start, (680, 520), steps=20)
    await wait_token_at(player_seat, tokens["Aldric"], 680, 520)
    await wait_token_at(dm_seat, tokens["Aldric"], 680, 520)  # the DM's screen follows
    await page.get_by_role("button", name="Move", exact=True).click()
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for seat, name in ((dm_seat, "battle-map-dm.png"), (player_seat, "battle-map-player.png")):
            await seat.page.locator(".panel-map").scroll_into_view_if_needed()
            await seat.page.screenshot(path=str(out / name))
    return {"dm": dm_seat, "player": player_seat, "tokens": tokens, "session_id": session_id, "client": dm}


async def main(out: Path) -> None:
    from playwright.async_api import async_playwright

    from server.settings import Settings
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database_url=f"sqlite:///{folder}/vtt.db", upload_dir=Path(folder) / "uploads")
        server = await LiveServer(settings).start()
        try:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    seats = await story(browser, server, out)
                    for key in ("dm", "player"):
                        await seats[key].close()
                finally:
                    await browser.close()
        finally:
            await server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    asyncio.run(main(parser.parse_args().out))
