"""Time as the database stores it: UTC, 'YYYY-MM-DD HH:MM:SS' text or epoch seconds."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import overload

TEXT_FORMAT = "%Y-%m-%d %H:%M:%S"


def now_text() -> str:
    return text(datetime.now(UTC))


def text(moment: datetime) -> str:
    """An aware datetime as the database stores it."""
    return moment.astimezone(UTC).strftime(TEXT_FORMAT)


def now_epoch() -> int:
    return int(time.time())


@overload
def iso(text: str) -> str: ...
@overload
def iso(text: None) -> None: ...
def iso(text: str | None) -> str | None:
    """A stored 'YYYY-MM-DD HH:MM:SS' (UTC) as ISO 8601 with Z, as the platform API (/v1) answers times."""
    return None if text is None else text.replace(" ", "T") + "Z"


def iso_from_epoch(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
