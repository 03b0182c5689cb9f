"""JSON encoding: the only module that imports orjson."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

DecodeError = orjson.JSONDecodeError

# orjson's own functions, not wrappers: a drag position is decoded and encoded once each (a call less).
dumps: Callable[[Any], bytes] = orjson.dumps
loads: Callable[[bytes | str], Any] = orjson.loads


def dumps_text(value: Any) -> str:
    return orjson.dumps(value).decode()
