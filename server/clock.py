"""Time as the database stores it: UTC, 'YYYY-MM-DD HH:MM:SS' text or epoch seconds."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def now_epoch() -> int:
    return int(time.time())
