"""Browser tests: Debian's chromium driven by Python playwright against a real server (tests/live.py).

Where chromium or playwright is missing the tests skip with the reason; under CI=true they fail instead."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, unavailable


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    try:
        from playwright.async_api import async_playwright
    except ImportError as exc:
        unavailable(f"playwright is not installed ({exc}); pip install -e '.[test]'")
    if not Path(CHROMIUM).exists():
        unavailable(f"chromium is not installed at {CHROMIUM}; apt-get install chromium (or set CHROMIUM_PATH)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()
