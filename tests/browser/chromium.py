"""Where the browser tests find Chromium, how they launch it, and what they do when it is missing."""

from __future__ import annotations

import os

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def unavailable(reason: str) -> None:
    """Skip, or under CI=true fail: a CI run must not pass by skipping the browser."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)
