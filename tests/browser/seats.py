"""One browser context per person at the table, with everything its page receives recorded."""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass, field
from typing import Any

import pytest

try:
    from playwright.async_api import BrowserContext, Page, expect
except ImportError as exc:  # where playwright is missing the browser tests skip, under CI=true they fail
    if os.environ.get("CI", "").lower() == "true":
        raise
    pytest.skip(f"playwright is not installed ({exc}); pip install -e '.[test]'", allow_module_level=True)

from tests.live import PASSWORD, LiveServer

TIMEOUT = 15_000  # ms, for every wait on the page


@dataclass
class Seat:
    context: BrowserContext
    page: Page
    frames: list[Any] = field(default_factory=list)  # every WebSocket frame the page received
    responses: list[tuple[str, Any]] = field(default_factory=list)  # (url, body) of every /api/ response
    errors: list[str] = field(default_factory=list)  # uncaught page errors and console errors
    _pending: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def connection(self):
        return self.page.locator("#connection .label")

    async def settle(self) -> None:
        """Wait until every response body seen so far has been read."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def close(self) -> None:
        await self.context.close()
        await self.settle()


async def open_seat(
    browser: Any,
    server: LiveServer,
    username: str,
    *,
    block_websocket: bool = False,
    viewport: dict[str, int] | None = None,
    query: str = "",
    touch: bool = False,
) -> Seat:
    """A fresh browser context, logged in through the login form (`touch`: a touch screen, as a phone's)."""
    context = await browser.new_context(viewport=viewport or {"width": 1280, "height": 900}, has_touch=touch)
    if block_websocket:
        # As a proxy that does not pass WebSockets: every socket is closed before the server says hello.
        async def refuse(route: Any) -> None:
            await route.close(code=1011, reason="blocked by the test")

        await context.route_web_socket("**/api/realtime/ws*", refuse)
    page = await context.new_page()
    seat = Seat(context, page)
    page.on("websocket", lambda socket: socket.on("framereceived", lambda payload: seat.frames.append(payload)))

    async def read(response: Any) -> None:
        try:
            text = await response.text()
        except Exception:  # the page went away before the body arrived
            return
        try:
            seat.responses.append((response.url, json.loads(text)))
        except ValueError:
            seat.responses.append((response.url, text))

    def on_response(response: Any) -> None:
        if "/api/" in response.url:
            task = asyncio.ensure_future(read(response))
            seat._pending.add(task)
            task.add_done_callback(seat._pending.discard)

    page.on("response", on_response)
    page.on("pageerror", lambda error: seat.errors.append(f"pageerror: {error}"))
    page.on("console", lambda message: seat.errors.append(message.text) if message.type == "error" else None)
    await page.goto(f"{server.url}/{query}#/login")
    await page.get_by_label("Username or email").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("heading", name="My game sessions")).to_be_visible(timeout=TIMEOUT)
    return seat


async def sit_at_table(seat: Seat, session_id: int) -> None:
    await seat.page.goto(f"{seat.page.url.split('#')[0]}#/table/{session_id}")
    await expect(seat.page.locator(".table-screen")).to_be_visible(timeout=TIMEOUT)


def hp_text(seat: Seat, panel: str, name: str):
    return seat.page.locator(f".panel-{panel} :is(li, article)", has_text=name).locator(".hp-text")


def monster_numbers(value: Any, path: str = "") -> list[str]:
    """Paths in a received JSON value where a monster instance carries numbers a player may not see."""
    found: list[str] = []
    if isinstance(value, dict):
        if "instance_id" in value:
            for key in ("current_hp", "max_hp", "old_hp", "armor_class", "damage", "healing", "treasure", "notes"):
                if key in value:
                    found.append(f"{path}.{key}")
        for key, item in value.items():
            found += monster_numbers(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += monster_numbers(item, f"{path}[{index}]")
    return found


async def received_by(seat: Seat) -> list[tuple[str, Any]]:
    """Everything the page received: WebSocket frames and /api/ response bodies, parsed."""
    await seat.settle()
    received: list[tuple[str, Any]] = []
    for frame in seat.frames:
        try:
            received.append(("websocket", json.loads(frame)))
        except (TypeError, ValueError):
            received.append(("websocket", frame))
    return received + list(seat.responses)
